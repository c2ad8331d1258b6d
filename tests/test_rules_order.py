"""Every order-only rule, firing and not firing, end to end through validator.check / validate.

Clinical numbers are the monograph's (StatPearls Baclofen, Administration): oral at most 80 mg a day, usual
40-80 mg; intrathecal usual 90-800 mcg a day (the envelope of cerebral 90-703 and spinal 300-800), screening
bolus 50 mcg. Contraindications: not intravenous, subcutaneous, intramuscular or epidural.
"""

from __future__ import annotations

from typing import Any

import pytest

from validator import check, validate
from validator.findings import RULE_CATALOGUE, SEVERITY_RANK

from .conftest import RXNORM, SNOMED, UCUM, intrathecal_order, oral_order, rules_of

V3 = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01", "gender": "female"}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:00000000-0000-0000-0000-00000000000{i}", "resource": r} for i, r in enumerate(resources)],
    }


def in_context(order: dict[str, Any]) -> dict[str, Any]:
    """The order as entry 1 of a Bundle whose entry 0 is its Patient: no patient-context-unavailable."""
    return bundle(PATIENT, order)


def issues(data: dict[str, Any], **kwargs: Any) -> list[Any]:
    return list(validate(data, **kwargs).issue)


def issue_of(data: dict[str, Any], rule: str, **kwargs: Any) -> Any:
    found = [i for i in issues(data, **kwargs) if i.details.coding[0].code == rule]
    assert len(found) == 1, [i.details.coding[0].code for i in issues(data, **kwargs)]
    return found[0]


def codes(data: dict[str, Any], **kwargs: Any) -> list[str]:
    return rules_of(check(data, **kwargs))


def assert_floor(issue: Any, rule: str) -> None:
    assert SEVERITY_RANK[issue.severity] >= SEVERITY_RANK[RULE_CATALOGUE[rule].severity]


def with_route(order: dict[str, Any], concept: dict[str, Any]) -> dict[str, Any]:
    order["dosageInstruction"][0]["route"] = concept
    return order


def with_dose(order: dict[str, Any], **dose_and_rate: Any) -> dict[str, Any]:
    order["dosageInstruction"][0]["doseAndRate"] = [dose_and_rate]
    return order


