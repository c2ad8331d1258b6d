"""`medval db upgrade` and `medval db purge`, on each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from validator.cli import app
from validator.store import AuditRecord, Store, StoreSettings, current_revision, make_engine


def test_db_upgrade_creates_the_tables_and_purge_keeps_what_is_within_retention(database_url, monkeypatch):
    monkeypatch.setenv("MEDVAL_DATABASE_URL", database_url)
    monkeypatch.setenv("MEDVAL_AUDIT_RETENTION_DAYS", "90")
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and "at revision 0002" in " ".join(result.output.split())
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "0002"
    finally:
        engine.dispose()
    store = Store.open(StoreSettings(database_url=database_url))
    now = datetime.now(UTC)
    try:
        for days, request_id in ((100, "old"), (80, "recent")):
            store.audit(AuditRecord(request_id, "validate-Bundle", "0", [], [], None, [], recorded_at=now - timedelta(days=days)))
        store.remember_token("https://ehr.example", "spent", now - timedelta(minutes=1))
        result = runner.invoke(app, ["db", "purge"])
        assert result.exit_code == 0
        assert "deleted 1 audit record(s) older than 90 days and 1 expired token id(s)" in " ".join(result.output.split())
        assert [r.request_id for r in store.audit_search()] == ["recent"]
    finally:
        store.close()
