"""validator.normalise.timing.normalise_timing: administrations a day from FHIR Timing.

Each expected count is worked out by hand from the Timing: "frequency 1 per 8 h" is 24/8 = 3 a day,
"2 per week" is 2/7 a day, GTS QOD is every other day = 0.5 a day, and so on.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from fhir.resources.R4B.timing import Timing
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from validator.normalise.timing import normalise_timing

GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
WHERE = "dosageInstruction[0]"
DOSAGE = ("dosageInstruction", 0)


def per_day(timing: dict[str, Any] | None, as_needed: bool = False) -> Any:
    model = Timing.model_validate(timing) if timing is not None else None
    return normalise_timing(model, as_needed, DOSAGE)


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [
        ({"frequency": 3, "period": 1, "periodUnit": "d"}, 3),
        ({"frequency": 1, "period": 8, "periodUnit": "h"}, 3),
        ({"frequency": 1, "period": 6, "periodUnit": "h"}, 4),
        ({"frequency": 1, "period": 12, "periodUnit": "h"}, 2),
        ({"frequency": 2, "period": 1, "periodUnit": "wk"}, 2 / 7),
        ({"frequency": 1, "period": 2, "periodUnit": "d"}, 0.5),
        ({"frequency": 1, "period": 30, "periodUnit": "min"}, 48),
        ({"period": 1, "periodUnit": "d"}, 1),  # frequency defaults to 1
        # frequencyMax: an as-needed "1 to 4 times a day" counts at 4
        ({"frequency": 1, "frequencyMax": 4, "period": 1, "periodUnit": "d"}, 4),
        # periodMax: "every 4 to 6 hours" is at most every 4 hours, 6 a day
        ({"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}, 6),
        # when / timeOfDay alone: one administration per listed time
        ({"when": ["MORN", "NIGHT"]}, 2),
        ({"when": ["HS"]}, 1),
        ({"timeOfDay": ["08:00:00", "14:00:00", "20:00:00"]}, 3),
        # "once a day" at two listed times is two a day, the larger reading
        ({"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["08:00:00", "20:00:00"]}, 2),
        # count caps the total: 4 a day but only 2 administrations in all
        ({"frequency": 4, "period": 1, "periodUnit": "d", "count": 2}, 2),
        # boundsDuration caps: 4 a day (every 6 h) for only 12 h is 2 administrations
        (
            {
                "frequency": 4,
                "period": 1,
                "periodUnit": "d",
                "boundsDuration": {"value": 12, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h"},
            },
            2,
        ),
        # a bound longer than a day changes nothing
        (
            {
                "frequency": 1,
                "period": 6,
                "periodUnit": "h",
                "boundsDuration": {"value": 5, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
            },
            4,
        ),
    ],
)
def test_repeat(repeat: dict[str, Any], expected: float) -> None:
    facts = per_day({"repeat": repeat})
    assert facts.problem is None
    assert facts.per_day == pytest.approx(expected)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("QD", 1), ("BID", 2), ("TID", 3), ("QID", 4), ("QOD", 0.5), ("Q4H", 6), ("Q6H", 4), ("Q8H", 3), ("Q12H", 2), ("AM", 1), ("PM", 1)],
)
def test_gts_code(code: str, expected: float) -> None:
    facts = per_day({"code": {"coding": [{"system": GTS, "code": code, "display": code}]}})
    assert facts.problem is None
    assert facts.per_day == pytest.approx(expected)
    assert facts.description == code


def test_gts_code_in_text_and_lower_case() -> None:
    assert per_day({"code": {"text": "bid"}}).per_day == 2
    assert per_day({"code": {"coding": [{"system": GTS, "code": "q6h"}]}}).per_day == 4


def test_code_beside_a_repeat_that_only_bounds_the_course() -> None:
    # R4 examples send Timing.code BID with repeat.boundsPeriod: the code carries the frequency
    facts = per_day({"repeat": {"boundsPeriod": {"start": "2026-11-20"}}, "code": {"coding": [{"system": GTS, "code": "BID"}]}})
    assert facts.per_day == 2


def test_unknown_code_and_q0h_are_unverified() -> None:
    for timing in ({"code": {"text": "as directed by clinic"}}, {"code": {"coding": [{"system": GTS, "code": "Q0H"}]}}):
        facts = per_day(timing)
        assert facts.per_day is None
        assert facts.problem is not None and facts.problem.rule == "frequency-unverified"


def test_event_counts_the_busiest_day() -> None:
    facts = per_day({"event": ["2026-11-20T08:00:00Z", "2026-11-20T20:00:00Z", "2026-11-21T08:00:00Z"]})
    assert facts.per_day == 2 and not facts.one_off
    single = per_day({"event": ["2026-11-20T08:00:00Z"]})
    assert single.per_day == 1 and single.one_off


def test_count_one_is_a_single_administration() -> None:
    facts = per_day({"repeat": {"count": 1}})
    assert facts.per_day == 1 and facts.one_off and facts.problem is None


def test_several_administrations_without_a_period_are_unverified() -> None:
    facts = per_day({"repeat": {"count": 3}})
    assert facts.per_day is None
    assert facts.problem is not None and facts.problem.rule == "frequency-unverified"
    assert facts.problem.expression == "dosageInstruction[0].timing.repeat"


def test_as_needed_is_carried() -> None:
    facts = per_day({"repeat": {"frequency": 1, "frequencyMax": 3, "period": 1, "periodUnit": "d"}}, as_needed=True)
    assert facts.as_needed and facts.per_day == 3


@pytest.mark.parametrize("period", [0, -1, -0.5])
def test_zero_and_negative_periods_are_unverified(period: float) -> None:
    facts = per_day({"repeat": {"frequency": 3, "period": period, "periodUnit": "d"}})
    assert facts.per_day is None
    assert facts.problem is not None
    assert facts.problem.rule == "frequency-unverified"
    assert facts.problem.expression == "dosageInstruction[0].timing.repeat"
    assert "period" in facts.problem.reason


@pytest.mark.parametrize(
    ("timing", "expression"),
    [
        (None, WHERE),
        ({}, "dosageInstruction[0].timing"),
        ({"repeat": {"frequency": 3}}, "dosageInstruction[0].timing.repeat"),  # no period
        ({"repeat": {"boundsDuration": {"value": 7, "code": "d"}}}, "dosageInstruction[0].timing"),
    ],
)
def test_no_usable_timing(timing: dict[str, Any] | None, expression: str) -> None:
    facts = per_day(timing)
    assert facts.per_day is None
    assert facts.problem is not None and facts.problem.rule == "frequency-unverified"
    assert facts.problem.expression == expression


def test_period_unit_that_is_no_time_is_unverified() -> None:
    # periodUnit is a required code binding; a model built without validation can still carry junk
    model = Timing.model_construct(repeat=Timing.model_validate({"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}).repeat)
    model.repeat.periodUnit = "fortnight"
    facts = normalise_timing(model, False, DOSAGE)
    assert facts.per_day is None and facts.problem is not None and facts.problem.rule == "frequency-unverified"


def test_absurdly_short_period_is_unverified_not_infinite() -> None:
    facts = per_day({"repeat": {"frequency": 2147483647, "period": 1e-300, "periodUnit": "s"}})
    assert facts.per_day is None
    assert facts.problem is not None and facts.problem.rule == "frequency-unverified"


# --- properties over valid R4B Timing models ---------------------------------------------------------

_positive_int = st.integers(min_value=1, max_value=2**31 - 1)
_decimal = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e308, max_value=1e308),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from([0, 1, 0.5, 1e-300, 5e-324, 1e300]),
)
_time_unit = st.sampled_from(["s", "min", "h", "d", "wk", "mo", "a"])
_when = st.sampled_from(["MORN", "AFT", "EVE", "NIGHT", "HS", "WAKE", "C", "CM", "CD", "CV", "AC", "PC", "PHS"])
_time = st.times().map(lambda t: t.replace(microsecond=0).isoformat())
_gts = st.sampled_from(["QD", "BID", "TID", "QID", "QOD", "Q4H", "Q6H", "Q8H", "Q12H", "Q99H", "Q0H", "AM", "PM", "WK", "MO", "XYZ", ""])
_coding = st.fixed_dictionaries({"system": st.just(GTS), "code": _gts.filter(bool)})
_duration = st.fixed_dictionaries(
    {"value": _decimal, "code": _time_unit}, optional={"system": st.just("http://unitsofmeasure.org"), "unit": st.text(max_size=5)}
)
_repeat = st.fixed_dictionaries(
    {},
    optional={
        "frequency": _positive_int,
        "frequencyMax": _positive_int,
        "period": _decimal,
        "periodMax": _decimal,
        "periodUnit": _time_unit,
        "count": _positive_int,
        "countMax": _positive_int,
        "when": st.lists(_when, max_size=4),
        "timeOfDay": st.lists(_time, max_size=5),
        "boundsDuration": _duration,
        "offset": st.integers(min_value=0, max_value=1000),
    },
)
_event = st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat())
_timing = st.fixed_dictionaries(
    {},
    optional={
        "repeat": _repeat,
        "code": st.fixed_dictionaries(
            {}, optional={"coding": st.lists(_coding, max_size=2), "text": _gts.filter(bool) | st.text(max_size=10)}
        ),
        "event": st.lists(_event, max_size=4),
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(_timing, st.booleans())
def test_any_valid_timing_never_raises_and_gives_a_finite_positive_count(raw: dict[str, Any], as_needed: bool) -> None:
    try:
        model = Timing.model_validate(raw)
    except ValidationError:
        assume(False)
        return
    facts = normalise_timing(model, as_needed, DOSAGE)
    if facts.per_day is None:
        assert facts.problem is not None and facts.problem.rule == "frequency-unverified"
        assert facts.problem.expression.startswith(WHERE)
    else:
        assert math.isfinite(facts.per_day) and facts.per_day > 0
        assert facts.problem is None


def test_period_that_underflows_to_zero_days_is_unverified_not_a_crash() -> None:
    # 5e-324 s is a valid FHIR decimal; as days it underflows to 0.0 (was a ZeroDivisionError)
    facts = per_day({"repeat": {"frequency": 1, "period": 5e-324, "periodUnit": "s"}})
    assert facts.per_day is None
    assert facts.problem is not None and facts.problem.rule == "frequency-unverified"


def test_astronomically_long_bounds_cap_nothing_and_do_not_crash() -> None:
    # boundsDuration x per_day overflowed to infinity and math.ceil raised OverflowError
    repeat = {"frequency": 1, "period": 1e-300, "periodUnit": "a", "boundsDuration": {"value": 1e300, "code": "a"}}
    facts = per_day({"repeat": repeat})
    assert facts.per_day is None or (math.isfinite(facts.per_day) and facts.per_day > 0)
    assert (
        per_day({"repeat": {"frequency": 3, "period": 1, "periodUnit": "d", "boundsDuration": {"value": 1e308, "code": "a"}}}).per_day == 3
    )


SNOMED_CT = "http://snomed.info/sct"


@pytest.mark.parametrize(
    ("code", "expected", "one_off"),
    [
        ("229797004", 1, False),  # Once daily
        ("229799001", 2, False),  # Twice a day
        ("229798009", 3, False),  # Three times daily
        ("307439001", 4, False),  # Four times daily
        ("225756002", 6, False),  # Every four hours
        ("307469008", 3, False),  # Every eight hours
        ("396139000", 4, False),  # Every six to eight hours: at most every 6 h
        ("396109005", 4, False),  # One to four times a day: at most 4
        ("307486002", 1, True),  # Once only
    ],
)
def test_snomed_frequency_concepts(code: str, expected: float, one_off: bool) -> None:
    facts = per_day({"code": {"coding": [{"system": SNOMED_CT, "code": code}]}})
    assert facts.per_day == pytest.approx(expected) and facts.one_off is one_off and facts.problem is None


def test_an_unknown_snomed_code_is_not_read_as_a_gts_abbreviation() -> None:  # look-alike: SNOMED "BID" is no code
    facts = per_day({"code": {"coding": [{"system": SNOMED_CT, "code": "123456789"}]}})
    assert facts.per_day is None and facts.problem is not None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ({"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698288.300", "code": "100017", "display": "Every 8 hours"}]}, 3),
        ({"coding": [{"system": "http://vendor.example.org/freq", "code": "X7", "display": "3 times daily with meals"}]}, 3),
        ({"text": "in the morning and at bedtime"}, 2),
        ({"text": "q4-6h"}, 6),
    ],
)
def test_vendor_codings_are_read_by_their_words(code: dict[str, Any], expected: float) -> None:
    facts = per_day({"code": code})
    assert facts.per_day == pytest.approx(expected)


def test_vendor_words_that_say_more_than_a_frequency_are_not_guessed() -> None:
    assert per_day({"code": {"text": "daily except Sundays"}}).per_day is None
    assert per_day({"code": {"text": "2 tablets twice daily"}}).per_day is None  # a dose in a timing code: not a timing


def test_words_of_a_timing_code_are_read() -> None:  # once unverified; the sig reader reads it now
    assert per_day({"code": {"text": "twice daily"}}).per_day == 2


def test_once_as_words_is_one_off() -> None:
    facts = per_day({"code": {"text": "Once"}})
    assert facts.per_day == 1 and facts.one_off
    coded = per_day({"code": {"coding": [{"system": "http://vendor.example.org/freq", "code": "ONCE"}]}})
    assert coded.per_day == 1 and coded.one_off


def test_snomed_code_under_its_oid() -> None:
    facts = per_day({"code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.96", "code": "229798009"}]}})
    assert facts.per_day == 3


def test_bounds_period_start_equal_to_end_is_one_off() -> None:
    facts = per_day({"repeat": {"boundsPeriod": {"start": "2026-01-05T08:00:00Z", "end": "2026-01-05T08:00:00Z"}}})
    assert facts.per_day == 1 and facts.one_off
    # look-alike: a course bounded by two different dates is not one dose
    course = per_day({"repeat": {"boundsPeriod": {"start": "2026-01-05", "end": "2026-01-09"}}})
    assert not course.one_off and course.per_day is None


def test_time_of_day_list_without_frequency_counts_each_time() -> None:
    assert per_day({"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}}).per_day == 2


def test_count_is_the_whole_course_not_a_day() -> None:
    facts = per_day({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "count": 10}})
    assert facts.per_day == 1 and not facts.one_off


def test_frequency_max_and_period_max_give_the_daily_maximum() -> None:
    assert per_day({"repeat": {"frequency": 2, "frequencyMax": 3, "period": 4, "periodMax": 6, "periodUnit": "h"}}).per_day == 18
