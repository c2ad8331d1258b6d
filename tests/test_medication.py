"""validator.normalise.medication: which drug, form and strength an order names, in every shape EHRs send.

RxNorm codes used: 1292 baclofen (ingredient, IN); 197391 baclofen 10 MG Oral Tablet; 197392 baclofen 20 MG
Oral Tablet; 1666613 20 ML baclofen 2 MG/ML Injection (all as listed, with sources, in profiles/baclofen.json);
197361 amlodipine 5 MG Oral Tablet (a drug no profile covers).
"""

from __future__ import annotations

from typing import Any

import pytest

from validator import check
from validator.context.from_bundle import contained_resolver
from validator.normalise.medication import normalise_medication, strength_from_text
from validator.parse import parse_resource
from validator.profile import default_profiles

from .conftest import RXNORM, SNOMED, UCUM, intrathecal_order, oral_order, rules_of

PROFILES = default_profiles()


def order(version: str = "4.0", **fields: Any) -> dict[str, Any]:
    base = {"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"}}
    return base | fields


def facts(resource: dict[str, Any], version: str = "4.0", resolve: Any = None) -> Any:
    model, problems = parse_resource(resource, version)
    assert model is not None, problems
    return normalise_medication(model, PROFILES, contained_resolver(model, resolve))


def test_rxnorm_product_code_gives_product_form_and_strength() -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "197391", "display": "baclofen 10 MG Oral Tablet"}]}))
    assert f.profile is not None and f.profile.id == "baclofen"
    assert f.product is not None and f.product.id == "tab-10"
    assert f.form == "tablet"
    assert f.strength is not None and f.strength.mg_per_unit == 10
    assert f.expression == "medicationCodeableConcept"
    assert f.problem is None


def test_rxnorm_intrathecal_product_code_is_a_concentration() -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "1666613"}]}))
    assert f.form == "intrathecal-solution"
    assert f.strength is not None and f.strength.mg_per_ml == pytest.approx(2.0)  # 40 mg / 20 mL


def test_rxnorm_ingredient_code_alone_leaves_the_strength_unknown() -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}]}))
    assert f.profile is not None
    assert f.strength is None and f.form is None
    assert f.problem is not None and f.problem.rule == "strength-unverified"


def test_ingredient_code_with_text_strength() -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "1292"}], "text": "baclofen 20 mg tablet"}))
    assert f.form == "tablet" and f.strength is not None and f.strength.mg_per_unit == 20


def test_contained_medication_with_ratio_strength() -> None:
    f = facts(intrathecal_order())
    assert f.profile is not None
    assert f.form == "intrathecal-solution"
    assert f.strength is not None and f.strength.per_volume and f.strength.mg_per_ml == pytest.approx(2.0)  # 2000 mcg/1 mL
    assert f.expression == "medicationReference"


def test_contained_medication_with_coded_form_and_tablet_ratio() -> None:
    resource = order(
        contained=[
            {
                "resourceType": "Medication",
                "id": "tab",
                "code": {"text": "Lioresal"},
                "form": {"coding": [{"system": SNOMED, "code": "385055001", "display": "Tablet"}]},
                "ingredient": [
                    {
                        "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "1292"}]},
                        "strength": {
                            "numerator": {"value": 20, "unit": "mg", "system": UCUM, "code": "mg"},
                            "denominator": {
                                "value": 1,
                                "unit": "TAB",
                                "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
                                "code": "TAB",
                            },
                        },
                    }
                ],
            }
        ],
        medicationReference={"reference": "#tab"},
    )
    f = facts(resource)
    assert f.form == "tablet"
    assert f.strength is not None and f.strength.mg_per_unit == 20


def test_bundled_medication_is_resolved_by_full_url() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "bac",
        "code": {"coding": [{"system": RXNORM, "code": "197392", "display": "baclofen 20 MG Oral Tablet"}]},
    }
    request = oral_order(30, frequency=4, medicationReference={"reference": "urn:uuid:0f6a0b5e-1f7a-4c43-9a1d-0d6e0f7c1a11"})
    del request["medicationCodeableConcept"]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:0f6a0b5e-1f7a-4c43-9a1d-0d6e0f7c1a11", "resource": medication},
            {"fullUrl": "urn:uuid:5d2c", "resource": request},
        ],
    }
    report = check(bundle)
    # 30 mg x 4 = 120 mg > 80 mg: the drug was recognised through the bundled Medication
    assert "daily-dose-exceeds-maximum" in rules_of(report)
    assert "medication-unidentified" not in rules_of(report)


def test_bundled_medication_is_resolved_by_type_and_id() -> None:
    medication = {"resourceType": "Medication", "id": "bac", "code": {"coding": [{"system": RXNORM, "code": "197391"}]}}
    request = oral_order(medicationReference={"reference": "Medication/bac"})
    del request["medicationCodeableConcept"]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "https://ehr.example.org/fhir/Medication/bac", "resource": medication}, {"resource": request}],
    }
    findings = check(bundle).findings
    assert [f.rule for f in findings] == ["patient-context-unavailable"]
    assert findings[0].expression == "Bundle.entry[1].resource.subject"


