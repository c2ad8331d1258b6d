"""GET /fhir/AuditEvent: the audit trail as a FHIR R4 searchset Bundle (search by date, patient, outcome).

The audit trail names patients, so the endpoint is closed unless a caller can be authenticated:
- with trusted clients configured (MEDVAL_CDS_CLIENTS), a bearer JWT from one of them, for this URL, whose
  `scope` holds an admin scope (ADMIN_SCOPES);
- without them, only if MEDVAL_AUDIT_ALLOW_ANONYMOUS=true (development); otherwise 403.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ..store import AuditRecord, Store
from ..store.store import AUDIT_SEARCH_MAX
from .cds_security import JwtVerifier
from .fhir_access import require_scope
from .problems import RequestProblem, plain_outcome
from .responses import FHIRResponse, outcome_response, resource_response

log = logging.getLogger("medval.http")

ADMIN_SCOPES = frozenset({"system/AuditEvent.read", "system/AuditEvent.rs", "user/AuditEvent.read", "medval/admin"})
_OUTCOME_TEXT = {"0": "checked", "4": "input refused", "8": "medval failed"}
_EVENT_TYPE = {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"}
_OPERATION = {"system": "http://hl7.org/fhir/restful-interaction", "code": "operation", "display": "operation"}
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
REQUEST_ID_SYSTEM = "urn:medval:request-id"


class _Unauthorised(Exception):
    def __init__(self, response: FHIRResponse) -> None:
        self.response = response


def _bad(message: str) -> RequestProblem:
    return RequestProblem(400, "invalid", message, False)


_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def _moment(text: str) -> tuple[datetime, datetime]:
    """The span a FHIR date search value covers: a year, a month or a day for a (partial) date, an instant for a
    date-time; [start, end)."""
    try:
        partial = _PARTIAL_DATE.fullmatch(text)
        if partial:
            year, month, day = (int(g) if g else None for g in partial.groups())
            start = datetime(year, month or 1, day or 1, tzinfo=UTC)
            if day is not None:
                return start, start + timedelta(days=1)
            if month is not None:
                return start, datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
            return start, datetime(year + 1, 1, 1, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise _bad(f"date {text[:40]!r} is not a FHIR date or dateTime.") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment


def date_window(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """date=ge2026-01-01&date=le2026-01-31 (prefixes eq, ge, gt, le, lt; none means eq), as FHIR search reads a
    value's span: ge from its start, gt after its end, le to its end, lt before its start."""
    since: datetime | None = None
    until: datetime | None = None
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", value)
        start, end = _moment(rest)
        low = {"ge": start, "eq": start, "gt": end}.get(prefix)
        high = {"le": end, "eq": end, "lt": start}.get(prefix)
        if low is not None:
            since = max(since, low) if since else low
        if high is not None:
            until = min(until, high) if until else high
    return since, until


def audit_event(record: AuditRecord) -> dict[str, Any]:
    findings = ", ".join(f"{rule} ({severity})" for rule, severity in record.findings) or "none"
    entities: list[dict[str, Any]] = [
        {
            "what": {"identifier": {"system": REQUEST_ID_SYSTEM, "value": record.request_id}},
            "type": {"system": _ENTITY_TYPE, "code": "2", "display": "System Object"},
            "description": record.operation,
            "detail": [
                {"type": "profiles", "valueString": ", ".join(record.profiles) or "none"},
                {"type": "findings", "valueString": findings},
            ],
        }
    ]
    if record.patient_ref:
        entities.append(
            {
                "what": {"reference": record.patient_ref},
                "type": {"system": _ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": _OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    entities += [
        {"what": {"reference": order}, "type": {"system": _ENTITY_TYPE, "code": "2", "display": "System Object"}}
        for order in record.order_refs
    ]
    agent: dict[str, Any] = {"requestor": True}
    agent["who"] = {"identifier": {"value": record.caller}} if record.caller else {"display": "unauthenticated caller"}
    return {
        "resourceType": "AuditEvent",
        "id": record.id,
        "type": _EVENT_TYPE,
        "subtype": [_OPERATION],
        "action": "E",
        "recorded": record.recorded_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": record.outcome,
        "outcomeDesc": f"{record.operation}: {_OUTCOME_TEXT.get(record.outcome, record.outcome)}; findings: {findings}",
        "agent": [agent],
        "source": {"observer": {"display": "medval"}},
        "entity": entities,
    }


def build_audit_router(store: Store, verifier: JwtVerifier, public_url: str | None, allow_anonymous: bool) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["FHIR"])

    async def authorise(request: Request) -> None:
        bearer = getattr(request.app.state, "auth", None)
        if bearer is not None and bearer.enabled:  # FHIR endpoint authentication (MEDVAL_AUTH_*): its admin scope
            await require_scope(request, bearer.settings.admin_scope)
            return
        if not verifier.enabled:
            if allow_anonymous:
                return
            raise RequestProblem(
                403,
                "forbidden",
                "The audit trail is closed: configure token issuers (MEDVAL_AUTH_ISSUERS) or trusted CDS clients "
                "(MEDVAL_CDS_CLIENTS) to authenticate administrators, "
                "or set MEDVAL_AUDIT_ALLOW_ANONYMOUS=true on a development machine.",
                False,
            )
        audience = (public_url.rstrip("/") + request.url.path) if public_url else str(request.url.replace(query=""))
        claims, reason = await verifier.verify(request.headers.get("authorization"), audience)
        if claims is None:
            log.warning("audit-auth-refused", extra={"fields": {"request_id": getattr(request.state, "request_id", "")}})
            outcome = plain_outcome("error", "login", "A valid bearer token is required to read the audit trail.")
            raise _Unauthorised(FHIRResponse(outcome, 401, {"WWW-Authenticate": "Bearer"}))
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & ADMIN_SCOPES:
            raise RequestProblem(403, "forbidden", f"The token lacks an admin scope ({', '.join(sorted(ADMIN_SCOPES))}).", False)

    @router.get(
        "/AuditEvent",
        response_class=FHIRResponse,
        summary="Search the audit trail",
        responses={
            200: resource_response("A searchset Bundle of AuditEvent resources, newest first."),
            400: outcome_response("A search parameter medval cannot read."),
            401: outcome_response("No valid bearer token (when authentication is configured)."),
            403: outcome_response("No admin scope, or the audit trail is closed."),
        },
    )
    async def search(
        request: Request,
        date: list[str] = Query(default_factory=list, description="ge/le/gt/lt/eq prefixed FHIR date or dateTime"),
        patient: str | None = Query(None, description="Patient/<id> or <id>"),
        outcome: str | None = Query(None, description="0 checked, 4 input refused, 8 medval failed"),
        count: int = Query(100, alias="_count", ge=0, le=AUDIT_SEARCH_MAX),
    ) -> FHIRResponse:
        try:
            await authorise(request)
        except _Unauthorised as refusal:
            return refusal.response
        since, until = date_window(date)
        if patient is not None and not patient.startswith("Patient/"):
            patient = f"Patient/{patient}"
        records = await run_in_threadpool(store.audit_search, since, until, patient, outcome, count)
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(records),
            "link": [{"relation": "self", "url": str(request.url)}],
            "entry": [{"fullUrl": f"urn:uuid:{r.id}", "resource": audit_event(r), "search": {"mode": "match"}} for r in records],
        }
        return FHIRResponse(bundle)

    return router
