"""The Store on each database: cards and feedback, the summary window, replay protection, audit search, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from validator.store import AuditRecord, FeedbackItem, IssuedCard, Store, StoreSettings
from validator.store import tables as t


def _card(uuid: str, rule: str = "route-not-permitted", patient: str = "Patient/p1") -> IssuedCard:
    return IssuedCard(
        uuid,
        "medval-order-sign",
        "hook-1",
        rule,
        "critical",
        "medval baclofen profile 1",
        patient,
        "MedicationRequest/a",
        {"s1": "Use oral"},
    )


def _override(card: str, reason: str | None = "specialist-directed") -> FeedbackItem:
    return FeedbackItem(card, "overridden", "2026-11-20T10:00:00Z", reason, "https://medval.dev/fhir/CodeSystem/cds-override-reason")


def test_feedback_is_attributed_to_the_card_rule_and_a_never_issued_card_is_not_stored(store: Store):
    store.record_cards([_card("c-route"), _card("c-dose", rule="dose-above-max-daily")])
    rules = store.record_feedback(
        "medval-order-sign",
        [
            _override("c-route"),
            _override("c-dose", None),
            FeedbackItem("c-route", "accepted", "t", accepted_suggestions=("s1",)),
            _override("forged"),
        ],
    )
    assert rules == ["route-not-permitted", "dose-above-max-daily", "route-not-permitted", None]
    summary = store.feedback_summary()
    assert summary["byRule"]["route-not-permitted"] == {
        "accepted": 1,
        "overridden": 1,
        "overrideReasons": {"specialist-directed": 1},
        "acceptedSuggestions": {"Use oral": 1},
    }
    assert summary["byRule"]["dose-above-max-daily"] == {"accepted": 0, "overridden": 1, "overrideReasons": {"none": 1}}
    assert summary["totals"] == {"accepted": 1, "overridden": 2}
    assert {d["rule"] for d in summary["byDay"]} == {"route-not-permitted", "dose-above-max-daily"}
    with store.engine.begin() as db:
        assert db.execute(select(func.count()).select_from(t.feedback)).scalar_one() == 3  # the forged card left no row


def test_the_summary_window_excludes_feedback_outside_it(store: Store):
    store.record_cards([_card("c1")])
    store.record_feedback("medval-order-sign", [_override("c1")])
    now = datetime.now(UTC)
    assert store.feedback_summary(since=now - timedelta(minutes=5))["totals"]["overridden"] == 1
    assert store.feedback_summary(since=now + timedelta(minutes=5))["totals"]["overridden"] == 0
    assert store.feedback_summary(until=now - timedelta(minutes=5))["totals"]["overridden"] == 0


def test_the_patient_reference_is_stored_only_as_a_keyed_hash_every_store_on_the_database_agrees_on(store: Store, clean_url):
    store.record_cards([_card("c1", patient="Patient/secret-id-42")])
    with store.engine.begin() as db:
        row = db.execute(select(t.cards)).mappings().one()
    assert "secret-id-42" not in str(dict(row))
    other = Store.open(StoreSettings(database_url=clean_url))  # another worker: reads the generated key, makes none
    try:
        assert other.patient_hash("Patient/secret-id-42") == row["patient_hash"]
        assert other.patient_hash("Patient/secret-id-43") != row["patient_hash"]
    finally:
        other.close()
    configured = Store(store.engine, StoreSettings(patient_hash_secret="from-the-vault"))
    assert configured.patient_hash("Patient/secret-id-42") != row["patient_hash"]


def test_a_token_id_is_accepted_once_and_purged_only_after_it_expires(store: Store):
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert store.remember_token("https://ehr.example", "jti-1", soon) is True
    assert store.remember_token("https://ehr.example", "jti-1", soon) is False
    assert store.remember_token("https://other.example", "jti-1", soon) is True  # ids are per issuer
    assert store.purge()["used_tokens"] == 0
    assert store.remember_token("https://ehr.example", "jti-1", soon) is False
    assert store.purge(now=soon + timedelta(seconds=1))["used_tokens"] == 2


def test_audit_search_by_date_patient_and_outcome_and_retention(store: Store):
    now = datetime.now(UTC)
    old = AuditRecord("r-old", "validate-MedicationRequest", "0", [], [], "Patient/p1", [], recorded_at=now - timedelta(days=40))
    checked = AuditRecord(
        "r-1",
        "validate-Bundle",
        "0",
        ["medval baclofen profile 1"],
        [("dose-above-max-daily", "error")],
        "Patient/p1",
        ["MedicationRequest/a"],
    )
    refused = AuditRecord("r-2", "cds-medval-order-sign", "4", [], [], "Patient/p2", [], caller="iss=https://ehr.example")
    for record in (old, checked, refused):
        store.audit(record)
    assert [r.request_id for r in store.audit_search(patient="Patient/p1")] == ["r-1", "r-old"]
    assert [r.request_id for r in store.audit_search(outcome="4")] == ["r-2"]
    assert [r.request_id for r in store.audit_search(since=now - timedelta(days=1), patient="Patient/p1")] == ["r-1"]
    [found] = store.audit_search(since=now - timedelta(days=1), outcome="0")
    assert found.findings == [("dose-above-max-daily", "error")] and found.order_refs == ["MedicationRequest/a"]
    assert found.recorded_at.tzinfo is not None and abs(found.recorded_at - checked.recorded_at) < timedelta(seconds=1)
    assert store.purge()["audit_events"] == 1  # retention is 30 days in this fixture: only the 40-day-old record goes
    assert {r.request_id for r in store.audit_search()} == {"r-1", "r-2"}