def qty(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


# --- the clean baselines ------------------------------------------------------------------------------


def test_clean_oral_order_in_a_bundle_with_its_patient_is_no_issues() -> None:
    # the monograph's starting dose: a first order above it would rightly raise starting-dose-high
    found = issues(in_context(oral_order(5, frequency=3)))
    assert len(found) == 1
    assert found[0].details.coding[0].code == "no-issues"
    assert found[0].severity == "information"
    assert found[0].expression == ["Bundle.entry[1].resource"]


def test_clean_intrathecal_order_in_a_bundle_is_no_issues() -> None:
    # a first infusion at twice the 50 mcg screening dose, as the monograph's screening step supports
    assert codes(in_context(intrathecal_order(100))) == ["no-issues"]


def test_one_no_issues_per_clean_entry() -> None:
    data = bundle(PATIENT, oral_order(5, frequency=3), oral_order(30, frequency=4), intrathecal_order(100))
    found = [(i.details.coding[0].code, i.expression[0]) for i in issues(data)]
    assert ("no-issues", "Bundle.entry[1].resource") in found
    assert ("no-issues", "Bundle.entry[3].resource") in found
    assert ("daily-dose-exceeds-maximum", "Bundle.entry[2].resource.dosageInstruction[0]") in found
    assert not any(code == "no-issues" and where == "Bundle.entry[2].resource" for code, where in found)


def test_an_order_with_something_to_report_has_no_no_issues() -> None:
    assert "no-issues" not in codes(in_context(oral_order(30, frequency=4)))


# --- patient-context-unavailable ----------------------------------------------------------------------


def test_lone_order_says_patient_context_is_unavailable() -> None:
    issue = issue_of(oral_order(), "patient-context-unavailable")
    assert issue.severity == "information"
    assert issue.expression == ["MedicationRequest.subject"]
    assert "did not run" in issue.details.text
    # and that is the only thing said about a clean lone order: no no-issues beside it
    assert codes(oral_order()) == ["patient-context-unavailable"]


def test_order_in_a_bundle_with_a_patient_has_patient_context() -> None:
    assert "patient-context-unavailable" not in codes(in_context(oral_order()))


def test_bundle_without_any_patient_data_says_so_at_the_entry() -> None:
    issue = issue_of(bundle(oral_order()), "patient-context-unavailable")
    assert issue.expression == ["Bundle.entry[0].resource.subject"]


# --- routes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "concept",
    [
        {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]},
        {"coding": [{"system": SNOMED, "code": "255560000", "display": "Intravenous"}]},
        {"coding": [{"system": V3, "code": "IV"}]},
        {"text": "IV"},
        {"coding": [{"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"}]},
        {"coding": [{"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}]},
        {"coding": [{"system": SNOMED, "code": "404820008", "display": "Epidural route"}]},
    ],
)
def test_route_not_permitted_for_forbidden_routes(concept: dict[str, Any]) -> None:
    data = in_context(with_route(intrathecal_order(), concept))
    issue = issue_of(data, "route-not-permitted")
    assert issue.severity == "error"
    assert issue.code == "business-rule"
    assert issue.expression == ["Bundle.entry[1].resource.dosageInstruction[0].route"]
    assert "Contraindications" in issue.diagnostics


def test_route_not_permitted_for_a_real_route_the_profile_does_not_list() -> None:
    data = with_route(oral_order(), {"coding": [{"system": SNOMED, "code": "54485002", "display": "Ophthalmic route"}]})
    issue = issue_of(data, "route-not-permitted")
    assert issue.severity == "error"
    assert "Ophthalmic route" in issue.details.text


@pytest.mark.parametrize("route_code", ["26643006", "72607000"])
def test_route_not_permitted_does_not_fire_for_permitted_routes(route_code: str) -> None:
    order = oral_order() if route_code == "26643006" else intrathecal_order()
    assert "route-not-permitted" not in codes(with_route(order, {"coding": [{"system": SNOMED, "code": route_code}]}))


def test_route_unverified_for_unknown_text() -> None:
    order = intrathecal_order()
    order["contained"][0]["form"] = {"text": "solution"}  # no single-route form to infer from either
    order["contained"][0]["code"]["text"] = "Baclofen"
    issue = issue_of(with_route(order, {"text": "per protocol"}), "route-unverified")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.dosageInstruction[0].route"]


def test_route_unverified_when_absent_and_not_inferable() -> None:
    order = oral_order(medicationCodeableConcept={"text": "Baclofen 5 mg/5 mL oral solution"})
    del order["dosageInstruction"][0]["route"]
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = qty(10, "mL")
    issue = issue_of(order, "route-unverified")
    assert issue.expression == ["MedicationRequest.dosageInstruction[0]"]
    assert "No route is given" in issue.details.text


def test_route_unverified_does_not_fire_when_inferred_from_a_tablet() -> None:
    order = oral_order()
    del order["dosageInstruction"][0]["route"]
    assert "route-unverified" not in codes(order)


def test_route_form_mismatch_tablet_given_intrathecally() -> None:
    data = with_route(oral_order(), {"coding": [{"system": SNOMED, "code": "72607000", "display": "Intrathecal route"}]})
    issue = issue_of(data, "route-form-mismatch")
    assert issue.severity == "error"
    assert issue.expression == ["MedicationRequest.dosageInstruction[0].route"]
    assert "tablet" in issue.details.text and "intrathecal" in issue.details.text


def test_route_form_mismatch_intrathecal_solution_by_mouth() -> None:
    issue = issue_of(intrathecal_order(route_code="26643006"), "route-form-mismatch")
    assert issue.severity == "error"


def test_route_form_mismatch_does_not_fire_when_they_agree_or_route_is_forbidden() -> None:
    assert "route-form-mismatch" not in codes(oral_order())
    assert "route-form-mismatch" not in codes(intrathecal_order())
    # an IV order of the injection is forbidden; that is said once, as route-not-permitted
    assert "route-form-mismatch" not in codes(intrathecal_order(route_code="47625008"))


# --- product identity -----------------------------------------------------------------------------------


def test_formulation_not_in_catalog_for_a_strength_that_does_not_exist() -> None:
    # baclofen tablets come in 5, 10, 15 (label) and 20 mg; no 25 mg tablet
    issue = issue_of(oral_order(medicationCodeableConcept={"text": "Baclofen 25 mg tablet"}), "formulation-not-in-catalog")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.medicationCodeableConcept"]
    assert "25 mg" in issue.details.text


def test_formulation_not_in_catalog_for_an_unknown_concentration() -> None:
    order = intrathecal_order()
    order["contained"][0]["ingredient"][0]["strength"]["numerator"] = qty(3000, "ug", "mcg")  # 3 mg/mL: no such product
    assert "formulation-not-in-catalog" in codes(order)


@pytest.mark.parametrize("text", ["Baclofen 5 mg tablet", "Baclofen 15 mg tablet", "Baclofen 20 mg tablet"])
def test_formulation_not_in_catalog_does_not_fire_for_real_products(text: str) -> None:
    assert "formulation-not-in-catalog" not in codes(oral_order(medicationCodeableConcept={"text": text}))


def test_formulation_in_catalog_for_intrathecal_concentrations() -> None:
    # 2000 mcg/mL = 40 mg/20 mL, a listed vial
    assert "formulation-not-in-catalog" not in codes(intrathecal_order())


def test_strength_unverified_for_an_ingredient_only_code() -> None:
    order = oral_order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}]})
    issue = issue_of(order, "strength-unverified")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.medicationCodeableConcept"]


