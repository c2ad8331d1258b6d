"""Databases for the store tests: a SQLite file always, PostgreSQL when 127.0.0.1:5432 answers.

Other test runs share that PostgreSQL server, so each test process creates its own database
(medval_test_<random>) and drops it at the end.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from validator.store import Store, StoreSettings, make_engine, upgrade
from validator.store.tables import metadata

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def _admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


class Databases:
    """Hands out databases of one kind: new empty ones (SQLite files, or PostgreSQL databases dropped at teardown),
    or the session's shared one, migrated and emptied of rows (creating and dropping a PostgreSQL database is slow)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.created: list[str] = []
        self.shared: str | None = None

    def clean_url(self) -> str:
        if self.shared is None:
            self.shared = self.new_url()
            engine = make_engine(self.shared)
            upgrade(engine)
            engine.dispose()
        engine = make_engine(self.shared)
        try:
            with engine.begin() as db:
                for table in reversed(metadata.sorted_tables):
                    db.execute(table.delete())
        finally:
            engine.dispose()
        return self.shared

    def new_url(self) -> str:
        name = f"medval_test_{secrets.token_hex(6)}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (name + '.sqlite3')}"
        _admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    if request.param == "postgresql" and not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432; the store is tested on SQLite only")
    made = Databases(request.param, tmp_path_factory.mktemp("databases"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture
def database_url(databases: Databases) -> str:
    """A new, empty database (no tables)."""
    return databases.new_url()


@pytest.fixture
def clean_url(databases: Databases) -> str:
    """A database at the newest revision with no rows."""
    return databases.clean_url()


@pytest.fixture
def store(clean_url: str) -> Iterator[Store]:
    opened = Store.open(StoreSettings(database_url=clean_url, audit_retention_days=30))
    yield opened
    opened.close()
