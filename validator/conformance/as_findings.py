"""The conformance layer's issues as medval findings: the one adapter between structure and the clinical report.

structural, trusted = structural_findings(document, version, requested_profiles, envelope)
... the clinical checks run on `trusted` (values the structural layer rejected are removed) ...
report.findings = reconciled(report.findings, structural)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..findings import Finding
from ..messages import say
from . import check, check_profile, fhirpath, known_structure_definitions, trusted_copy
from .walker import StructuralIssue

CORE_DEFINITIONS_SOURCE = "FHIR core definitions"


def structural_findings(
    document: dict[str, Any], version: str, profiles: list[str], envelope: dict[str, Any] | None
) -> tuple[list[Finding], dict[str, Any]]:
    """Its issues as input-invalid findings (absolute locations), and the document without untrusted values.

    Requested profiles that are StructureDefinitions in MEDVAL_FHIR_PACKAGES are checked too; other names (medval's
    drug profiles, unknown URLs) are answered by the HTTP layer.
    """
    result = check(document, version)
    known = known_structure_definitions() if profiles else {}
    for url in profiles:
        if url.split("|")[0] in known:
            result.issues += check_profile(document, url, version)
    outer = check(envelope, version, envelope_only=True).issues if envelope is not None else []
    findings = _as_findings("Parameters", outer) + _as_findings(str(document.get("resourceType")), result.issues)
    return findings, trusted_copy(document, result.untrusted, version)


def _as_findings(root: str, issues: list[StructuralIssue]) -> list[Finding]:
    return [
        dataclasses.replace(
            say(
                "input.invalid-element",
                (root, *issue.location),
                CORE_DEFINITIONS_SOURCE + (f" (invariant {issue.key})" if issue.key else ""),
                severity=issue.severity,
                where=fhirpath(root, issue.location),
                problem=issue.message,
            ),
            issue_type=issue.issue_type,
        )
        for issue in issues
    ]


def reconciled(findings: list[Finding], structural: list[Finding]) -> list[Finding]:
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
