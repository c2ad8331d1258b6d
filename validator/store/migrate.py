"""Engines and migrations. Upgrades are serialised: a PostgreSQL advisory lock, or SQLite's write lock
(every SQLite transaction here begins IMMEDIATE), so two workers starting together never both create tables."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions (a test checks it): a worker finding the database there
# starts without importing Alembic at all.
HEAD_REVISION = "0002"
_UPGRADE_LOCK_KEY = int.from_bytes(b"medval", "big")  # the pg_advisory_xact_lock key for upgrades
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (created with its folder), an in-memory SQLite database, or PostgreSQL (psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # timestamps are compared and grouped by day in UTC, whatever the server's own time zone
        return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=utc"})
    database = parsed.database or ""
    in_memory = database in ("", ":memory:")
    if in_memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        if not in_memory:
            _use_wal(cursor)  # readers never wait for the writer
            # NORMAL: durable when a process dies (SIGKILL included); a power cut may lose the last commits, never
            # corrupt the file. FULL adds an fsync to every audit write (about 1-2 ms per request measured here).
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can then never fail with
        # "database is locked" halfway; it waits its turn (busy_timeout) instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch a new SQLite file to WAL once. The switch needs the file to itself, and SQLite answers "database is
    locked" at once (no busy wait) when workers opening a brand-new file race for it: retried for a few seconds.
    The mode is kept in the file, so every later connection finds it set and skips this."""
    for _ in range(100):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            time.sleep(0.05)
    cursor.execute("PRAGMA journal_mode=WAL")  # still locked after 5 s: let the error say so


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision, as Alembic reads it from migrations/versions."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.begin() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def ensure_current(engine: Engine) -> None:
    """Upgrade to head unless the database is there already (the common case: every worker start after the first)."""
    if current_revision(engine) != HEAD_REVISION:
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`, holding the upgrade lock; a no-op when it is already there."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
