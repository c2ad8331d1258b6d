"""Pump rates as EHRs write them (rateQuantity, rateRatio; per hour, per day; mcg, mg), read into the delivered
daily dose and judged for slips. Properties over many values (hypothesis), beside the worked examples in
tests/test_therapy_doses.py."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.context.from_bundle import contained_resolver
from validator.normalise import normalise_order
from validator.parse import parse_resource
from validator.profile import default_profiles
from validator.rules.dose import unit_slip

from .conftest import UCUM, intrathecal_order

PROFILES = default_profiles()
PROFILE = PROFILES.by_text("baclofen")


def _pump(rate: dict[str, Any]) -> Any:
    order = intrathecal_order()
    order["dosageInstruction"][0]["doseAndRate"] = [rate]
    model, problems = parse_resource(order, "4.0")
    assert model is not None, problems
    return normalise_order(model, PROFILES, contained_resolver(model)).dosages[0]


def _quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


values = st.decimals(min_value="0.5", max_value="5000", places=1).map(float)


@settings(max_examples=60, deadline=None)
@given(values)
def test_a_rate_per_hour_delivers_24_times_the_same_rate_per_day(value: float) -> None:
    per_day = _pump({"rateQuantity": _quantity(value, "ug/d")})
    per_hour = _pump({"rateQuantity": _quantity(value, "ug/h")})
    assert per_hour.daily_mg == pytest.approx(24 * per_day.daily_mg)
    assert per_day.daily_mg == pytest.approx(value / 1000)


@settings(max_examples=60, deadline=None)
@given(values, st.sampled_from(["ug", "mg"]), st.sampled_from(["h", "d"]))
def test_a_rate_ratio_reads_as_the_rate_quantity_it_spells(value: float, mass: str, per: str) -> None:
    ratio = _pump({"rateRatio": {"numerator": _quantity(value, mass), "denominator": _quantity(1, per)}})
    quantity = _pump({"rateQuantity": _quantity(value, f"{mass}/{per}")})
    assert ratio.daily_mg == pytest.approx(quantity.daily_mg)
    slips = unit_slip(ratio, PROFILE), unit_slip(quantity, PROFILE)
    assert (slips[0] is None) == (slips[1] is None)
    if slips[0] is not None:
        assert slips[0].kind == slips[1].kind and slips[0].meant_mg == pytest.approx(slips[1].meant_mg)


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=84, max_value=2000))
def test_a_plausible_daily_dose_written_per_hour_is_read_back_as_the_dose_meant(mcg_per_day: int) -> None:
    # x24 leaves the 25-2000 mcg/day plausible range from 84 mcg/day up: the slip names the dose meant
    slip = unit_slip(_pump({"rateQuantity": _quantity(mcg_per_day, "ug/h")}), PROFILE)
    assert slip is not None and slip.kind == "time" and slip.meant_mg == pytest.approx(mcg_per_day / 1000)
    assert unit_slip(_pump({"rateQuantity": _quantity(mcg_per_day, "ug/d")}), PROFILE) is None


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value="0.001", max_value="0.08", places=4).map(float))
def test_a_volume_rate_per_hour_is_never_a_time_slip(ml_per_hour: float) -> None:
    # pumps are programmed in mL/h: 0.001-0.08 mL/h of 2000 mcg/mL is 48-3840 mcg/day, judged as delivered only
    slip = unit_slip(_pump({"rateQuantity": _quantity(ml_per_hour, "mL/h")}), PROFILE)
    assert slip is None or slip.kind != "time"
