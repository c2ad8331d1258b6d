"""Alembic migrations: from empty, from the previous revision, concurrently, and matching the tables the code reads."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from validator.store import HEAD_REVISION, current_revision, head_revision, make_engine, upgrade
from validator.store.tables import metadata


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_from_empty_reaches_head_and_matches_the_tables_the_code_reads(database_url):
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None and _tables(engine) == set()
        upgrade(engine)
        assert current_revision(engine) == head_revision() == HEAD_REVISION == "0002"
        assert {"cds_cards", "cds_feedback", "used_tokens", "audit_events", "medval_values"} <= _tables(engine)
        with engine.connect() as connection:
            # the migrations and tables.py describe the same schema: nothing for autogenerate to add or drop
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_upgrade_from_the_previous_revision_adds_the_audit_trail_and_keeps_the_data(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        assert "cds_cards" in _tables(engine) and "audit_events" not in _tables(engine)
        with engine.begin() as db:
            db.exec_driver_sql("INSERT INTO medval_values (name, value) VALUES ('kept', 'yes')")
        upgrade(engine)
        assert current_revision(engine) == "0002" and "audit_events" in _tables(engine)
        with engine.begin() as db:
            assert db.exec_driver_sql("SELECT value FROM medval_values WHERE name = 'kept'").scalar_one() == "yes"
        upgrade(engine)  # at head already: a no-op, not an error
        assert current_revision(engine) == "0002"
    finally:
        engine.dispose()


def test_workers_upgrading_at_the_same_moment_create_the_tables_once(database_url):
    engines = [make_engine(database_url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def run(engine) -> None:
        start.wait()
        try:
            upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert current_revision(engines[0]) == "0002"
        with engines[0].begin() as db:
            assert db.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    finally:
        for engine in engines:
            engine.dispose()
