"""Findings -> a FHIR OperationOutcome (R4B model for R4 input, R5 for R5). Knows no drug."""

from __future__ import annotations

from typing import Any

from .findings import RULE_CATALOGUE, RULE_SYSTEM, SEVERITY_RANK, Finding, effective_severity
from .parse import R5


def issue_dict(finding: Finding) -> dict[str, Any]:
    info = RULE_CATALOGUE[finding.rule]
    issue: dict[str, Any] = {
        "severity": effective_severity(finding),
        "code": info.issue_type,
        "details": {"coding": [{"system": RULE_SYSTEM, "code": finding.rule, "display": info.summary}], "text": finding.text},
    }
    if finding.source:
        issue["diagnostics"] = finding.source
    if finding.expression:
        issue["expression"] = [finding.expression]
    return issue


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for f in findings:
        key = (f.rule, f.expression, f.text)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def outcome_dict(findings: list[Finding]) -> dict[str, Any]:
    ordered = sorted(_dedupe(findings), key=lambda f: -SEVERITY_RANK[effective_severity(f)])
    return {"resourceType": "OperationOutcome", "issue": [issue_dict(f) for f in ordered]}


def build_outcome(findings: list[Finding], version: str) -> Any:
    if version == R5:
        from fhir.resources.operationoutcome import OperationOutcome
    else:
        from fhir.resources.R4B.operationoutcome import OperationOutcome
    return OperationOutcome.model_validate(outcome_dict(findings))
