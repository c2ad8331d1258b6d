"""Issue 11 items 5-8 on realistic Bundles (examples/therapy, changed one element at a time): withdrawal and tapers,
what an order means (lifecycle, doNotPerform, intent), several orders at once, patient factors by route. Each
dangerous case beside its safe look-alike."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from validator import check
from validator.lifecycle import lifecycle_of
from validator.therapy.course import Course

from .conftest import oral_order, rules_of
from .test_bundle_scaling import _bundle
from .therapy_support import codes_of, findings_of, only, resource, scenario, severity

# --- 6. the lifecycle table -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "judged", "active", "stops"),
    [
        ("active", True, True, False),
        ("on-hold", True, False, True),
        ("stopped", False, False, True),
        ("completed", False, False, False),
        ("ended", False, False, False),
        ("cancelled", False, False, False),
        ("draft", True, False, False),
        ("unknown", True, True, False),
        ("entered-in-error", False, False, False),
    ],
)
def test_lifecycle_table(status: str, judged: bool, active: bool, stops: bool) -> None:
    meaning = lifecycle_of(SimpleNamespace(status=status, doNotPerform=None))
    assert (meaning.judged, meaning.active, meaning.stops) == (judged, active, stops)
    assert meaning.void is (status == "entered-in-error")


def test_do_not_perform_is_never_therapy_whatever_its_status() -> None:
    meaning = lifecycle_of(SimpleNamespace(status="active", doNotPerform=True))
    assert meaning.do_not_perform and not (meaning.judged or meaning.active or meaning.stops or meaning.history)


def test_a_do_not_perform_iv_order_is_a_safe_order_and_its_look_alike_is_not() -> None:
    bundle = scenario("do-not-perform-iv-ok")
    assert codes_of(bundle, "rx-dnp") == ["no-issues"]
    resource(bundle, "rx-dnp")["doNotPerform"] = False
    assert "route-not-permitted" in codes_of(bundle, "rx-dnp")


def test_an_order_entered_in_error_is_void_and_says_it_was_not_checked() -> None:
    bundle = scenario("oral-entered-in-error-ok")
    void = only(bundle, "rx-po-1", "order-void")
    assert severity(void) == "information" and "not clinically checked" in void.text
    assert codes_of(bundle, "rx-po-1") == ["order-void"]
    resource(bundle, "rx-po-1")["status"] = "active"  # the same 800 mg/day typed as a live order
    assert "daily-dose-exceeds-maximum" in codes_of(bundle, "rx-po-1")


@pytest.mark.parametrize("intent", ["proposal", "plan", "order", "original-order", "instance-order", "option"])
def test_every_intent_is_checked_alike(intent: str) -> None:
    bundle = scenario("intent-proposal-over-maximum")
    resource(bundle, "rx-proposal")["intent"] = intent
    assert codes_of(bundle, "rx-proposal") == ["daily-dose-exceeds-maximum"]


def test_a_plan_at_the_labelled_start_is_clean() -> None:
    assert codes_of(scenario("intent-plan-ok"), "rx-plan") == ["no-issues"]


# --- 5. withdrawal and tapering -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "status"), [("it-order-on-hold", "on hold"), ("it-order-stopped", "stopped")])
def test_an_intrathecal_interruption_is_an_error_citing_the_boxed_warning(name: str, status: str) -> None:
    finding = only(scenario(name), "rx-it-1", "abrupt-discontinuation")
    assert severity(finding) == "error"
    assert f"intrathecal order is {status}" in finding.text and "boxed warning" in finding.text


def test_an_oral_stop_is_a_warning() -> None:
    bundle = scenario("oral-stop-continued-by-current-order-ok")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") != "rx-po-new"]  # nothing continues it
    finding = only(bundle, "rx-po-old", "abrupt-discontinuation")
    assert severity(finding) == "warning" and "seizures and hallucinations" in finding.text


def test_a_stop_continued_by_the_order_that_replaces_it_withdraws_nothing() -> None:
    bundle = scenario("it-stop-replaced-by-new-order-ok")
    assert codes_of(bundle, "rx-it-old") == ["no-issues"]
    resource(bundle, "rx-it-new")["status"] = "draft"  # a draft continues nothing
    assert "abrupt-discontinuation" in codes_of(bundle, "rx-it-old")


def test_a_stop_continued_by_a_current_order_without_a_link_withdraws_nothing() -> None:
    assert codes_of(scenario("oral-stop-continued-by-current-order-ok"), "rx-po-old") == ["no-issues"]


def test_a_home_medication_statement_does_not_continue_a_stopped_order() -> None:
    bundle = scenario("oral-stop-continued-by-current-order-ok")  # the statement ms-home stays in the Bundle
    resource(bundle, "rx-po-new")["status"] = "completed"
    assert "abrupt-discontinuation" in codes_of(bundle, "rx-po-old")


def test_an_order_cancelled_before_any_dose_withdraws_nothing() -> None:
    bundle = scenario("oral-cancelled-before-any-dose-ok")
    assert codes_of(bundle, "rx-po-1") == ["no-issues"]
    resource(bundle, "rx-po-1")["status"] = "stopped"
    assert "abrupt-discontinuation" in codes_of(bundle, "rx-po-1")


def test_a_taper_to_zero_in_three_days_is_too_fast() -> None:
    finding = only(scenario("oral-taper-over-3-days"), "rx-taper", "taper-too-fast")
    assert severity(finding) == "warning"
    assert "from 60 mg/day to zero in 3 days" in finding.text and "at least 14 days" in finding.text


def test_a_taper_over_three_weeks_is_clean() -> None:
    assert codes_of(scenario("oral-taper-over-3-weeks-ok"), "rx-taper") == ["no-issues"]
    assert codes_of(scenario("it-taper-over-3-weeks-ok"), "rx-it-taper") == ["no-issues"]


def test_an_intrathecal_taper_over_five_days_is_too_fast() -> None:
    finding = only(scenario("it-taper-over-5-days"), "rx-it-taper", "taper-too-fast")
    assert "from 400 mcg/day to zero in 5 days" in finding.text


def test_a_reduction_continued_by_another_current_order_is_no_taper_to_zero() -> None:
    bundle = scenario("oral-taper-over-3-days")
    continuing = {**resource(bundle, "rx-taper"), "id": "rx-maintenance"}
    continuing["dosageInstruction"] = [
        dict(continuing["dosageInstruction"][0], timing={"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}})
    ]
    bundle["entry"].append({"resource": continuing})
    assert "taper-too-fast" not in codes_of(bundle, "rx-taper")


# --- 7. several orders at once --------------------------------------------------------------------------------


def test_two_active_orders_are_summed_against_the_maximum_and_named() -> None:
    bundle = scenario("oral-two-active-orders-over-maximum")
    over = only(bundle, "rx-po-sched", "daily-dose-exceeds-maximum")
    assert "Daily dose 90 mg" in over.text and "rx-po-prn (30 mg/day)" in over.text and "80 mg/day oral maximum" in over.text
    assert over.expression.endswith(".resource.dosageInstruction[0]")  # on the order checked (findings_of: its entry)
    duplicate = only(bundle, "rx-po-prn", "duplicate-therapy")
    assert "rx-po-sched (60 mg/day)" in duplicate.text and "combined 90 mg/day" in duplicate.text


def test_one_order_alone_is_neither_over_the_maximum_nor_a_duplicate() -> None:
    bundle = scenario("oral-two-active-orders-over-maximum")
    resource(bundle, "rx-po-prn")["status"] = "completed"
    assert codes_of(bundle, "rx-po-sched") == ["no-issues"]


def test_a_replaced_order_is_not_added_nor_a_duplicate() -> None:
    bundle = scenario("oral-replacing-order-ok")
    assert codes_of(bundle, "rx-po-new") == ["no-issues"] and codes_of(bundle, "rx-po-old") == ["no-issues"]
    del resource(bundle, "rx-po-new")["priorPrescription"]  # unlinked: 45 + 60 = 105 mg/day
    assert {"daily-dose-exceeds-maximum", "duplicate-therapy"} <= set(codes_of(bundle, "rx-po-new"))


def test_a_home_medication_statement_is_history_not_a_second_order() -> None:
    assert codes_of(scenario("oral-home-medication-continued-ok"), "rx-po-1") == ["no-issues"]


# --- 8. patient factors by route ------------------------------------------------------------------------------


def test_minimum_age_depends_on_the_route() -> None:
    assert codes_of(scenario("age-6-intrathecal-ok"), "rx-it-1") == ["no-issues"]
    finding = only(scenario("age-6-oral"), "rx-po-1", "pediatric-safety-not-established")
    assert "below 12 years" in finding.text


def test_the_age_band_maximum_applies_to_young_children() -> None:
    bundle = scenario("age-6-oral-over-age-band")
    finding = only(bundle, "rx-po-2", "daily-dose-exceeds-maximum")
    assert "Daily dose 45 mg exceeds 40 mg/day" in finding.text and "ages 2 to 7" in finding.text
    resource(bundle, "rx-po-2")["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = 2  # 15 mg twice: 30 mg/day
    assert "daily-dose-exceeds-maximum" not in codes_of(bundle, "rx-po-2")


def test_pregnancy_as_a_loinc_answer() -> None:
    assert codes_of(scenario("pregnancy-loinc-answer"), "rx-po-1") == ["pregnancy"]
    assert codes_of(scenario("pregnancy-loinc-not-pregnant-ok"), "rx-po-1") == ["no-issues"]


def test_an_unverifiable_route_is_one_clear_warning_not_the_injection_error() -> None:
    bundle = scenario("transdermal-unknown-product")
    finding = only(bundle, "rx-td", "route-unverified")
    assert severity(finding) == "warning" and "transdermal route cannot be checked" in finding.text
    assert codes_of(bundle, "rx-td") == ["route-unverified"]


def test_a_lone_stopped_order_still_warns_without_any_context() -> None:
    assert rules_of(check(oral_order(status="stopped"))) == ["abrupt-discontinuation"]


def _pregnancy_status(bundle: dict, when: str) -> dict:
    observation = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    return {**observation, "id": f"preg-{when[:10]}", "effectiveDateTime": when}


def test_a_newer_not_pregnant_answer_replaces_an_older_pregnant_one_and_not_the_reverse() -> None:
    newer_negative = scenario("pregnancy-loinc-not-pregnant-ok")  # 2026-11-18: not pregnant
    newer_negative["entry"].append({"resource": _pregnancy_status(scenario("pregnancy-loinc-answer"), "2026-01-05T10:00:00Z")})
    assert codes_of(newer_negative, "rx-po-1") == ["no-issues"]
    newer_positive = scenario("pregnancy-loinc-answer")  # 2026-11-18: pregnant
    newer_positive["entry"].append({"resource": _pregnancy_status(scenario("pregnancy-loinc-not-pregnant-ok"), "2026-01-05T10:00:00Z")})
    assert codes_of(newer_positive, "rx-po-1") == ["pregnancy"]


@pytest.mark.parametrize(
    "reason",
    [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason", "code": "sintol"}]},
        {"text": "stopped: severe drowsiness, suspected adverse reaction"},
    ],
)
def test_an_oral_stop_for_an_adverse_reaction_still_warns_but_names_the_labels_exception(reason: dict) -> None:
    finding = next(f for f in check(oral_order(status="stopped", statusReason=reason)).findings)
    assert finding.rule == "abrupt-discontinuation" and "allows a rapid withdrawal" in finding.text
    plain = next(f for f in check(oral_order(status="stopped", statusReason={"text": "patient discharged"})).findings)
    assert "allows a rapid withdrawal" not in plain.text


def test_the_boxed_warning_has_no_adverse_reaction_exception() -> None:
    bundle = scenario("it-order-stopped")
    resource(bundle, "rx-it-1")["statusReason"] = {"text": "suspected adverse reaction"}
    finding = only(bundle, "rx-it-1", "abrupt-discontinuation")
    assert severity(finding) == "error" and "allows a rapid withdrawal" not in finding.text


def test_concurrent_orders_cost_linear_work_and_short_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    # every order of a Bundle of n current orders is summed with the n - 1 others: listed and summed once per
    # Bundle, never per order; a message names three and counts the rest
    for n in (20, 80):
        calls = 0
        real = Course.on_route

        def counting(self, use, real=real):  # noqa: ANN001, ANN202
            nonlocal calls
            calls += 1
            return real(self, use)

        monkeypatch.setattr(Course, "on_route", counting)
        report = check(_bundle(n))
        duplicates = [f for f in report.findings if f.rule == "duplicate-therapy"]
        assert len(duplicates) == n and all(f"{n - 4} more current orders" in f.text for f in duplicates)
        assert calls <= 12 * n, f"{calls} route checks for {n} orders"


def test_a_stop_with_no_route_warns_for_the_route_the_record_shows_not_every_route() -> None:
    bundle = scenario("it-order-stopped")  # on intrathecal therapy since 2023 (MedicationStatement)
    del resource(bundle, "rx-it-1")["dosageInstruction"][0]["route"]
    resource(bundle, "rx-it-1")["contained"][0].pop("form", None)  # nor a form to infer it from
    found = [f for f in findings_of(bundle, "rx-it-1") if f.rule == "abrupt-discontinuation"]
    assert [("intrathecal order" in f.text, severity(f)) for f in found] == [(True, "error")]
    alone = [f for f in check(oral_order(status="stopped", dosageInstruction=[])).findings if f.rule == "abrupt-discontinuation"]
    assert len(alone) == 2  # nothing on record: every route's warning (fail safe)


def test_an_unverifiable_route_with_a_strength_and_an_unreadable_dose_is_still_one_warning() -> None:
    bundle = scenario("transdermal-unknown-product")
    order = resource(bundle, "rx-td")
    order["medicationCodeableConcept"] = {"text": "Baclofen 5% (50 mg/g) transdermal cream, compounded"}
    order.pop("medicationReference", None)
    order.pop("contained", None)  # its Medication, now referenced by nothing (dom-3)
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 1, "unit": "application"}
    assert codes_of(bundle, "rx-td") == ["route-unverified"]
    order["dosageInstruction"][0]["route"] = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]}
    assert "route-unverified" not in codes_of(bundle, "rx-td")  # by mouth the same order is checked (and fails)


def _unreadable(order: dict) -> None:
    """A dose medval cannot read: free text with no amount, no doseAndRate; the coded route stays."""
    for dosage in order["dosageInstruction"]:
        dosage.pop("doseAndRate", None)
        dosage["text"] = "as directed"


def test_an_active_order_beside_one_with_an_unreadable_dose_is_not_passed_as_checked() -> None:
    bundle = scenario("oral-two-active-orders-over-maximum")
    _unreadable(resource(bundle, "rx-po-sched"))
    found = {f.rule: f for f in findings_of(bundle, "rx-po-prn")}
    assert "no-issues" not in found
    assert "rx-po-sched" in found["duplicate-therapy"].text and "could not be computed" in found["duplicate-therapy"].text
    unverified = [f for f in findings_of(bundle, "rx-po-prn") if f.rule == "dose-unverified" and "rx-po-sched" in f.text]
    assert len(unverified) == 1 and "80 mg/day oral maximum" in unverified[0].text, [f.text for f in unverified]


def test_a_replaced_order_with_an_unreadable_dose_stays_quiet() -> None:
    bundle = scenario("oral-two-active-orders-over-maximum")
    _unreadable(resource(bundle, "rx-po-sched"))
    resource(bundle, "rx-po-prn")["priorPrescription"] = {"reference": "MedicationRequest/rx-po-sched"}
    assert codes_of(bundle, "rx-po-prn") == ["no-issues"]
