"""Patient-context rules: the example Bundles, plus the cases that must NOT fire, and the pure context facts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, oral_order, rules_of
from validator import check
from validator.context import facts as F
from validator.context.from_bundle import context_from_resources
from validator.profile import RXNORM_SYSTEM, ProfileError, compile_profile, default_profiles
from validator.therapy.drug_facts import condition_origin

EXAMPLES = ROOT / "examples" / "context"
EXPECTED = json.loads((EXAMPLES / "EXPECTED.json").read_text())
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_bundles(name: str) -> None:
    report = check((EXAMPLES / name).read_bytes())
    assert sorted(rules_of(report)) == EXPECTED[name]


def test_every_example_is_listed() -> None:
    assert {p.name for p in EXAMPLES.glob("*.json")} - {"EXPECTED.json"} == set(EXPECTED)


def bundle(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": r} for i, r in enumerate(resources)],
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}


def condition(text: str, status: str = "active", verification: str = "confirmed", coding: list | None = None) -> dict:
    code: dict = {"text": text}
    if coding:
        code["coding"] = coding
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLIN, "code": status}]},
        "verificationStatus": {"coding": [{"system": VER, "code": verification}]},
        "code": code,
        "subject": {"reference": "Patient/p1"},
    }


def allergy(text: str, status: str = "active", verification: str = "confirmed") -> dict:
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"code": status}]},
        "verificationStatus": {"coding": [{"code": verification}]},
        "code": {"text": text},
        "patient": {"reference": "Patient/p1"},
    }


def rules(*context: dict, order: dict | None = None) -> list[str]:
    return rules_of(check(bundle(order or oral_order(5), PATIENT, *context)))


def test_penicillin_allergy_is_not_a_baclofen_allergy() -> None:
    assert rules(allergy("Penicillin V")) == ["no-issues"]


@pytest.mark.parametrize(("status", "verification"), [("active", "refuted"), ("active", "entered-in-error"), ("resolved", "confirmed")])
def test_allergy_that_does_not_count(status: str, verification: str) -> None:
    assert rules(allergy("Baclofen", status, verification)) == ["no-issues"]


def test_brand_name_allergy_counts() -> None:
    assert "hypersensitivity" in rules(allergy("Lioresal"))


@pytest.mark.parametrize(("status", "verification"), [("resolved", "confirmed"), ("inactive", "confirmed"), ("active", "refuted")])
def test_condition_that_does_not_count(status: str, verification: str) -> None:
    assert rules(condition("Parkinson disease", status, verification)) == ["no-issues"]


def test_condition_without_status_but_abated_does_not_count() -> None:
    abated = condition("Parkinson disease")
    del abated["clinicalStatus"], abated["verificationStatus"]
    abated["abatementDateTime"] = "2020-01-01"
    assert rules(abated) == ["no-issues"]


def test_coded_heat_stroke_is_not_a_stroke() -> None:
    coded = condition("Heat stroke", coding=[{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "T67.01XA"}])
    assert rules(coded) == ["no-issues"]


def test_normal_egfr_raises_nothing_and_mL_per_s_converts() -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "eGFR"},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": 1.5, "unit": "mL/s/{1.73_m2}", "system": "http://unitsofmeasure.org", "code": "mL/s/{1.73_m2}"},
    }
    assert rules(obs) == ["no-issues"]  # 1.5 mL/s = 90 mL/min
    low = copy.deepcopy(obs)
    low["valueQuantity"].update(value=0.5)  # 30 mL/min
    assert rules(low) == ["renal-impairment"]
    cancelled = copy.deepcopy(low)
    cancelled["status"] = "entered-in-error"
    assert rules(cancelled) == ["no-issues"]


def test_not_pregnant_observation_text_does_not_count() -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Pregnancy status"},
        "valueCodeableConcept": {"text": "Not pregnant"},
    }
    assert rules(obs) == ["no-issues"]


def test_stopped_opioid_and_baclofen_itself_are_no_interaction() -> None:
    stopped = {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "morphine 10 mg tablet"},
    }
    assert rules(stopped) == ["no-issues"]


def test_opioid_by_ingredient_of_a_referenced_medication() -> None:
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"text": "Percocet"},
        "ingredient": [{"itemCodeableConcept": {"text": "Oxycodone"}}],
    }
    statement = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/m1"},
    }
    assert "cns-depressant-interaction" in rules(med, statement)


def test_epidural_morphine_needs_epidural_route_and_intrathecal_order() -> None:
    morphine = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "morphine 10 mg tablet"},
    }
    found = rules(morphine)
    assert "cns-depressant-interaction" in found and "epidural-morphine-interaction" not in found


def test_no_patient_resource_names_the_age_check() -> None:
    report = check(bundle(oral_order(5), condition("Hypertension")))
    [gap] = [f for f in report.findings if f.rule == "patient-context-unavailable"]
    assert gap.severity == "information" and "age (pediatric-safety-not-established)" in gap.text
    assert "allergies" not in gap.text


def test_lone_order_without_context_still_checks_its_reason() -> None:
    found = rules_of(check(oral_order(5, reasonCode=[{"text": "Trigeminal neuralgia"}])))
    assert "off-label-indication" in found and "patient-context-unavailable" in found


def test_prefetch_resources_build_a_context() -> None:
    context = context_from_resources(
        [PATIENT, {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": condition("Epilepsy")}]}]
    )
    assert context is not None and context.source == "prefetch" and len(context.conditions) == 1
    assert context_from_resources([]) is None


def test_dates_and_ages() -> None:
    assert F.to_datetime("2015") == datetime(2015, 1, 1, tzinfo=UTC)
    assert F.to_datetime(date(2020, 2, 3)) == datetime(2020, 2, 3, tzinfo=UTC)
    on = datetime(2026, 11, 20, tzinfo=UTC)
    assert F.age_years(date(2014, 11, 21), on) == 11
    assert F.age_years(date(2014, 11, 20), on) == 12
    assert F.convert(1.0, "mL/s", "mL/min") == pytest.approx(60)
    assert F.convert(45, "mL/min/{1.73_m2}", "mL/min/{1.73_m2}") == pytest.approx(45)
    assert F.convert(45, "mg", "mL/min") is None


def test_origin_from_conditions() -> None:
    profile = default_profiles().profiles[0]
    spinal = context_from_resources([PATIENT, condition("Spinal cord injury")])
    both = context_from_resources([PATIENT, condition("Spinal cord injury"), condition("Traumatic brain injury")])
    assert condition_origin(spinal, profile) == "spinal"
    assert condition_origin(both, profile) is None


def test_context_section_is_strict() -> None:
    profile = default_profiles().profiles[0]
    data = copy.deepcopy(profile.raw)
    data["context"]["surprise"] = 1
    with pytest.raises(ProfileError, match="surprise"):
        compile_profile(data, Path("broken.json"))
    data = copy.deepcopy(profile.raw)
    data["context"]["conditions"][0]["groups"] = ["no-such-group"]
    with pytest.raises(ProfileError, match="unknown group"):
        compile_profile(data, Path("broken.json"))


def test_every_code_in_the_context_section_cites_a_source() -> None:
    groups = default_profiles().profiles[0].raw["context"]["groups"]
    for group in groups.values():
        for key in ("snomed", "icd10cm_prefixes", "rxnorm_ingredients", "loinc"):
            for entry in group.get(key, []):
                assert len(entry["source"]) > 10


ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def test_new_icd10cm_subcodes_match_by_category_prefix() -> None:
    parkinson = condition("PD", coding=[{"system": ICD, "code": "G20.A1"}])
    assert rules(parkinson) == ["condition-not-recommended"]
    profile = default_profiles().profiles[0]
    ms = context_from_resources([PATIENT, condition("MS", coding=[{"system": ICD, "code": "G35.A"}])])
    assert condition_origin(ms, profile) == "spinal"


def test_profile_codes_match_coded_resources() -> None:
    groups = default_profiles().profiles[0].raw["context"]["groups"]
    opioid = groups["opioids"]["rxnorm_ingredients"][0]["code"]
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM_SYSTEM, "code": opioid}]}}],
    }
    statement = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/m1"},
    }
    assert "cns-depressant-interaction" in rules(med, statement)
    allergy_code = groups["baclofen-allergy"]["snomed"][0]["code"]
    coded = allergy("x")
    coded["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": allergy_code}]}
    assert "hypersensitivity" in rules(coded)
