"""Profiles from a FHIR package folder (MEDVAL_FHIR_PACKAGES): cardinality, fixed and pattern values, required
bindings and must-support from the profile's snapshot; an unknown profile is an error.

The profile here is a small national-style MedicationRequest profile written as a package would ship it
(package/StructureDefinition-*.json with a snapshot, and its ValueSet).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from validator import check
from validator.conformance import check_profile, known_structure_definitions

from .test_conformance import baclofen

URL = "http://example.org/fhir/StructureDefinition/national-medicationrequest"
VS = "http://example.org/fhir/ValueSet/national-order-status"
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]}


def _element(path: str, **extra: Any) -> dict[str, Any]:
    return {"id": path, "path": path, "min": 0, "max": "*", **extra}


def _profile() -> dict[str, Any]:
    elements = [
        _element("MedicationRequest", max="*"),
        _element("MedicationRequest.status", min=1, max="1", binding={"strength": "required", "valueSet": VS}),
        _element("MedicationRequest.intent", min=1, max="1", fixedCode="order"),
        _element("MedicationRequest.category", min=1, patternCodeableConcept=CATEGORY),
        _element("MedicationRequest.requester", min=1, max="1"),
        _element("MedicationRequest.reasonCode", mustSupport=True),
        _element("MedicationRequest.dosageInstruction", min=1, max="1"),
        _element("MedicationRequest.dosageInstruction.text", min=1, max="1"),
    ]
    return {
        "resourceType": "StructureDefinition",
        "url": URL,
        "name": "NationalMedicationRequest",
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": "MedicationRequest",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/MedicationRequest",
        "derivation": "constraint",
        "snapshot": {"element": elements},
    }


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "example.national#1.0.0" / "package"
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": "example.national", "version": "1.0.0"}))
    (folder / "StructureDefinition-national-medicationrequest.json").write_text(json.dumps(_profile()))
    value_set = {
        "resourceType": "ValueSet",
        "url": VS,
        "status": "active",
        "compose": {"include": [{"system": "x", "concept": [{"code": "active"}, {"code": "on-hold"}]}]},
    }
    (folder / "ValueSet-national-order-status.json").write_text(json.dumps(value_set))
    monkeypatch.setenv("MEDVAL_FHIR_PACKAGES", str(tmp_path))
    return tmp_path


def _conforming() -> dict[str, Any]:
    order = baclofen()
    order["category"] = [CATEGORY]
    order["reasonCode"] = [{"text": "spasticity"}]
    return order


def _issues(order: dict[str, Any]) -> list[tuple[str, str, tuple[Any, ...]]]:
    return [(i.severity, i.issue_type, i.location) for i in check_profile(order, URL)]


def test_the_folder_profile_is_known(packages: Path) -> None:
    assert known_structure_definitions()[URL] == "MedicationRequest"


def test_a_conforming_order_has_no_profile_issue(packages: Path) -> None:
    assert _issues(_conforming()) == []


def test_cardinality(packages: Path) -> None:
    order = _conforming()
    del order["requester"]
    order["dosageInstruction"].append({"text": "second"})
    issues = _issues(order)
    assert ("error", "required", ("requester",)) in issues
    assert ("error", "structure", ("dosageInstruction",)) in issues


def test_nested_minimum(packages: Path) -> None:
    order = _conforming()
    del order["dosageInstruction"][0]["text"]
    assert ("error", "required", ("dosageInstruction", 0, "text")) in _issues(order)


def test_fixed_value(packages: Path) -> None:
    order = _conforming()
    order["intent"] = "plan"
    assert ("error", "value", ("intent",)) in _issues(order)


def test_pattern_value_and_its_safe_look_alike(packages: Path) -> None:
    order = _conforming()
    order["category"] = [{"coding": [{"system": CATEGORY["coding"][0]["system"], "code": "inpatient"}]}]
    assert ("error", "value", ("category", 0)) in _issues(order)
    richer = _conforming()  # more than the pattern (a display, another coding) still matches it
    richer["category"] = [{"coding": [{"system": "http://other", "code": "x"}, {**CATEGORY["coding"][0], "display": "Outpatient"}]}]
    assert _issues(richer) == []


def test_required_binding_from_the_profile(packages: Path) -> None:
    order = _conforming()
    order["status"] = "completed"  # a core status, but not in the profile's value set
    assert ("error", "code-invalid", ("status",)) in _issues(order)


def test_must_support_reported_as_information(packages: Path) -> None:
    order = _conforming()
    del order["reasonCode"]
    assert _issues(order) == [("information", "informational", ("reasonCode",))]


def test_unknown_profile_is_an_error(packages: Path) -> None:
    (issue,) = check_profile(_conforming(), "http://example.org/fhir/StructureDefinition/nope")
    assert issue.severity == "error" and issue.issue_type == "not-found"


def test_requested_in_parameters_the_engine_reports_it_with_the_core_issues(packages: Path) -> None:
    order = _conforming()
    order["intent"] = "plan"
    body = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": order}, {"name": "profile", "valueUri": URL}]}
    report = check(json.dumps(body))
    profile_issues = [f for f in report.findings if f.rule == "input-invalid"]
    assert [(f.issue_type, f.expression) for f in profile_issues] == [("value", "MedicationRequest.intent")]
    assert any(f.rule != "input-invalid" for f in report.findings)  # the clinical checks still ran
