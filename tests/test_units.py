"""validator.units.parse_unit: UCUM codes and the spellings EHRs actually send.

Factors are checked by hand: 1 ug = 0.001 mg; 1 ug/h = 24 ug/day = 0.024 mg/day;
1 mL/h = 24 mL/day; 1 g = 1000 mg.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.profile import default_profiles
from validator.units import UnitKind, format_mass, mass_factor, parse_unit

COUNT_UNITS = default_profiles().profiles[0].count_units


@pytest.mark.parametrize(
    ("unit", "kind", "factor"),
    [
        ("ug", UnitKind.MASS, 0.001),
        ("mcg", UnitKind.MASS, 0.001),
        ("µg", UnitKind.MASS, 0.001),
        ("mg", UnitKind.MASS, 1.0),
        ("g", UnitKind.MASS, 1000.0),
        ("mL", UnitKind.VOLUME, 1.0),
        ("ml", UnitKind.VOLUME, 1.0),
        ("L", UnitKind.VOLUME, 1000.0),
        ("ug/d", UnitKind.MASS_RATE, 0.001),
        ("mcg/d", UnitKind.MASS_RATE, 0.001),
        ("ug/h", UnitKind.MASS_RATE, 0.024),
        ("mg/d", UnitKind.MASS_RATE, 1.0),
        ("mg/wk", UnitKind.MASS_RATE, 1 / 7),
        ("mL/h", UnitKind.VOLUME_RATE, 24.0),
        ("mL/d", UnitKind.VOLUME_RATE, 1.0),
    ],
)
def test_ucum_and_common_mass_volume_units(unit: str, kind: UnitKind, factor: float) -> None:
    parsed = parse_unit(unit)
    assert parsed is not None, unit
    assert parsed.kind is kind
    assert parsed.factor == pytest.approx(factor, rel=1e-12)
    assert parsed.label == unit
    assert parsed.count_name is None


@pytest.mark.parametrize(
    ("unit", "name"),
    [("TAB", "tab"), ("tab", "tab"), ("tablet", "tablet"), ("Tablets", "tablets"), ("{tbl}", "{tbl}"), ("{tablet}", "{tablet}")],
)
def test_count_units_of_the_profile(unit: str, name: str) -> None:
    parsed = parse_unit(unit, COUNT_UNITS)
    assert parsed is not None
    assert parsed.kind is UnitKind.COUNT
    assert parsed.factor == 1.0
    assert parsed.count_name == name


def test_count_units_need_the_profile_to_name_them() -> None:
    # "tablet" means nothing to the engine on its own: it is the profile's word
    assert parse_unit("TAB") is None
    assert parse_unit("{tbl}") is None


def test_ucum_annotation_on_a_mass_unit_is_ignored() -> None:
    parsed = parse_unit("mg{total}")
    assert parsed is not None and parsed.kind is UnitKind.MASS and parsed.factor == 1.0


@pytest.mark.parametrize(
    "unit",
    [None, "", "   ", "%", "U", "mmol", "puffs", "{puff}", "h", "d", "drop", "x" * 41, "mg/", "/", "mg/g", "g/L", "mg2", "mg/(", "mg)("],
)
def test_no_usable_dose_unit_is_none(unit: str | None) -> None:
    assert parse_unit(unit, COUNT_UNITS) is None


def test_mass_factor_and_format_mass() -> None:
    assert mass_factor("ug") == pytest.approx(0.001)
    assert mass_factor("mg") == 1.0
    with pytest.raises(ValueError):
        mass_factor("mL")
    assert format_mass(120, "mg") == "120 mg"
    assert format_mass(0.8, "ug") == "800 mcg"
    assert format_mass(0.05, "ug") == "50 mcg"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_unit(text, COUNT_UNITS)
    if parsed is not None:
        assert math.isfinite(parsed.factor) and parsed.factor > 0
        assert isinstance(parsed.kind, UnitKind)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ug", "mg", "g", "mL", "L", "d", "h", "min", "wk", "mcg", "/", ".", "*", "{", "}", "1", "10", "^", "-", " ", "("]),
        max_size=8,
    ).map("".join)
)
def test_unit_like_strings_never_raise(text: str) -> None:
    parsed = parse_unit(text, COUNT_UNITS)
    assert parsed is None or (math.isfinite(parsed.factor) and parsed.factor > 0)


@pytest.mark.parametrize(
    ("unit", "kind", "factor"),
    [
        ("MG", UnitKind.MASS, 1.0),
        ("MCG", UnitKind.MASS, 0.001),
        ("UG", UnitKind.MASS, 0.001),
        ("ML", UnitKind.VOLUME, 1.0),  # a millilitre, never a megalitre
        ("MCG/HR", UnitKind.MASS_RATE, 0.024),
        ("MCG/D", UnitKind.MASS_RATE, 0.001),
        ("MG/DAY", UnitKind.MASS_RATE, 1.0),
        ("ML/H", UnitKind.VOLUME_RATE, 24.0),
    ],
)
def test_upper_case_spellings_ehrs_send(unit: str, kind: UnitKind, factor: float) -> None:
    parsed = parse_unit(unit)
    assert parsed is not None and parsed.kind is kind
    assert parsed.factor == pytest.approx(factor)


# UCUM terms (https://ucum.org/ucum, section 2: "." multiplies, "/" divides, a trailing integer is an exponent,
# a leading integer a factor, {...} an annotation, "1" the unity) and the amount each is in mg, mL, mg/day or mL/day.
UCUM_TABLE = [
    ("mg", UnitKind.MASS, 1.0),
    ("ug", UnitKind.MASS, 0.001),
    ("kg", UnitKind.MASS, 1e6),
    ("10*3.ug", UnitKind.MASS, 1.0),
    ("mg{total}", UnitKind.MASS, 1.0),
    ("mL", UnitKind.VOLUME, 1.0),
    ("dL", UnitKind.VOLUME, 100.0),
    ("l", UnitKind.VOLUME, 1000.0),
    ("[tsp_us]", UnitKind.VOLUME, 4.92892159375),
    ("mg/d", UnitKind.MASS_RATE, 1.0),
    ("mg.d-1", UnitKind.MASS_RATE, 1.0),
    ("ug.d-1", UnitKind.MASS_RATE, 0.001),
    ("ug/(24.h)", UnitKind.MASS_RATE, 0.001),
    ("mg/(24.h)", UnitKind.MASS_RATE, 1.0),
    ("mg/(8.h)", UnitKind.MASS_RATE, 3.0),
    ("mg/(12.h)", UnitKind.MASS_RATE, 2.0),
    ("mg.h-1", UnitKind.MASS_RATE, 24.0),
    ("ug/min", UnitKind.MASS_RATE, 1.44),
    ("mg/wk", UnitKind.MASS_RATE, 1 / 7),
    ("mg/mo", UnitKind.MASS_RATE, 1 / 30.4375),
    ("mg/a", UnitKind.MASS_RATE, 1 / 365.25),
    ("g/d", UnitKind.MASS_RATE, 1000.0),
    ("mL/h", UnitKind.VOLUME_RATE, 24.0),
    ("mL/(12.h)", UnitKind.VOLUME_RATE, 2.0),
    ("mL.d-1", UnitKind.VOLUME_RATE, 1.0),
]


@pytest.mark.parametrize(("unit", "kind", "factor"), UCUM_TABLE)
def test_ucum_table(unit: str, kind: UnitKind, factor: float) -> None:
    parsed = parse_unit(unit)
    assert parsed is not None, unit
    assert (parsed.kind, parsed.per_kg) == (kind, False)
    assert parsed.factor == pytest.approx(factor, rel=1e-9)


@pytest.mark.parametrize(
    ("unit", "kind", "factor"),
    [
        ("mg/kg", UnitKind.MASS, 1.0),
        ("ug/kg", UnitKind.MASS, 0.001),
        ("mg/kg/d", UnitKind.MASS_RATE, 1.0),
        ("mg/kg.d-1", UnitKind.MASS_RATE, 1.0),
        ("ug/kg/min", UnitKind.MASS_RATE, 1.44),
        ("mg/kg/day", UnitKind.MASS_RATE, 1.0),
        ("MCG/KG/HR", UnitKind.MASS_RATE, 0.024),
    ],
)
def test_per_kg_units_are_weight_based(unit: str, kind: UnitKind, factor: float) -> None:
    parsed = parse_unit(unit)
    assert parsed is not None and parsed.per_kg and parsed.kind is kind
    assert parsed.factor == pytest.approx(factor)


def test_a_plain_mass_is_not_per_kg() -> None:  # the safe look-alike of mg/kg
    assert not parse_unit("mg").per_kg and not parse_unit("kg").per_kg and not parse_unit("mg/d").per_kg


@pytest.mark.parametrize("unit", ["1", "1{tablet}", "{tbl}"])
def test_unity_and_annotations_are_a_count_of_the_product(unit: str) -> None:
    parsed = parse_unit(unit, COUNT_UNITS)
    assert parsed is not None and parsed.kind is UnitKind.COUNT and parsed.factor == 1.0