def test_strength_unverified_does_not_fire_for_a_product_code() -> None:
    assert "strength-unverified" not in codes(oral_order())


# --- doses -------------------------------------------------------------------------------------------------


def test_dose_unit_invalid() -> None:
    issue = issue_of(with_dose(oral_order(), doseQuantity={"value": 2, "unit": "puffs"}), "dose-unit-invalid")
    assert issue.severity == "error"
    assert issue.code == "value"
    assert issue.expression == ["MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity"]


def test_dose_unit_invalid_does_not_fire_for_tablets() -> None:
    order = with_dose(oral_order(), doseQuantity={"value": 1, "unit": "TAB"})
    assert "dose-unit-invalid" not in codes(order)


def test_dose_unit_suspect_intrathecal_mg_where_mcg_meant() -> None:
    # "400 mg/day" intrathecally is 400,000 mcg: 500 times the usual maximum; 400 mcg/day is a usual dose
    issue = issue_of(intrathecal_order(400, "mg/d"), "dose-unit-suspect")
    assert issue.severity == "error"
    assert "400 mcg/day was probably meant" in issue.details.text


def test_dose_unit_suspect_oral_mcg_where_mg_meant() -> None:
    # 10 mcg three times a day is 0.03 mg/day, below any oral dose; 30 mg/day is a usual one
    issue = issue_of(oral_order(10, "ug", frequency=3), "dose-unit-suspect")
    assert issue.severity == "error"
    assert "30 mg/day was probably meant" in issue.details.text


def test_dose_unit_suspect_does_not_fire_for_plausible_doses() -> None:
    assert "dose-unit-suspect" not in codes(intrathecal_order(0.4, "mg/d"))  # 0.4 mg = 400 mcg, correct
    assert "dose-unit-suspect" not in codes(oral_order(10000, "ug", frequency=3))  # 10,000 mcg = 10 mg, correct
    assert "dose-unit-suspect" not in codes(intrathecal_order(400, "ug/d"))