@pytest.mark.parametrize(
    ("text", "form", "mg", "per_ml"),
    [
        ("Baclofen 10 mg tablet", "tablet", 10, False),
        ("Lioresal 10mg tab", "tablet", 10, False),
        ("baclofen 40 mg/20 mL intrathecal", "intrathecal-solution", 2.0, True),
        ("Gablofen 2,000 mcg/mL intrathecal injection", "intrathecal-solution", 2.0, True),
        ("baclofen 0.05 mg/mL intrathecal", "intrathecal-solution", 0.05, True),
        ("Baclofen 5 mg/5 mL oral solution", "oral-solution", 1.0, True),
    ],
)
def test_plain_text(text: str, form: str, mg: float, per_ml: bool) -> None:
    f = facts(order(medicationCodeableConcept={"text": text}))
    assert f.profile is not None and f.form == form
    assert f.strength is not None and f.strength.per_volume is per_ml
    assert (f.strength.mg_per_ml if per_ml else f.strength.mg_per_unit) == pytest.approx(mg)


def test_an_amount_written_for_a_liquid_is_not_a_concentration() -> None:
    f = facts(order(medicationCodeableConcept={"text": "baclofen oral solution 10 mg"}))
    assert f.form == "oral-solution" and f.strength is None
    assert f.problem is not None and f.problem.rule == "strength-unverified"


def test_strength_from_text() -> None:
    assert strength_from_text("no strength here") is None
    s = strength_from_text("20,000 mcg/20 mL")
    assert s is not None and s.mg_per_ml == pytest.approx(1.0)
    s = strength_from_text("10 mg in 5 ml")
    assert s is not None and s.mg_per_ml == pytest.approx(2.0)


def test_reference_display_alone_identifies_the_drug() -> None:
    f = facts(order(medicationReference={"display": "Baclofen 10 mg tablet"}))
    assert f.profile is not None and f.form == "tablet" and f.strength is not None


def test_r5_codeable_reference_concept() -> None:
    f = facts(order(medication={"concept": {"coding": [{"system": RXNORM, "code": "197391"}]}}), "5.0")
    assert f.product is not None and f.product.id == "tab-10"
    assert f.expression == "medication.concept"


def test_r5_codeable_reference_to_contained_medication() -> None:
    resource = order(
        contained=[
            {
                "resourceType": "Medication",
                "id": "itmed",
                "code": {"coding": [{"system": RXNORM, "code": "1292"}], "text": "baclofen intrathecal"},
                "ingredient": [
                    {
                        "item": {"concept": {"coding": [{"system": RXNORM, "code": "1292"}]}},
                        "strengthRatio": {
                            "numerator": {"value": 500, "unit": "mcg", "system": UCUM, "code": "ug"},
                            "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"},
                        },
                    }
                ],
            }
        ],
        medication={"reference": {"reference": "#itmed"}},
    )
    f = facts(resource, "5.0")
    assert f.profile is not None
    assert f.expression == "medication.reference"
    assert f.form == "intrathecal-solution"
    assert f.strength is not None and f.strength.mg_per_ml == pytest.approx(0.5)


def test_other_drug_is_described_but_has_no_profile() -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "197361", "display": "amlodipine 5 MG Oral Tablet"}]}))
    assert f.profile is None and f.described
    assert "amlodipine" in f.description


def test_unresolvable_reference_is_not_described() -> None:
    f = facts(order(medicationReference={"reference": "Medication/elsewhere"}))
    assert f.profile is None and not f.described


def test_not_in_scope_versus_medication_unidentified() -> None:
    other = check(order(medicationCodeableConcept={"text": "Amoxicillin 500 mg capsule"}))
    assert rules_of(other) == ["not-in-scope"]
    assert other.findings[0].expression == "MedicationRequest.medicationCodeableConcept"
    unknown = check(order(medicationReference={"reference": "Medication/elsewhere"}))
    assert rules_of(unknown) == ["medication-unidentified"]
    assert unknown.findings[0].expression == "MedicationRequest.medicationReference"
    # a Medication in the Bundle that names no code and no text cannot be identified either
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:m1", "resource": {"resourceType": "Medication", "id": "m1"}},
            {"resource": order(medicationReference={"reference": "urn:uuid:m1"})},
        ],
    }
    assert rules_of(check(bundle)) == ["medication-unidentified"]


def test_baclofen_ingredient_inside_another_named_product_is_still_baclofen() -> None:
    # a contained compounded product whose code is local but whose ingredient is RxNorm baclofen
    resource = order(
        contained=[
            {
                "resourceType": "Medication",
                "id": "cmp",
                "code": {"coding": [{"system": "http://hospital.example.org/formulary", "code": "IT-PUMP-7"}]},
                "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "1292"}]}}],
            }
        ],
        medicationReference={"reference": "#cmp"},
    )
    assert facts(resource).profile is not None


