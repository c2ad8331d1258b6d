"""parse -> normalise -> context -> rules: findings for every MedicationRequest in a document."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import conformance
from .context import ContextUnavailable, PatientContext
from .context.from_bundle import BundleIndex, contained_resolver
from .findings import Finding, effective_severity
from .normalise import normalise_order
from .parse import ACCEPTED_TYPES, ParseFailure, detect_version, load_document, parse_resource, strip_non_finite
from .profile import ProfileSet, default_profiles
from .rules import run_rules

# Looks up patient context for a lone order (e.g. from the hospital's FHIR server).
ContextProvider = Callable[[Any], PatientContext | ContextUnavailable | None]


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)  # expressions are absolute FHIRPaths
    version: str = "4.0"
    rejected: ParseFailure | None = None  # input that is no acceptable FHIR resource at all
    resource_type: str = ""
    profiles_applied: list[str] = field(default_factory=list)
    profiles_requested: list[str] = field(default_factory=list)  # Parameters.parameter named "profile" ($validate)
    orders: int = 0


def _absolute_expression(finding: Finding, prefix: str) -> str:
    return f"{prefix}.{finding.expression}" if finding.expression else prefix


def _absolute(finding: Finding, prefix: str) -> Finding:
    return dataclasses.replace(finding, expression=_absolute_expression(finding, prefix))


def _parameters(document: dict[str, Any]) -> list[Any]:
    parameters = document.get("parameter")
    return parameters if isinstance(parameters, list) else []  # a malformed Parameters is judged by what it lacks, never crashed on


def _unwrap_parameters(document: dict[str, Any]) -> dict[str, Any] | ParseFailure:
    for parameter in _parameters(document):
        if isinstance(parameter, dict) and parameter.get("name") == "resource" and isinstance(parameter.get("resource"), dict):
            return parameter["resource"]
    return ParseFailure("The Parameters resource has no 'resource' parameter holding the resource to validate.")


def _requested_profiles(document: dict[str, Any]) -> list[str]:
    values = []
    for parameter in _parameters(document):
        if isinstance(parameter, dict) and parameter.get("name") == "profile":
            value = parameter.get("valueUri") or parameter.get("valueCanonical") or parameter.get("valueString")
            if isinstance(value, str):
                values.append(value)
    return values


def _check_order(
    resource: dict[str, Any],
    version: str,
    prefix: str,
    profiles: ProfileSet,
    resolve: Callable[[str], Any],
    context: PatientContext | ContextUnavailable | None,
    report: Report,
    clean: bool = False,
    parsed: Any = None,
) -> None:
    """`clean`: the document is known to hold no NaN/Infinity; `parsed`: its model, when a Bundle index already built it."""
    notes = [] if clean else strip_non_finite(resource)
    model, problems = (parsed, []) if parsed is not None else parse_resource(resource, version, prefix)
    report.orders += 1
    if model is None:
        report.findings += problems
        return
    order = normalise_order(model, profiles, contained_resolver(model, resolve), notes)
    profile = order.medication.profile
    if profile is None:
        if order.medication.described:
            text = f"{order.medication.description!r} is not covered by any loaded profile; it was not checked."
            finding = Finding("not-in-scope", text, order.medication.expression, "medval: loaded profiles")
        else:
            text = "The order names no medication medval can identify (no code, no text, no resolvable reference)."
            finding = Finding("medication-unidentified", text, order.medication.expression, "medval")
        report.findings.append(_absolute(finding, prefix))
        return
    if profile.label not in report.profiles_applied:
        report.profiles_applied.append(profile.label)
    # one copy per finding: absolute expression and effective severity together
    findings = [
        dataclasses.replace(f, expression=_absolute_expression(f, prefix), severity=effective_severity(f, profile.severity))
        for f in run_rules(order, context, profile)
    ]
    if not findings:
        done = Finding("no-issues", f"Nothing to report: the order was checked against the {profile.label}.", prefix, profile.label)
        findings = [dataclasses.replace(done, severity=effective_severity(done, profile.severity))]
    report.findings += findings


def check_document(
    data: bytes | str | dict[str, Any],
    fhir_version: str | None = None,
    profiles: ProfileSet | None = None,
    context_provider: ContextProvider | None = None,
    expected_type: str | None = None,
    requested_profiles: list[str] | None = None,
) -> Report:
    """Findings for a MedicationRequest, a Bundle of them, or a Parameters wrapping either.

    `requested_profiles`: profiles named outside the body ($validate's ?profile=), added to those in Parameters.
    """
    profiles = profiles or default_profiles()
    document, non_finite = load_document(data)
    if isinstance(document, ParseFailure):
        return Report(findings=[Finding("input-invalid", document.message, "")], rejected=document)
    requested: list[str] = []
    envelope = document if document.get("resourceType") == "Parameters" else None
    if envelope is not None:
        requested = _requested_profiles(document)
        document = _unwrap_parameters(document)
        if isinstance(document, ParseFailure):
            return Report(
                findings=[Finding("input-invalid", document.message, "Parameters")], rejected=document, profiles_requested=requested
            )
    kind = document.get("resourceType")
    version = detect_version(document, fhir_version)
    requested = requested + [p for p in requested_profiles or () if p not in requested]
    report = Report(version=version, resource_type=str(kind), profiles_requested=requested)
    if kind not in ACCEPTED_TYPES or (expected_type and kind != expected_type):
        wanted = expected_type or "a MedicationRequest or a Bundle"
        report.rejected = ParseFailure(f"A {kind} was sent where {wanted} was expected.")
        report.findings.append(Finding("input-invalid", report.rejected.message, str(kind)))
        return report
    # --- conformance (issue 17): structural issues first; the clinical layer reads only trusted values ---
    structural, document = structural_findings(document, version, requested, envelope)
    report.findings += structural
    if kind == "MedicationRequest":
        context = _provided_context(context_provider, document)
        _check_order(document, version, "MedicationRequest", profiles, lambda _ref: None, context, report, clean=not non_finite)
    else:
        with _collector_paused():
            _check_bundle(document, version, profiles, report, clean=not non_finite)
    report.findings = _reconciled(report.findings, structural)
    return report


def structural_findings(
    document: dict[str, Any], version: str, profiles: list[str] = (), envelope: dict[str, Any] | None = None
) -> tuple[list[Finding], dict[str, Any]]:
    """Adapter from the conformance layer: its issues as input-invalid findings, and the document without untrusted values.

    Requested profiles that are StructureDefinitions in MEDVAL_FHIR_PACKAGES are checked too; other names (medval's
    drug profiles, unknown URLs) are answered by the HTTP layer.
    """
    result = conformance.check(document, version)
    known = conformance.known_structure_definitions() if profiles else {}
    for url in profiles:
        if url.split("|")[0] in known:
            result.issues += conformance.check_profile(document, url, version)
    outer = conformance.check(envelope, version, envelope_only=True).issues if envelope is not None else []
    findings = _as_findings("Parameters", outer) + _as_findings(str(document.get("resourceType")), result.issues)
    return findings, conformance.trusted_copy(document, result.untrusted, version)


def _as_findings(root: str, issues: list[conformance.StructuralIssue]) -> list[Finding]:
    return [
        Finding(
            "input-invalid",
            f"{conformance.fhirpath(root, issue.location)}: {issue.message}",
            conformance.fhirpath(root, issue.location),
            "FHIR core definitions" + (f" (invariant {issue.key})" if issue.key else ""),
            severity=issue.severity,
            issue_type=issue.issue_type,
        )
        for issue in issues
    ]


def _reconciled(findings: list[Finding], structural: list[Finding]) -> list[Finding]:
    """An order with a structural error has something to report: its "no-issues" finding goes; and the parser's
    own complaint about an element the structural layer already reported (a missing `subject`) is not said twice."""
    errors = {f.expression for f in structural if f.severity == "error"}
    if not errors:
        return findings
    structural_ids = {id(f) for f in structural}

    def covered(expression: str) -> bool:
        return any(e == expression or e.startswith((expression + ".", expression + "[")) for e in errors)

    return [
        f
        for f in findings
        if id(f) in structural_ids
        or not ((f.rule == "no-issues" and covered(f.expression)) or (f.rule == "input-invalid" and f.expression in errors))
    ]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a Bundle is checked.

    A Bundle keeps every parsed model alive until its last order is judged, so each full collection
    walks an ever larger heap: measured, 10,000 orders cost 1.2x per order what 100 do with it on, the
    same with it off. Reference counting still frees everything acyclic; whoever paused it resumes it,
    so concurrent callers leave it on.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _provided_context(provider: ContextProvider | None, document: dict[str, Any]) -> PatientContext | ContextUnavailable | None:
    """The provider's context for a lone order; a provider that breaks is a failed source, never an exception."""
    if provider is None:
        return None
    try:
        return provider(document)
    except Exception as exc:
        return ContextUnavailable(f"looking up the patient's data failed ({type(exc).__name__})", configured=True)


def _check_bundle(document: dict[str, Any], version: str, profiles: ProfileSet, report: Report, clean: bool = False) -> None:
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        report.findings.append(Finding("input-invalid", "Bundle.entry is not a list.", "Bundle.entry"))
        return
    index = BundleIndex(entries, version)
    orders = index.by_type.get("MedicationRequest", [])
    if not orders:
        report.findings.append(Finding("not-in-scope", "The Bundle holds no MedicationRequest; nothing was checked.", "Bundle"))
        return
    context = index.context()
    for i in orders:
        # A clean Bundle's orders were parsed once already, as context: reuse those models (an invalid one is
        # parsed again, for its input-invalid findings). Otherwise stripping NaN/Infinity first changes the input.
        parsed = index.model(i) if clean else None
        prefix = f"Bundle.entry[{i}].resource"
        _check_order(entries[i]["resource"], version, prefix, profiles, index.resolve, context, report, clean, parsed)