def test_dose_unverified() -> None:
    order = with_dose(oral_order(), doseQuantity=qty(0, "mg"))
    issue = issue_of(order, "dose-unverified")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.value"]


def test_dose_unverified_when_no_dose_is_given() -> None:
    order = oral_order()
    del order["dosageInstruction"][0]["doseAndRate"]
    issue = issue_of(order, "dose-unverified")
    assert issue.expression == ["MedicationRequest.dosageInstruction[0]"]


def test_dose_unverified_does_not_fire_for_a_usable_dose() -> None:
    assert "dose-unverified" not in codes(oral_order())


@pytest.mark.parametrize(
    ("timing", "expression"),
    [
        ({"repeat": {"frequency": 3, "period": 0, "periodUnit": "d"}}, "dosageInstruction[0].timing.repeat"),
        ({"repeat": {"frequency": 3, "period": -1, "periodUnit": "d"}}, "dosageInstruction[0].timing.repeat"),
        ({"code": {"text": "as directed"}}, "dosageInstruction[0].timing"),
        (None, "dosageInstruction[0]"),
    ],
)
def test_frequency_unverified(timing: dict[str, Any] | None, expression: str) -> None:
    order = oral_order(30)
    if timing is None:
        del order["dosageInstruction"][0]["timing"]
    else:
        order["dosageInstruction"][0]["timing"] = timing
    issue = issue_of(order, "frequency-unverified")
    assert issue.severity == "warning"
    assert issue.expression == [f"MedicationRequest.{expression}"]


def test_frequency_unverified_does_not_fire_for_gts_codes_or_rates() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["timing"] = {"code": {"coding": [{"system": GTS, "code": "TID"}]}}
    assert "frequency-unverified" not in codes(order)
    assert "frequency-unverified" not in codes(intrathecal_order(400, "ug/d"))  # a daily rate needs no timing


def test_daily_dose_exceeds_maximum_oral() -> None:
    issue = issue_of(oral_order(30, frequency=4), "daily-dose-exceeds-maximum")
    assert issue.severity == "error"
    assert issue.code == "business-rule"
    assert issue.details.text == "Daily dose 120 mg exceeds the 80 mg/day oral maximum (30 mg x 4/day)."
    assert issue.expression == ["MedicationRequest.dosageInstruction[0]"]
    assert "80 mg daily" in issue.diagnostics


def test_daily_dose_exceeds_maximum_from_gts_code_and_tablets() -> None:
    # 1 x 20 mg tablet Q4H = 6 a day = 120 mg
    order = oral_order(medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "197392"}]})
    order["dosageInstruction"][0]["timing"] = {"code": {"coding": [{"system": GTS, "code": "Q4H"}]}}
    order["dosageInstruction"][0]["doseAndRate"] = [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}]
    assert "Daily dose 120 mg" in issue_of(order, "daily-dose-exceeds-maximum").details.text


def test_daily_dose_exceeds_maximum_inside_a_bundle_is_prefixed() -> None:
    issue = issue_of(in_context(oral_order(30, frequency=4)), "daily-dose-exceeds-maximum")
    assert issue.expression == ["Bundle.entry[1].resource.dosageInstruction[0]"]


@pytest.mark.parametrize(("dose", "frequency"), [(20, 4), (10, 3), (80, 1)])
def test_daily_dose_exceeds_maximum_does_not_fire_at_or_below_80_mg(dose: float, frequency: int) -> None:
    assert "daily-dose-exceeds-maximum" not in codes(oral_order(dose, frequency=frequency))


def test_daily_dose_above_usual_intrathecal() -> None:
    issue = issue_of(intrathecal_order(900), "daily-dose-above-usual")
    assert issue.severity == "warning"
    assert "900 mcg" in issue.details.text and "800 mcg" in issue.details.text


@pytest.mark.parametrize("daily_ug", [90, 400, 800])
def test_daily_dose_above_usual_does_not_fire_within_range(daily_ug: float) -> None:
    assert "daily-dose-above-usual" not in codes(intrathecal_order(daily_ug))


