"""What each validation leaves behind: an audit record in the store, and findings counted in the metrics.

The audit record is the one protected place for patient and order references; the log lines keep only
request ids and rule codes. A failed audit write is logged and counted, and the clinical answer still goes out.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from validator import Report
from validator.findings import SEVERITY_RANK, effective_severity

from ..store import AuditRecord, Store
from .metrics import FINDINGS

log = logging.getLogger("medval.http")
_MAX_ORDER_REFS = 50

CHECKED, REFUSED, FAILED = "0", "4", "8"  # AuditEvent.outcome: success, minor failure (input refused), serious failure


def findings_of(report: Report | None) -> list[tuple[str, str]]:
    """(rule code, severity) of each distinct finding, worst first."""
    if report is None:
        return []
    pairs = {(f.rule, effective_severity(f)) for f in report.findings}
    return sorted(pairs, key=lambda p: (-SEVERITY_RANK[p[1]], p[0]))


def count_findings(findings: list[tuple[str, str]]) -> None:
    for rule, severity in findings:
        FINDINGS.labels(rule, severity).inc()


def _resource(document: Any) -> Any:
    if isinstance(document, dict) and document.get("resourceType") == "Parameters":
        parameters = document.get("parameter")
        for parameter in parameters if isinstance(parameters, list) else []:
            if isinstance(parameter, dict) and parameter.get("name") == "resource":
                return parameter.get("resource")
    return document


def references(raw: bytes) -> tuple[str | None, list[str]]:
    """The patient and the orders a $validate body is about (best effort: a body medval refused may have neither)."""
    try:
        document = _resource(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return None, []
    if not isinstance(document, dict):
        return None, []
    resources = [document]
    if document.get("resourceType") == "Bundle":
        entries = document.get("entry") if isinstance(document.get("entry"), list) else []
        resources = [e.get("resource") for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    patient: str | None = None
    orders: list[str] = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != "MedicationRequest":
            continue
        if isinstance(resource.get("id"), str):
            orders.append(f"MedicationRequest/{resource['id']}")
        subject = resource.get("subject")
        if patient is None and isinstance(subject, dict) and isinstance(subject.get("reference"), str):
            patient = subject["reference"]
    return patient, orders[:_MAX_ORDER_REFS]


async def write(store: Store | None, record: AuditRecord) -> None:
    count_findings([(rule, severity) for rule, severity in record.findings])
    if store is None:
        return
    try:
        await run_in_threadpool(store.audit, record)
    except Exception as exc:  # the answer matters more than its audit line; the failure is loud in the log
        log.error("audit-write-failed", extra={"fields": {"request_id": record.request_id, "error_type": type(exc).__name__}})


async def audit_validation(request: Any, resource_type: str, body: bytes, report: Report, status: int) -> None:
    """The audit record of one $validate call (called by the FHIR router once the answer is known)."""
    patient, orders = await run_in_threadpool(references, body)
    state = request.state
    record = AuditRecord(
        request_id=getattr(state, "request_id", ""),
        operation=f"validate-{resource_type}",
        outcome=CHECKED if status < 400 else REFUSED,
        profiles=list(report.profiles_applied),
        findings=findings_of(report),
        patient_ref=patient,
        order_refs=orders,
        caller=getattr(state, "caller", None),
    )
    await write(getattr(request.app.state, "store", None), record)
