"""Patient context that cannot be trusted is reported, never passed over: the review's reproductions, each a test."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from validator import check

from .conftest import ROOT, rules_of

CONTEXT = ROOT / "examples" / "context"


def example(name: str) -> dict[str, Any]:
    return json.loads((CONTEXT / name).read_text())


def findings(bundle: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in check(bundle).findings:
        out.setdefault(f.rule, []).append(f.text)
    return out


def test_the_unchanged_examples_still_fire() -> None:
    assert rules_of(check(example("hypersensitivity.json"))) == ["hypersensitivity"]
    assert rules_of(check(example("pediatric.json"))) == ["pediatric-safety-not-established"]


def test_an_allergy_entry_that_is_not_valid_fhir_is_reported_not_dropped() -> None:
    bundle = example("hypersensitivity.json")
    bundle["entry"][1]["resource"]["onsetDateTime"] = "yesterday"
    found = findings(bundle)
    assert "no-issues" not in found
    [text] = found["patient-context-unavailable"]
    assert "AllergyIntolerance entry[1]" in text and "allergies (hypersensitivity)" in text


def test_records_of_two_patients_are_not_pooled_into_one() -> None:
    bundle = example("pediatric.json")
    adult = copy.deepcopy(bundle["entry"][0])
    adult["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-0000000000aa"
    adult["resource"]["id"] = "someone-else"
    adult["resource"]["birthDate"] = "1970-01-01"
    bundle["entry"].insert(0, adult)
    found = findings(bundle)
    assert set(found) == {"patient-context-unavailable"}
    assert "2 different Patient resources" in found["patient-context-unavailable"][0]


def test_a_medication_statement_alone_is_not_a_patient_record() -> None:
    bundle = example("hypersensitivity.json")
    order = bundle["entry"][2]
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "medicationCodeableConcept": {"text": "Vitamin D 1000 unit tablet"},
        "subject": order["resource"]["subject"],
    }
    bundle["entry"] = [order, {"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000bb", "resource": statement}]
    [text] = findings(bundle)["patient-context-unavailable"]
    assert "allergies (hypersensitivity)" in text and "renal function" in text


def test_the_hl7_status_coding_decides_even_when_a_local_one_comes_first() -> None:
    bundle = example("hypersensitivity.json")
    status = bundle["entry"][1]["resource"]["clinicalStatus"]
    status["coding"].insert(0, {"system": "urn:local", "code": "A"})
    assert "hypersensitivity" in findings(bundle)


def test_a_year_only_birth_date_never_overstates_the_age() -> None:
    bundle = example("pediatric.json")
    bundle["entry"][0]["resource"]["birthDate"] = "2014"
    bundle["entry"][2]["resource"]["authoredOn"] = "2026-01-15"
    assert "pediatric-safety-not-established" in findings(bundle)  # 11 on 2026-01-15, whatever day in 2014


def test_a_birth_date_after_the_order_says_the_age_check_did_not_run() -> None:
    bundle = example("pediatric.json")
    bundle["entry"][0]["resource"]["birthDate"] = "2030-01-01"
    found = findings(bundle)
    assert "pediatric-safety-not-established" not in found and "no-issues" not in found
    assert any("age check did not run" in t for t in found["patient-context-unavailable"])


def test_dates_at_the_edge_of_the_calendar_are_no_exception() -> None:
    bundle = example("pediatric.json")
    bundle["entry"][2]["resource"]["authoredOn"] = "9999-12-31T23:00:00-05:00"
    check(bundle)  # no exception is the point; the order is still judged
    bundle["entry"][0]["resource"]["birthDate"] = "0001-01-01"
    assert check(bundle).findings


def test_an_egfr_in_a_common_spelling_of_its_unit_is_read() -> None:
    bundle = example("renal-egfr-low.json")
    bundle["entry"][2]["resource"]["valueQuantity"] = {"value": 38, "unit": "mL/min/1.73 m²"}  # no UCUM code, as some labs send
    assert "renal-impairment" in findings(bundle)


def test_the_newest_egfr_decides_even_when_its_unit_cannot_be_read() -> None:
    bundle = example("renal-egfr-recovered.json")  # 38 in May, 75 in November: recovered
    assert "renal-impairment" not in findings(bundle)
    bundle["entry"][2]["resource"]["valueQuantity"] = {"value": 75, "unit": "per m2 body surface"}
    found = findings(bundle)
    assert "renal-impairment" not in found  # the older, low value does not stand in for the newest
    assert any("kidney-function check did not run" in t for t in found["patient-context-unavailable"])


def test_epidural_morphine_is_recognised_by_a_free_text_route() -> None:
    bundle = example("epidural-morphine.json")
    assert "epidural-morphine-interaction" in findings(bundle)
    bundle["entry"][4]["resource"]["dosage"][0]["route"] = {"text": "Epidural injection"}
    assert "epidural-morphine-interaction" in findings(bundle)


def test_an_undated_order_with_history_says_titration_did_not_run() -> None:
    bundle = example("titration-too-fast-oral.json")
    assert "titration-too-fast" in findings(bundle)
    orders = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    newest = max(orders, key=lambda r: r.get("authoredOn", ""))
    del newest["authoredOn"]
    found = findings(bundle)
    assert any("titration check did not run" in t for t in found.get("patient-context-unavailable", []))


@pytest.mark.parametrize(
    ("code", "fires"), [("active", True), ("Active", True), ("local-open", True), ("resolved", False), ("inactive", False)]
)
def test_an_allergy_status_medval_does_not_know_counts_as_active(code: str, fires: bool) -> None:
    # fail safe: only a status that ends the allergy silences it; a miscased or local code must not hide it
    bundle = json.loads((ROOT / "examples" / "context" / "hypersensitivity.json").read_text())
    allergy = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AllergyIntolerance")
    allergy["clinicalStatus"]["coding"][0]["code"] = code
    assert ("hypersensitivity" in rules_of(check(json.dumps(bundle)))) is fires


@pytest.mark.parametrize(("code", "fires"), [("active", True), ("Relapse", True), ("remission", False), ("resolved", False)])
def test_a_condition_status_medval_does_not_know_counts_as_active(code: str, fires: bool) -> None:
    bundle = json.loads((ROOT / "examples" / "context" / "condition-caution.json").read_text())
    for condition in (e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"):
        condition["clinicalStatus"]["coding"][0]["code"] = code
    assert ("condition-caution" in rules_of(check(json.dumps(bundle)))) is fires