def test_daily_dose_above_usual_does_not_repeat_the_maximum() -> None:
    assert "daily-dose-above-usual" not in codes(oral_order(30, frequency=4))  # 120 mg: the maximum rule says it


def _bolus(value: float, unit: str, display: str | None = None) -> dict[str, Any]:
    order = intrathecal_order()
    # drawn from the 50 mcg/mL screening ampoule (a maintenance-strength product is its own error: test_therapy_*)
    order["contained"][0]["ingredient"][0]["strength"]["numerator"]["value"] = 50
    order["dosageInstruction"][0]["timing"] = {"repeat": {"count": 1}}
    order["dosageInstruction"][0]["doseAndRate"] = [{"doseQuantity": qty(value, unit, display)}]
    return order


def test_screening_dose_high() -> None:
    issue = issue_of(_bolus(100, "ug", "mcg"), "screening-dose-high")
    assert issue.severity == "warning"
    assert "100 mcg" in issue.details.text and "50 mcg" in issue.details.text
    assert issue.expression == ["MedicationRequest.dosageInstruction[0]"]


@pytest.mark.parametrize(("value", "unit"), [(50, "ug"), (25, "ug"), (0.05, "mg")])
def test_screening_dose_high_does_not_fire_at_or_below_50_mcg(value: float, unit: str) -> None:
    assert "screening-dose-high" not in codes(_bolus(value, unit))


def test_screening_dose_high_does_not_fire_for_continuous_infusion() -> None:
    assert "screening-dose-high" not in codes(intrathecal_order(100))


# --- lifecycle --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["stopped", "on-hold"])
def test_abrupt_discontinuation(status: str) -> None:
    issue = issue_of(oral_order(status=status), "abrupt-discontinuation")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.status"]
    assert "seizures and hallucinations" in issue.details.text  # oral: Adverse Effects


def test_abrupt_discontinuation_intrathecal_cites_the_boxed_warning() -> None:
    order = intrathecal_order()
    order["status"] = "stopped"
    issue = issue_of(order, "abrupt-discontinuation")
    assert "boxed warning" in issue.details.text


# cancelled: withdrawn before any administration (FHIR), so nothing is withdrawn from the patient
@pytest.mark.parametrize("status", ["active", "completed", "draft", "cancelled", "entered-in-error"])
def test_abrupt_discontinuation_does_not_fire_otherwise(status: str) -> None:
    assert "abrupt-discontinuation" not in codes(oral_order(status=status))


# --- scope and identity -------------------------------------------------------------------------------------


def test_not_in_scope() -> None:
    data = oral_order(
        medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "197361", "display": "amlodipine 5 MG Oral Tablet"}]}
    )
    issue = issue_of(data, "not-in-scope")
    assert issue.severity == "information"
    assert codes(data) == ["not-in-scope"]


def test_not_in_scope_does_not_fire_for_baclofen() -> None:
    assert "not-in-scope" not in codes(oral_order())


def test_medication_unidentified() -> None:
    data = oral_order(medicationReference={"reference": "Medication/missing"})
    del data["medicationCodeableConcept"]
    issue = issue_of(data, "medication-unidentified")
    assert issue.severity == "warning"
    assert issue.expression == ["MedicationRequest.medicationReference"]


def test_medication_unidentified_does_not_fire_when_named_in_text() -> None:
    data = oral_order(medicationReference={"reference": "Medication/missing", "display": "Baclofen 10 mg tablet"})
    del data["medicationCodeableConcept"]
    assert "medication-unidentified" not in codes(data)


# --- input-invalid --------------------------------------------------------------------------------------------


def test_input_invalid_names_the_bad_element() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "three"
    issue = issue_of(order, "input-invalid")
    assert issue.severity == "error"
    assert issue.expression == ["MedicationRequest.dosageInstruction[0].timing.repeat.frequency"]


