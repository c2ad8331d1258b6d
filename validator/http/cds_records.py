"""What the CDS Hooks services hand to the store: the cards they issued, the feedback kept, the audit record of a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .. import Report
from ..context.from_server import FHIR_ID
from ..store import AuditRecord, FeedbackItem, IssuedCard
from .audit_trail import findings_of
from .cds_cards import CardBuilder
from .metrics import CARDS_ISSUED


def summary_window(value: str | None, name: str) -> datetime | None:
    """?since= / ?until= of the feedback summary: an ISO 8601 date or date-time (UTC when no zone); ValueError otherwise.
    A date alone covers its whole day: until=2026-12-01 includes the 1st."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date or date-time.") from None
    if name == "until" and len(value) == 10:
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def feedback_items(items: list[dict[str, Any]]) -> list[FeedbackItem]:
    """What is kept of each (validated) feedback: never the free-text userComment, which may name the patient."""
    kept = []
    for item in items:
        coding = (item.get("overrideReason") or {}).get("reason") or {}
        reason = coding.get("code")
        if item["outcome"] == "overridden" and reason is None:
            reason = "comment-only" if (item.get("overrideReason") or {}).get("userComment") else "none"
        accepted = tuple(s["id"] for s in item.get("acceptedSuggestions") or [])
        kept.append(FeedbackItem(item["card"], item["outcome"], item["outcomeTimestamp"], reason, coding.get("system"), accepted))
    return kept


def issued_cards(service_id: str, body: dict[str, Any], cards: list[dict[str, Any]], builder: CardBuilder) -> list[IssuedCard]:
    issued = []
    for card in cards:
        record = builder.records.get(card["uuid"])
        if record is None:
            continue
        issued.append(
            IssuedCard(
                uuid=card["uuid"],
                service=service_id,
                hook_instance=body["hookInstance"],
                rule=record.rule,
                severity=card["indicator"],
                profile_version=card["source"]["label"],
                patient_ref=f"Patient/{body['context']['patientId']}",
                order_ref=record.order,
                suggestions=record.suggestions,
            )
        )
        CARDS_ISSUED.labels(service_id, record.rule, card["indicator"]).inc()
    return issued


def call_audit(state: Any, service_id: str, body: Any, report: Report | None, orders: list[str], outcome: str) -> AuditRecord:
    """The audit record of one hook call; `state` is the request's (request id, caller), or None."""
    context = body.get("context") if isinstance(body, dict) else None
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    return AuditRecord(
        request_id=getattr(state, "request_id", ""),
        operation=f"cds-{service_id}",
        outcome=outcome,
        profiles=list(report.profiles_applied) if report else [],
        findings=findings_of(report),
        patient_ref=f"Patient/{patient_id}" if isinstance(patient_id, str) and FHIR_ID.match(patient_id) else None,
        order_refs=orders,
        caller=getattr(state, "caller", None),
    )
