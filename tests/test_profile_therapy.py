"""The profile's therapy-over-time knowledge (issue 11): every new number carries its source, the schema
refuses one that does not, and profile.py compiles the facts into typed values in mg.

The rules that read these facts land later; these tests pin the knowledge they will read.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from validator.profile import ProfileError, compile_profile, default_profiles

from .conftest import ROOT, load_broken_profile

BACLOFEN = json.loads((ROOT / "validator" / "profiles" / "baclofen.json").read_text())
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


def _drop_source(*path: str | int) -> Any:
    def break_it(profile: dict[str, Any]) -> None:
        node: Any = profile
        for key in path:
            node = node[key]
        node.pop("source")

    return break_it


IT = ("dosing", "intrathecal")
ORAL = ("dosing", "oral")


@pytest.mark.parametrize(
    "path",
    [
        (*IT, "maximum_daily"),
        (*IT, "plausible_daily"),
        (*IT, "screening", "steps"),
        (*IT, "screening", "min_interval_hours"),
        (*IT, "screening", "maximum_bolus"),
        (*IT, "screening", "pediatric_first"),
        (*IT, "screening", "observation_hours"),
        (*IT, "screening", "bolus_concentration"),
        (*IT, "implant_start", "no_increase_first_hours"),
        (*IT, "implant_start", "same_dose_if_effect_over_hours"),
        (*IT, "maintenance_adjustment_percent_by_origin", "spinal", "increase"),
        (*IT, "maintenance_adjustment_percent_by_origin", "cerebral", "decrease"),
        (*IT, "taper"),
        (*ORAL, "titration", "max_step_daily"),
        (*ORAL, "titration", "schedule"),
        (*ORAL, "titration", "maximum_regimen"),
        (*ORAL, "taper"),
        (*ORAL, "maximum_daily_by_age", 0),
        ("population", "minimum_age_by_route", "intrathecal"),
        ("context", "answer_lists", "pregnancy-status"),
        ("context", "answer_lists", "pregnancy-status", "answers", "positive", 0),
    ],
    ids=lambda p: ".".join(map(str, p)),
)
def test_a_new_number_without_its_source_is_refused(tmp_path: Path, path: tuple[str | int, ...]) -> None:
    error = load_broken_profile(tmp_path, _drop_source(*path))
    assert "baclofen.json" in str(error)
    assert ".".join(map(str, path)) in str(error)
    assert "'source' is a required property" in str(error)


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda p: p["dosing"]["intrathecal"]["screening"]["steps"].update(values=[]), "dosing.intrathecal.screening.steps.values"),
        (lambda p: p["dosing"]["intrathecal"]["screening"]["steps"].update(values=[50, -75]), "dosing.intrathecal.screening.steps.values"),
        (lambda p: p["dosing"]["intrathecal"]["taper"].update(minimum_days=0), "dosing.intrathecal.taper.minimum_days"),
        (lambda p: p["dosing"]["intrathecal"]["screening"].update(surprise=1), "dosing.intrathecal.screening"),
        (lambda p: p["context"]["answer_lists"]["pregnancy-status"].update(answer_list="4129-4"), "answer_list"),
        (lambda p: next(r for r in p["routes"] if r["id"] == "transdermal").pop("unverifiable_reason"), "routes."),
    ],
)
def test_malformed_therapy_facts_are_refused(tmp_path: Path, break_it: Any, field: str) -> None:
    assert field in str(load_broken_profile(tmp_path, break_it))


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda p: p["dosing"]["intrathecal"]["screening"]["steps"].update(values=[75, 50, 100]), r"screening\.steps: the steps must rise"),
        (lambda p: p["dosing"]["intrathecal"]["screening"]["bolus_concentration"].update(unit="ug"), r"bolus_concentration\.unit"),
        (lambda p: p["population"]["minimum_age_by_route"].update(nasal={"value": 6, "source": "x" * 5}), r"minimum_age_by_route\.nasal"),
        (lambda p: p["dosing"]["oral"]["maximum_daily_by_age"][0].update(age_from=9), r"maximum_daily_by_age\[0\]"),
        (
            lambda p: p["context"]["answer_lists"]["pregnancy-status"]["answers"]["negative"].append(
                p["context"]["answer_lists"]["pregnancy-status"]["answers"]["positive"][0]
            ),
            r"pregnancy-status\.answers: a code with two meanings",
        ),
    ],
)
def test_therapy_facts_that_pass_the_schema_but_make_no_sense_are_refused(tmp_path: Path, break_it: Any, message: str) -> None:
    broken = copy.deepcopy(BACLOFEN)
    break_it(broken)
    with pytest.raises(ProfileError, match=message):
        compile_profile(broken, tmp_path / "baclofen.json")


def test_intrathecal_limits_compile_in_mg() -> None:
    (profile,) = default_profiles().profiles
    intrathecal = profile.dosing["intrathecal"]
    assert intrathecal.maximum_daily is not None and intrathecal.maximum_daily.value == pytest.approx(1.0)  # 1000 mcg
    assert intrathecal.plausible_daily is not None and intrathecal.plausible_daily.high == pytest.approx(2.0)  # 2000 mcg
    screening = intrathecal.screening
    assert screening is not None
    assert screening.steps_mg == pytest.approx((0.05, 0.075, 0.1))
    assert screening.min_interval_hours.value == 24
    assert screening.pediatric_first is not None and screening.pediatric_first.value == pytest.approx(0.025)
    assert screening.bolus_mg_per_ml is not None and screening.bolus_mg_per_ml.value == pytest.approx(0.05)  # 50 mcg/mL
    refill = intrathecal.maintenance_adjustment_percent_by_origin
    assert (refill["spinal"].increase.high, refill["cerebral"].increase.high) == (40, 20)
    assert refill["spinal"].decrease is not None and refill["spinal"].decrease.high == 20
    assert {k: v.high for k, v in intrathecal.adjustment_percent_by_origin.items()} == {"spinal": 30, "cerebral": 15}  # titration
    assert intrathecal.implant_no_increase_first_hours is not None and intrathecal.implant_no_increase_first_hours.value == 24
    assert intrathecal.taper_minimum_days is not None and intrathecal.taper_minimum_days.value == 14
    # every compiled number keeps its citation
    assert "1000 mcg/day" in intrathecal.maximum_daily.source and "100 mcg" in (
        screening.maximum_bolus.source if screening.maximum_bolus else ""
    )


def test_oral_titration_taper_and_age_bands_compile() -> None:
    (profile,) = default_profiles().profiles
    oral = profile.dosing["oral"]
    assert oral.titration_max_step_daily is not None and oral.titration_max_step_daily.value == 15  # mg/day per step
    assert (oral.maximum_single and oral.maximum_single.value, oral.maximum_times_per_day) == (20, 4)
    assert oral.taper_minimum_days is not None and oral.taper_minimum_days.value == 14
    assert [(b.age_from, b.age_below, b.mg) for b in oral.maximum_daily_by_age] == [(2, 8, 40), (8, 12, 60)]
    assert [b.mg for b in oral.maximum_daily_by_age if b.covers(6)] == [40]
    assert not any(b.covers(12) for b in oral.maximum_daily_by_age)
    assert profile.dosing["enteral-tube"].taper_minimum_days == oral.taper_minimum_days  # same_as: oral


def test_minimum_age_depends_on_the_route() -> None:
    (profile,) = default_profiles().profiles
    assert profile.minimum_age_for("intrathecal").value == 4  # type: ignore[union-attr]
    assert profile.minimum_age_for("oral").value == 12  # type: ignore[union-attr]
    assert profile.minimum_age_for(None) is profile.minimum_age  # no route: the profile-wide limit
    assert profile.minimum_age_for("epidural") is profile.minimum_age


def test_pregnancy_status_answers_by_meaning() -> None:
    (profile,) = default_profiles().profiles
    answers = profile.context.answer_lists["pregnancy-status"]
    assert answers.observation == (LOINC, "82810-3")
    assert answers.meaning(LOINC, "LA15173-0") == "positive"
    assert answers.meaning(SNOMED, "77386006") == "positive"
    assert answers.meaning(LOINC, "LA26683-5") == "negative"
    assert answers.meaning(SNOMED, "60001007") == "negative"
    assert answers.meaning(LOINC, "LA4489-6") == "unknown"
    assert answers.meaning(LOINC, "82810-3") is None
    # the LOINC answer is matched as a value by the pregnancy group, never searched as an observation code
    pregnancy = profile.context.groups["pregnancy"]
    assert pregnancy.matches_coding(LOINC, "LA15173-0") and not pregnancy.matches_coding(LOINC, "LA26683-5")
    assert "LA15173-0" not in profile.context.observation_codes


def test_transdermal_and_topical_are_unverifiable_not_forbidden() -> None:
    (profile,) = default_profiles().profiles
    for route_id in ("transdermal", "topical"):
        route = profile.routes[route_id]
        assert route.permitted and not route.verifiable and route.unverifiable_reason
    assert all(profile.routes[r].verifiable and not profile.routes[r].permitted for r in ("intravenous", "intramuscular", "epidural"))