def test_input_invalid_inside_a_bundle_is_prefixed() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = 0  # positiveInt
    issue = issue_of(in_context(order), "input-invalid")
    assert issue.expression == ["Bundle.entry[1].resource.dosageInstruction[0].timing.repeat.frequency"]


def test_input_invalid_for_the_wrong_resource_type() -> None:
    report = check(PATIENT)
    assert report.rejected is not None
    assert rules_of(report) == ["input-invalid"]


def test_input_invalid_does_not_fire_for_a_valid_order() -> None:
    assert "input-invalid" not in codes(oral_order())


def test_non_finite_dose_is_reported_not_crashed() -> None:
    raw = (
        '{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},'
        '"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"197391"}]},'
        '"dosageInstruction":[{"timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}},'
        '"doseAndRate":[{"doseQuantity":{"value":NaN,"unit":"mg"}}]}]}'
    )
    assert "dose-unverified" in rules_of(check(raw))


# --- severities and outcome shape -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        oral_order(30, frequency=4),
        intrathecal_order(900),
        intrathecal_order(400, "mg/d"),
        with_route(oral_order(), {"coding": [{"system": SNOMED, "code": "72607000"}]}),
        oral_order(status="stopped"),
        oral_order(medicationCodeableConcept={"text": "Baclofen 25 mg tablet"}),
    ],
)
def test_every_issue_is_at_or_above_its_floor_and_fully_formed(data: dict[str, Any]) -> None:
    for issue in issues(data):
        rule = issue.details.coding[0].code
        assert_floor(issue, rule)
        assert issue.code == RULE_CATALOGUE[rule].issue_type
        assert issue.details.text and issue.expression
        assert issue.expression[0].startswith("MedicationRequest")


def test_r5_order_is_checked_like_r4() -> None:
    order = oral_order(30, frequency=4)
    order["medication"] = {"concept": order.pop("medicationCodeableConcept")}
    outcome = validate(order)
    assert outcome.__class__.__module__.startswith("fhir.resources.operationoutcome")
    assert "daily-dose-exceeds-maximum" in [i.details.coding[0].code for i in outcome.issue]


def test_order_without_any_dosage_instruction_is_not_clean() -> None:
    # nothing to compute a dose, frequency or route from: the checks did not run, which must be said
    order = oral_order()
    del order["dosageInstruction"]
    issue = issue_of(in_context(order), "dose-unverified")
    assert issue.expression == ["Bundle.entry[1].resource.dosageInstruction"]
    assert "no-issues" not in codes(in_context(order))


def test_stopped_order_without_dosage_only_warns_about_the_stop() -> None:
    order = oral_order(status="stopped")
    del order["dosageInstruction"]
    # (with no dosage the route is unknown, so the warning is given for each route's own withdrawal risk)
    assert set(codes(in_context(order))) == {"abrupt-discontinuation"}


def test_a_stopped_order_with_no_dosage_warns_once_per_distinct_withdrawal_risk() -> None:
    from validator import check

    order = oral_order(status="stopped")
    del order["dosageInstruction"]
    found = [f for f in check(order).findings if f.rule == "abrupt-discontinuation"]
    # oral and enteral tube share the oral warning; intrathecal has its own boxed warning
    assert len(found) == 2
    assert any("seizures and hallucinations" in f.text for f in found)
    assert any("intrathecal" in f.text for f in found)


@pytest.mark.parametrize("kind", ["Foo", ""])
def test_a_contained_resource_of_no_known_type_is_invalid_input_not_a_crash(kind: str) -> None:
    order = intrathecal_order()
    order["contained"][0]["resourceType"] = kind
    [finding] = check(order).findings
    assert finding.rule == "input-invalid" and finding.expression == "MedicationRequest"
    assert "unknown resource type" in finding.text


def test_a_contained_resource_of_a_known_type_is_read() -> None:
    assert "input-invalid" not in rules_of(check(intrathecal_order()))
