"""Units of dose and time: one pint registry per process, parsed strings cached.

Doses arrive as UCUM codes (`ug`, `mg`, `mL`, `ug/d`, `{tbl}`) or as the
spellings EHRs actually send (`mcg`, `TAB`, `tablet`). Everything a rule compares
is a mass in milligrams or a time in days; display goes back through pint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import pint


def _registry() -> pint.UnitRegistry:
    # pint caches its parsed definition files on disk (~20 ms instead of ~135 ms per process start,
    # which every `medval serve` worker pays); where no cache folder can be written, it parses them.
    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except Exception:  # an unwritable or broken cache must never stop the service
        return pint.UnitRegistry(cache_folder=None)


UREG = _registry()
UREG.define("mcg = microgram")
UREG.define("wk = week")
UREG.define("mo_ucum = 30.4375 * day")

_MG = UREG.milligram
_ML = UREG.milliliter
_DAY = UREG.day

# UCUM time units as used by Timing.periodUnit (UCUM 'a' is a year; pint reads it as an are).
TIME_UNIT_DAYS: dict[str, float] = {
    "s": 1 / 86400,
    "min": 1 / 1440,
    "h": 1 / 24,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.4375,
    "a": 365.25,
}

# Spellings of UCUM units that pint does not know by that name.
_ALIASES = {
    "ug": "microgram",
    "µg": "microgram",
    "μg": "microgram",
    "mcg": "microgram",
    "ml": "milliliter",
    "mL": "milliliter",
    "l": "liter",
    "L": "liter",
    "d": "day",
    "h": "hour",
    "hr": "hour",
    "min": "minute",
    "wk": "week",
    "mo": "mo_ucum",
    "a": "year",
    "s": "second",
    # Upper-case spellings (UCUM's case-insensitive form, NCPDP/RxNorm style): "ML" is a millilitre,
    # never a megalitre, and "MG" a milligram, never a megagram.
    "MG": "milligram",
    "MCG": "microgram",
    "UG": "microgram",
    "ML": "milliliter",
    "HR": "hour",
    "H": "hour",
    "D": "day",
    "DAY": "day",
}

UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")  # {tbl}, {1.73_m2}: UCUM annotations carry no unit


class UnitKind(Enum):
    MASS = "mass"
    VOLUME = "volume"
    MASS_RATE = "mass per time"
    VOLUME_RATE = "volume per time"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    kind: UnitKind
    factor: float  # to mg, mL, mg/day or mL/day; 1 for counts
    label: str  # the unit as written, for messages
    count_name: str | None = None  # normalised name for counts ("tablet")


def _tokenise(unit: str) -> str:
    parts = re.split(r"(\s*[/.*]\s*)", unit.strip())
    return "".join(_ALIASES.get(p, p) for p in parts)


@lru_cache(maxsize=4096)
def parse_unit(unit: str | None, count_units: frozenset[str] = frozenset()) -> ParsedUnit | None:
    """Read a unit string (UCUM code or common spelling); None when it is no usable dose unit.

    `count_units` are the lower-case names the profile's forms accept as a unit of
    presentation (tablet, tab, {tbl}, packet ...).
    """
    if not unit or not unit.strip() or len(unit) > 40:
        return None
    raw = unit.strip()
    lowered = raw.lower()
    if lowered in count_units:
        return ParsedUnit(UnitKind.COUNT, 1.0, raw, count_name=lowered)
    cleaned = UCUM_ANNOTATION.sub("", raw).strip()
    if not cleaned or cleaned == "1":
        stripped = lowered.strip("{}")
        if stripped in count_units:
            return ParsedUnit(UnitKind.COUNT, 1.0, raw, count_name=stripped)
        return None
    try:
        quantity = UREG.parse_units(_tokenise(cleaned))
    except Exception:  # pint raises several unrelated types for nonsense strings
        return None
    dims = quantity.dimensionality
    for kind, target in (
        (UnitKind.MASS, _MG),
        (UnitKind.VOLUME, _ML),
        (UnitKind.MASS_RATE, _MG / _DAY),
        (UnitKind.VOLUME_RATE, _ML / _DAY),
    ):
        if dims == target.dimensionality:
            factor = float((1 * quantity).to(target).magnitude)
            if math.isfinite(factor) and factor > 0:
                return ParsedUnit(kind, factor, raw)
    return None


@lru_cache(maxsize=256)
def mass_factor(unit: str) -> float:
    """Milligrams in one `unit` (profile units such as 'mg', 'ug')."""
    parsed = parse_unit(unit)
    if parsed is None or parsed.kind not in (UnitKind.MASS, UnitKind.MASS_RATE):
        raise ValueError(f"not a mass unit: {unit!r}")
    return parsed.factor


def format_mass(mg: float, unit: str) -> str:
    """'120 mg', '50 mcg': a mass in the route's own unit, trimmed for reading."""
    value = mg / mass_factor(unit)
    shown = "mcg" if unit in ("ug", "mcg") else unit
    return f"{format_number(value)} {shown}"


def format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


def finite_number(value: Any) -> float | None:
    """A FHIR decimal as a finite float, or None (absent, not a number, NaN or Infinity)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
