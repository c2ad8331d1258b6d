"""Findings -> a FHIR OperationOutcome (R4B model for R4 input, R5 for R5). Knows no drug."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .findings import RULE_CATALOGUE, RULE_SYSTEM, SEVERITY_RANK, Finding, effective_severity
from .parse import R5


def issue_dict(finding: Finding) -> dict[str, Any]:
    info = RULE_CATALOGUE[finding.rule]
    issue: dict[str, Any] = {
        "severity": effective_severity(finding),
        "code": finding.issue_type or info.issue_type,
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
        key = (f.rule, f.location, f.text)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def outcome_dict(findings: list[Finding]) -> dict[str, Any]:
    # structural (input-invalid) issues first, then the clinical findings; each group by severity
    ordered = sorted(_dedupe(findings), key=lambda f: (f.rule != "input-invalid", -SEVERITY_RANK[effective_severity(f)]))
    return {"resourceType": "OperationOutcome", "issue": [issue_dict(f) for f in ordered]}


@lru_cache(maxsize=2)
def _models(version: str) -> tuple[type, type, type, type]:
    if version == R5:
        from fhir.resources.codeableconcept import CodeableConcept
        from fhir.resources.coding import Coding
        from fhir.resources.operationoutcome import OperationOutcome, OperationOutcomeIssue
    else:
        from fhir.resources.R4B.codeableconcept import CodeableConcept
        from fhir.resources.R4B.coding import Coding
        from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue
    return OperationOutcome, OperationOutcomeIssue, CodeableConcept, Coding


@lru_cache(maxsize=16)
def _defaults(cls: type) -> dict[str, Any]:
    return dict(cls.model_construct().__dict__)


def _construct(cls: Any, values: dict[str, Any]) -> Any:
    """cls.model_construct(**values) with the field defaults computed once per class instead of per call."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", {**_defaults(cls), **values})
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def build_outcome(findings: list[Finding], version: str) -> Any:
    """The OperationOutcome model of outcome_dict(findings).

    Built without re-validating: every value comes from the rule catalogue and the findings, and
    fhir.resources validation of the four small models per issue cost as much as the rules themselves.
    tests/test_outcome_model.py holds it equal to OperationOutcome.model_validate(outcome_dict(...)).
    """
    outcome_cls, issue_cls, concept_cls, coding_cls = _models(version)
    issues = []
    for issue in outcome_dict(findings)["issue"]:
        details = issue["details"]
        coding = [_construct(coding_cls, c) for c in details["coding"]]
        values = dict(issue, details=_construct(concept_cls, {"coding": coding, "text": details["text"]}))
        issues.append(_construct(issue_cls, values))
    return _construct(outcome_cls, {"issue": issues})
