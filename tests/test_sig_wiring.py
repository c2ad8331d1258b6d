"""Free-text instructions in the checks, end to end on realistic orders: a text-only dose is checked like a coded one
and says it was read from the text; a text that contradicts its coded dose is a sig-mismatch; every dangerous case
sits beside its safe look-alike (a false alarm is a defect, and so is a silent pass)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import check

from .conftest import RXNORM, UCUM, oral_order, rules_of

RANGE_Q6H = "1-2 tablets by mouth every 6 hours as needed"
TAB_20 = {"coding": [{"system": RXNORM, "code": "197392", "display": "baclofen 20 MG Oral Tablet"}], "text": "Baclofen 20 mg tablet"}


def text_only(text: str, *, field: str = "text", medication: dict | None = None, route: bool = True) -> dict[str, Any]:
    """An order as many e-prescriptions arrive: the product coded, the dose only in words."""
    order = oral_order()
    dosage: dict[str, Any] = {field: text}
    if route:
        dosage["route"] = order["dosageInstruction"][0]["route"]
    order["dosageInstruction"] = [dosage]
    if medication is not None:
        order["medicationCodeableConcept"] = medication
    return order


def coded(text: str | None, dose: float, unit: str = "mg", frequency: int = 3, period: float = 1, period_unit: str = "d", **extra: Any):  # noqa: PLR0913
    order = oral_order(dose, unit, frequency)
    dosage = order["dosageInstruction"][0]
    dosage["timing"] = {"repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}}
    if text is not None:
        dosage["text"] = text
    dosage.update(extra)
    return order


def found(order: dict[str, Any]) -> list[Any]:
    return [f for f in check(order).findings if f.rule != "patient-context-unavailable"]


def codes(order: dict[str, Any]) -> list[str]:
    return sorted(f.rule for f in found(order))


# ---------------------------------------------------------------- text-only orders


def test_text_only_order_over_the_maximum_is_an_error_read_from_the_text() -> None:
    [finding] = found(text_only("Take 3 tablets (30 mg) by mouth 4 times daily"))
    assert finding.rule == "daily-dose-exceeds-maximum"
    assert finding.expression == "MedicationRequest.dosageInstruction[0].text"
    assert "120 mg" in finding.text and "read from the instructions: 'Take 3 tablets (30 mg) by mouth 4 times daily'" in finding.text


def test_text_only_order_in_tablets_uses_the_product_strength() -> None:
    assert codes(text_only("2 tabs PO QID", medication=TAB_20)) == ["daily-dose-exceeds-maximum"]  # 2 x 20 mg x 4 = 160 mg
    assert codes(text_only("1 tab PO QID", medication=TAB_20)) == []  # 80 mg: at the maximum, not over


def test_text_only_order_within_the_limits_adds_nothing() -> None:
    assert codes(text_only("Take 1 tablet (10 mg) by mouth three times daily")) == []
    assert rules_of(check(text_only("Take 1 tablet (10 mg) by mouth three times daily"))) == ["patient-context-unavailable"]


def test_patient_instruction_is_read_when_there_is_no_text() -> None:
    [finding] = found(text_only("Take 3 tablets by mouth four times a day", field="patientInstruction"))
    assert finding.rule == "daily-dose-exceeds-maximum"
    assert finding.expression == "MedicationRequest.dosageInstruction[0].patientInstruction"


def test_a_range_is_checked_at_its_top_and_a_cap_in_the_text_applies() -> None:
    assert codes(text_only("1-2 tabs po q4h prn spasm")) == ["daily-dose-exceeds-maximum"]  # up to 2 x 10 mg x 6 = 120 mg
    assert codes(text_only("1-2 tabs po q6h prn spasm")) == []  # up to 80 mg
    assert codes(text_only("q4-6h")) == ["dose-unverified", "frequency-unverified"]  # incomplete: it supplies nothing
    assert codes(text_only("10 mg PO every 4 h as needed, max 40 mg/day")) == []  # 60 mg by frequency, capped at 40


def test_a_titration_in_words_is_checked_at_its_busiest_day_not_at_the_sum_of_its_steps() -> None:
    # 10 mg tid for a week, then 20 mg tid: the most on any day is 60 mg, within 80 mg/day
    assert codes(text_only("10 mg po tid x7d then 20 mg po tid")) == []
    # the dangerous look-alike: 20 mg qid, then 30 mg qid is 120 mg on each day of the second step
    [finding] = found(text_only("20 mg po qid x7d then 30 mg po qid"))
    assert finding.rule == "daily-dose-exceeds-maximum" and "Daily dose 120 mg" in finding.text


@pytest.mark.parametrize(
    "text",
    [
        "take as directed",
        "Take per neurology clinic instructions",
        "Take 3 tablets by mouth three times daily, then increase by 1 tablet every 3 days",  # incomplete: numbers, but not all read
        "",
    ],
)
def test_an_unreadable_or_incomplete_text_leaves_the_dose_unverified(text: str) -> None:
    order = text_only(text) if text else text_only("x", route=True)
    if not text:
        order["dosageInstruction"][0].pop("text")
    assert "dose-unverified" in codes(order)
    assert "daily-dose-exceeds-maximum" not in codes(order)


def test_a_text_supplies_the_missing_timing_of_a_coded_dose() -> None:
    order = coded("30 mg by mouth four times daily", 30)
    del order["dosageInstruction"][0]["timing"]
    [finding] = found(order)
    assert finding.rule == "daily-dose-exceeds-maximum" and "read from the instructions" in finding.text
    order["dosageInstruction"][0]["text"] = "10 mg by mouth four times daily"  # the coded 30 mg still decides the amount
    assert codes(order) == ["daily-dose-exceeds-maximum", "sig-mismatch"]  # 30 mg x 4 from the text's frequency


FIRST_ORDER = "20 mg by mouth three times daily"


def test_every_finding_about_a_text_dose_says_so() -> None:
    # a first order with a patient record: starting-dose-high is computed from the text too
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "birthDate": "1970-01-01"}},
            {"fullUrl": "urn:uuid:o", "resource": {**text_only(FIRST_ORDER), "subject": {"reference": "urn:uuid:p"}}},
        ],
    }
    [finding] = [f for f in check(bundle).findings if f.rule == "starting-dose-high"]
    assert finding.expression == "Bundle.entry[1].resource.dosageInstruction[0].text"
    assert "read from the instructions: '20 mg by mouth three times daily'" in finding.text


# ---------------------------------------------------------------- text beside a coded dose


def test_text_contradicting_the_coded_dose_is_a_sig_mismatch_and_its_excess_is_reported_from_the_text() -> None:
    order = coded("Take 3 tablets (60 mg) by mouth three times daily", 20)
    order["medicationCodeableConcept"] = TAB_20
    mismatch, excess = found(order)
    assert mismatch.rule == "sig-mismatch" and excess.rule == "daily-dose-exceeds-maximum"
    assert mismatch.expression == excess.expression == "MedicationRequest.dosageInstruction[0].text"
    assert "The instructions say 3 tablets (60 mg) 3 times a day, oral; the coded dose is 20 mg 3 times a day, oral" in mismatch.text
    assert "180 mg read from the instructions" in excess.text


def test_a_coded_excess_that_the_text_repeats_is_reported_once_at_the_coded_dose() -> None:
    order = coded("30 mg PO QID", 30, frequency=4)
    [finding] = found(order)
    assert finding.rule == "daily-dose-exceeds-maximum" and finding.expression == "MedicationRequest.dosageInstruction[0]"


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("tablets in text, mg coded", coded("Take 2 tablets by mouth three times daily", 20)),
        ("range in text covers the coded dose", coded(RANGE_Q6H, 2, "{tbl}", 1, 6, "h", asNeededBoolean=True)),
        ("range in text, coded at its bottom", coded(RANGE_Q6H, 1, "{tbl}", 1, 6, "h", asNeededBoolean=True)),
        ("prn text, coded asNeeded", coded("10 mg by mouth every 8 hours as needed for spasms", 10, "mg", 1, 8, "h", asNeededBoolean=True)),
        ("twice daily, coded 2 per 1 d", coded("10 mg by mouth twice daily", 10, frequency=2)),
        ("every 12 hours, coded BID", coded("10 mg by mouth every 12 hours", 10, frequency=2)),
        ("q4-6h in text, coded q6h", coded("10 mg PO q4-6h prn", 10, "mg", 1, 6, "h", asNeededBoolean=True)),
        ("no dose in the text", coded("take as directed", 10)),
        ("patientInstruction about food", coded(None, 10, patientInstruction="Take with food. May cause drowsiness.")),
        ("mcg in text, mg coded", coded("10000 mcg by mouth three times daily", 10)),
        ("route written the same way", coded("10 mg PO TID", 10)),
    ],
)
def test_text_matching_the_coded_dose_adds_nothing(name: str, order: dict[str, Any]) -> None:
    assert codes(order) == [], name


@pytest.mark.parametrize(
    ("name", "order", "differ"),
    [
        ("dose", coded("20 mg by mouth three times daily", 10), "dose"),
        ("frequency", coded("10 mg by mouth four times daily", 10, frequency=2), "frequency"),
        ("route", coded("10 mg via G-tube three times daily", 10), "route"),
        ("range below the coded dose", coded("1/2 tablet by mouth three times daily", 10), "dose"),
    ],
)
def test_text_contradicting_the_coded_dose_is_a_sig_mismatch(name: str, order: dict[str, Any], differ: str) -> None:
    [finding] = [f for f in found(order) if f.rule == "sig-mismatch"]
    assert f"they differ in {differ}" in finding.text, name
    assert finding.expression == "MedicationRequest.dosageInstruction[0].text"


def test_a_looser_coded_schedule_under_the_same_cap_is_no_mismatch() -> None:
    order = coded("10 mg PO every 4 h as needed, max 40 mg/day", 10, "mg", 1, 4, "h", asNeededBoolean=True)
    order["dosageInstruction"][0]["timing"]["repeat"]["frequencyMax"] = 2
    order["dosageInstruction"][0]["maxDosePerPeriod"] = {
        "numerator": {"value": 40, "unit": "mg", "system": UCUM, "code": "mg"},
        "denominator": {"value": 1, "unit": "d", "system": UCUM, "code": "d"},
    }
    assert codes(order) == []


# ---------------------------------------------------------------- property: never silent, never raises


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_text_only_order_is_either_checked_from_its_text_or_unverified(text: str) -> None:
    order = text_only(text or ".")
    report = check(order)
    if report.checked[0].normalised is None:  # a string FHIR does not allow (control characters): rejected, not passed
        assert "input-invalid" in rules_of(report)
        return
    [dose] = report.checked[0].normalised.dosages
    if dose.read_from_text:
        assert dose.daily_mg is not None and 0 < dose.daily_mg < float("inf")
    else:
        assert {"dose-unverified", "frequency-unverified"} & set(rules_of(report)) or "input-invalid" in rules_of(report)


# ---------------------------------------------------------------- weight-based doses


def _weight_bundle(order: dict[str, Any], kg: float | None, unit: str = "kg", when: str = "2026-11-18T08:00:00Z") -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "birthDate": "1990-01-01"}}]
    if kg is not None:
        entries.append(
            {
                "fullUrl": "urn:uuid:w",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
                    "subject": {"reference": "urn:uuid:p"},
                    "effectiveDateTime": when,
                    "valueQuantity": {"value": kg, "unit": unit, "system": UCUM, "code": unit},
                },
            }
        )
    order = copy.deepcopy(order)
    order["subject"] = {"reference": "urn:uuid:p"}
    entries.append({"fullUrl": "urn:uuid:o", "resource": order})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _per_kg(per_kg: float, calculated: float | None = None, unit: str = "mg/kg", frequency: int = 3) -> dict[str, Any]:
    order = oral_order(per_kg, unit, frequency)
    entries = [
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/dose-rate-type", "code": "ordered"}]},
            "doseQuantity": {"value": per_kg, "unit": unit, "system": UCUM, "code": unit},
        }
    ]
    if calculated is not None:
        entries.append(
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/dose-rate-type", "code": "calculated"}]},
                "doseQuantity": {"value": calculated, "unit": "mg", "system": UCUM, "code": "mg"},
            }
        )
    order["dosageInstruction"][0]["doseAndRate"] = entries
    return order


def _rules(document: dict[str, Any]) -> list[str]:
    return sorted(f.rule for f in check(document).findings if f.rule not in ("patient-context-unavailable", "no-issues"))


def test_a_dose_per_kg_with_the_patients_weight_is_checked_as_an_amount() -> None:
    assert _rules(_weight_bundle(_per_kg(0.125), 40)) == []  # 5 mg three times a day
    assert _rules(_weight_bundle(_per_kg(0.75, frequency=4), 40)) == ["daily-dose-exceeds-maximum", "starting-dose-high"]
    assert _rules(_weight_bundle(_per_kg(0.75, frequency=4), 88, "[lb_av]")) == ["daily-dose-exceeds-maximum", "starting-dose-high"]
    assert _rules(_weight_bundle(_per_kg(750, unit="ug/kg", frequency=4), 40)) == ["daily-dose-exceeds-maximum", "starting-dose-high"]
    per_day = _per_kg(0.375, unit="mg/kg/d")  # a day's amount per kg: 15 mg a day for 40 kg, the starting dose
    assert _rules(_weight_bundle(per_day, 40)) == []


def test_a_dose_per_kg_per_day_is_worded_and_checked_by_its_daily_amount() -> None:
    per_day = _per_kg(1, unit="mg/kg/d")  # 40 mg a day for 40 kg, in three doses
    [start] = [f for f in check(_weight_bundle(per_day, 40)).findings if f.rule == "starting-dose-high"]
    assert "starts at 40 mg/day, above the starting dose" in start.text and "per dose" not in start.text.split(", above")[0]
    untimed = copy.deepcopy(per_day)
    del untimed["dosageInstruction"][0]["timing"]  # the unit carries the day: no frequency is needed for the daily dose
    assert _rules(_weight_bundle(untimed, 40)) == ["starting-dose-high"]
    over = _per_kg(3, unit="mg/kg/d")  # 120 mg a day
    del over["dosageInstruction"][0]["timing"]
    assert _rules(_weight_bundle(over, 40)) == ["daily-dose-exceeds-maximum", "starting-dose-high"]


def test_a_dose_per_kg_per_administration_without_timing_still_has_no_daily_dose() -> None:
    per_dose = _per_kg(0.125)  # 5 mg a dose: how many a day is not said
    del per_dose["dosageInstruction"][0]["timing"]
    assert _rules(_weight_bundle(per_dose, 40)) == ["frequency-unverified"]
    timed = [f for f in check(_weight_bundle(_per_kg(0.25), 40)).findings if f.rule == "starting-dose-high"]
    assert len(timed) == 1 and "starts at 10 mg per dose (30 mg/day)" in timed[0].text  # per dose where it is one


def test_a_dose_per_kg_without_a_weight_says_the_dose_checks_did_not_run() -> None:
    for document in (_per_kg(0.75, frequency=4), _weight_bundle(_per_kg(0.75, frequency=4), None)):
        findings = [f for f in check(document).findings if f.rule == "weight-unavailable"]
        assert len(findings) == 1 and "did not run" in findings[0].text
        assert "dose-unverified" not in rules_of(check(document))  # said once, by its own code
    old = _weight_bundle(_per_kg(0.75, frequency=4), 40, when="2026-08-01T08:00:00Z")
    assert "weight-unavailable" in _rules(old)
    later = _weight_bundle(_per_kg(0.75, frequency=4), 40, when="2026-12-20T08:00:00Z")  # charted after the order
    assert "weight-unavailable" in _rules(later)
    unitless = _weight_bundle(_per_kg(0.75, frequency=4), 40, unit="stone")
    assert "weight-unavailable" in _rules(unitless)


def test_a_calculated_dose_is_used_and_checked_against_the_weight() -> None:
    assert _rules(_weight_bundle(_per_kg(0.125, calculated=5), 40)) == []
    assert _rules(_weight_bundle(_per_kg(0.125, calculated=4.6), 40)) == []  # 8 % under: rounding
    assert _rules(_weight_bundle(_per_kg(0.125, calculated=10), 40)) == ["dose-unit-suspect", "starting-dose-high"]
    # the calculated dose is checked against the limits even with no weight, and the agreement check says it did not run
    lone = check(_per_kg(0.75, calculated=30, frequency=4))
    assert "daily-dose-exceeds-maximum" in rules_of(lone)
    assert any(f.rule == "patient-context-unavailable" and "calculated dose 30 mg" in f.text for f in lone.findings)
    assert "weight-unavailable" not in rules_of(lone)


# ---------------------------------------------------------------- the HTTP app


def test_the_http_app_builds_the_sig_parser_at_start_up() -> None:
    from validator.http.app import create_app
    from validator.normalise.sig import sig_parser

    sig_parser.cache_clear()
    create_app()
    assert sig_parser.cache_info().currsize == 1


def test_a_dose_per_kg_is_held_for_the_weight_not_called_invalid() -> None:
    order = _per_kg(5)
    [dose] = check(order).checked[0].normalised.dosages
    assert dose.per_kg is not None and dose.per_kg.mg_per_kg == 5 and dose.problems == ()
    assert "dose-unit-invalid" not in rules_of(check(order))


def test_a_written_dose_per_kg_stays_unverified_and_says_why() -> None:
    findings = found(text_only("0.5 mg/kg by mouth three times daily"))
    assert [f.rule for f in findings] == ["dose-unverified", "frequency-unverified"]
    assert "dose per kg" in findings[0].text


_SAID_PER_DAY = {
    1: ["daily", "once daily", "once a day", "every 24 hours", "at bedtime"],
    2: ["BID", "twice daily", "2 times a day", "every 12 hours", "q12h"],
    3: ["TID", "three times daily", "3 times a day", "every 8 hours", "q8h"],
    4: ["QID", "four times daily", "4 times a day", "every 6 hours", "q6h"],
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tablets=st.sampled_from([0.5, 1, 1.5, 2]),
    per_day=st.sampled_from([1, 2, 3, 4]),
    said=st.data(),
    in_mg=st.booleans(),
    coded_in_tablets=st.booleans(),
)
def test_a_text_that_says_the_coded_dose_in_other_words_is_never_a_mismatch(tablets, per_day, said, in_mg, coded_in_tablets) -> None:
    mg = tablets * 10  # 10 mg tablets
    words = said.draw(st.sampled_from(_SAID_PER_DAY[per_day]))
    amount = f"{mg:g} mg" if in_mg else f"{tablets:g} tablet{'s' if tablets > 1 else ''}"
    text = f"Take {amount} by mouth {words}"
    order = coded(text, tablets if coded_in_tablets else mg, "{tbl}" if coded_in_tablets else "mg", frequency=per_day)
    assert "sig-mismatch" not in codes(order), text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tablets=st.sampled_from([0.5, 1, 2]), per_day=st.sampled_from([1, 2, 3, 4]), said=st.data(), factor=st.sampled_from([0.5, 2, 3]))
def test_a_text_that_says_another_dose_is_always_a_mismatch(tablets, per_day, said, factor) -> None:
    words = said.draw(st.sampled_from(_SAID_PER_DAY[per_day]))
    text = f"Take {tablets * 10 * factor:g} mg by mouth {words}"
    assert "sig-mismatch" in codes(coded(text, tablets * 10, frequency=per_day)), text