def test_r5_contained_medication_dose_form() -> None:
    # R5 renamed Medication.form to Medication.doseForm; SNOMED 421026006 Oral tablet
    resource = order(
        contained=[
            {
                "resourceType": "Medication",
                "id": "tab",
                "code": {"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}]},
                "doseForm": {"coding": [{"system": SNOMED, "code": "421026006", "display": "Oral tablet"}]},
                "ingredient": [
                    {
                        "item": {"concept": {"coding": [{"system": RXNORM, "code": "1292"}]}},
                        "strengthRatio": {
                            "numerator": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                            "denominator": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                        },
                    }
                ],
            }
        ],
        medication={"reference": {"reference": "#tab"}},
        dosageInstruction=[
            {
                "route": {"coding": [{"system": SNOMED, "code": "72607000", "display": "Intrathecal route"}]},
                "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
    )
    f = facts(resource, "5.0")
    assert f.form == "tablet"
    # an oral tablet ordered intrathecally is caught in R5 as in R4
    assert "route-form-mismatch" in rules_of(check(resource, fhir_version="5.0"))


def test_strength_search_is_linear_in_the_text() -> None:
    import time

    for text in ("1" * 8192, "1," * 4096, "1." * 4096, "1 " * 4096 + "mg"):
        start = time.thread_time()
        strength_from_text(text)
        assert time.thread_time() - start < 0.5, text[:10]


def test_strength_after_a_long_number_is_still_read() -> None:  # the safe look-alike: bounded parts still read real strengths
    s = strength_from_text("lot 123456789012 baclofen 10 mg tablet")
    assert s is not None and s.mg_per_unit == 10
    assert strength_from_text("2,000 mcg/20 mL").mg_per_ml == pytest.approx(0.1)


def _r5_contained(ingredient: dict[str, Any]) -> dict[str, Any]:
    return order(
        contained=[
            {
                "resourceType": "Medication",
                "id": "m",
                "code": {"coding": [{"system": RXNORM, "code": "1292"}], "text": "baclofen"},
                "ingredient": [{"item": {"concept": {"coding": [{"system": RXNORM, "code": "1292"}]}}} | ingredient],
            }
        ],
        medication={"reference": {"reference": "#m"}},
    )


@pytest.mark.parametrize(
    ("ingredient", "per_volume", "mg"),
    [
        ({"strengthQuantity": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"}}, False, 10),
        ({"strengthQuantity": {"value": 2, "unit": "mg/mL", "system": UCUM, "code": "mg/mL"}}, True, 2),
        ({"strengthQuantity": {"value": 500, "unit": "mcg/mL", "system": UCUM, "code": "ug/mL"}}, True, 0.5),
        ({"strengthQuantity": {"value": 2, "unit": "g/L", "system": UCUM, "code": "g/L"}}, True, 2),
        ({"strengthCodeableConcept": {"text": "10 mg/5 mL"}}, True, 2),
        (
            {
                "strengthRatio": {
                    "numerator": {"value": 2, "code": "g", "system": UCUM},
                    "denominator": {"value": 1, "code": "L", "system": UCUM},
                }
            },
            True,
            2,
        ),
        (
            {
                "strengthRatio": {
                    "numerator": {"value": 40, "code": "mg", "system": UCUM},
                    "denominator": {"value": 20, "code": "mL", "system": UCUM},
                }
            },
            True,
            2,
        ),
    ],
)
def test_r5_strength_shapes(ingredient: dict[str, Any], per_volume: bool, mg: float) -> None:
    f = facts(_r5_contained(ingredient), "5.0")
    assert f.strength is not None and f.strength.per_volume is per_volume
    assert (f.strength.mg_per_ml if per_volume else f.strength.mg_per_unit) == pytest.approx(mg)


def test_r5_strength_per_kg_is_no_strength() -> None:  # look-alike: a per-kg quantity is not a product strength
    f = facts(_r5_contained({"strengthQuantity": {"value": 10, "unit": "mg/kg", "system": UCUM, "code": "mg/kg"}}), "5.0")
    assert f.strength is None


@pytest.mark.parametrize(
    ("system", "code", "product"),
    [
        (RXNORM, "2679605", "tab-15"),
        (RXNORM, "250976", "oral-sol-5-5"),
        (RXNORM, "2667941", "oral-sol-10-5"),
        (RXNORM, "2667943", "oral-sol-10-5"),
        ("http://hl7.org/fhir/sid/ndc", "69528-302", "oral-sol-10-5"),
        ("http://hl7.org/fhir/sid/ndc", "87519-003", "granules-10"),
    ],
)
def test_catalogue_codes_identify_their_product(system: str, code: str, product: str) -> None:
    f = facts(order(medicationCodeableConcept={"coding": [{"system": system, "code": code}]}))
    assert f.product is not None and f.product.id == product
