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

# Spellings EHRs send that are not UCUM symbols (or not in UCUM's case), as UCUM case-sensitive symbols.
_SPELLINGS = {
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "ml": "mL",
    "cc": "mL",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "wk",
    "weeks": "wk",
    "mgs": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "microgram": "ug",
    "micrograms": "ug",
    "gram": "g",
    "grams": "g",
    "kilogram": "kg",
    "kgs": "kg",
    # Upper-case spellings (UCUM's case-insensitive form, NCPDP/RxNorm style): "ML" is a millilitre,
    # never a megalitre, and "MG" a milligram, never a megagram.
    "MG": "mg",
    "MCG": "ug",
    "UG": "ug",
    "ML": "mL",
    "HR": "h",
    "H": "h",
    "D": "d",
    "DAY": "d",
    "KG": "kg",
    "G": "g",
    "L": "L",
}

UCUM_ANNOTATION = re.compile(r"\{[^{}]*\}")  # {tbl}, {1.73_m2}: UCUM annotations carry no unit


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
    per_kg: bool = False  # "mg/kg", "mg/kg/d": an amount per kg of body weight, to be multiplied by the patient's weight


# ---- UCUM: https://ucum.org/ucum (The Unified Code for Units of Measure, sections 2.1-2.5: the syntax of terms,
# prefixes, and the base and derived units medication doses use). Case-sensitive (c/s) symbols.
_UCUM_PREFIXES = {"k": 1e3, "h": 1e2, "da": 1e1, "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12}
_UCUM_ATOMS = {  # symbol -> (pint unit, metric: takes a prefix)
    "g": ("gram", True),
    "L": ("liter", True),
    "l": ("liter", True),
    "s": ("second", True),
    "min": ("minute", False),
    "h": ("hour", False),
    "d": ("day", False),
    "wk": ("week", False),
    "mo": ("mo_ucum", False),  # mean Julian month, 30.4375 d
    "a": ("year", False),  # mean Julian year, 365.25 d
    "[tsp_us]": ("teaspoon", False),
    "[tbs_us]": ("tablespoon", False),
}
_UCUM_TOKEN = re.compile(r"\(|\)|\.|/|\d+(?:\*[+-]?\d+)?(?![A-Za-z\[µ])|(?:[A-Za-zµ]+|\[[A-Za-z_]+\])[+-]?\d*")


def _ucum_atom(symbol: str) -> tuple[str, float] | None:
    if symbol in _UCUM_ATOMS:
        return _UCUM_ATOMS[symbol][0], 1.0
    for size in (2, 1):
        prefix, rest = symbol[:size], symbol[size:]
        if prefix in _UCUM_PREFIXES and rest in _UCUM_ATOMS and _UCUM_ATOMS[rest][1]:
            return _UCUM_ATOMS[rest][0], _UCUM_PREFIXES[prefix]
    return None


class _UcumReader:
    """term := ["/"] component (("." | "/") component)*; component := "(" term ")" | factor | unit exponent?"""

    def __init__(self, code: str) -> None:
        self.tokens = _UCUM_TOKEN.findall(code)
        self.position = 0
        self.whole = "".join(self.tokens) == code

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def term(self, depth: int = 0) -> list[tuple[float, str | None, int]] | None:
        parts: list[tuple[float, str | None, int]] = []
        sign = 1
        if self.peek() == "/":
            self.position, sign = self.position + 1, -1
        while True:
            component = self.component(depth)
            if component is None:
                return None
            parts += [(f, u, e * sign) for f, u, e in component]
            operator = self.peek()
            if operator not in (".", "/"):
                return parts
            self.position, sign = self.position + 1, 1 if operator == "." else -1

    def component(self, depth: int) -> list[tuple[float, str | None, int]] | None:
        token = self.peek()
        if token is None or depth > 4:
            return None
        self.position += 1
        if token == "(":
            inner = self.term(depth + 1)
            if inner is None or self.peek() != ")":
                return None
            self.position += 1
            return inner
        if token[0].isdigit():
            base, _, power = token.partition("*")
            if power and base != "10":
                return None
            value = 10.0 ** int(power) if power else float(base)
            return [(value, None, 1)] if 0 < value < 1e300 else None
        match = re.fullmatch(r"([A-Za-zµ]+|\[[A-Za-z_]+\])([+-]?\d*)", token)
        if match is None or match[2] in ("+", "-") or len(match[2]) > 2:
            return None
        atom = _ucum_atom(match[1])
        if atom is None:
            return None
        return [(atom[1], atom[0], int(match[2] or 1))]


def _ucum_quantity(code: str) -> tuple[pint.Quantity, bool] | None:
    """A UCUM term as a pint quantity, and whether it was per kilogram (the /kg taken out); None if not UCUM."""
    reader = _UcumReader(code)
    if not reader.whole:
        return None
    parts = reader.term()
    if parts is None or reader.peek() is not None:
        return None
    masses_up = any(u == "gram" and e > 0 for _, u, e in parts)
    per_kg = [p for p in parts if p == (1e3, "gram", -1)]
    if masses_up and len(per_kg) == 1:
        parts.remove(per_kg[0])
    quantity = UREG.Quantity(1.0)
    for factor, unit, exponent in parts:
        quantity = quantity * (UREG.Quantity(factor, unit) if unit else factor) ** exponent
    return quantity, bool(masses_up and per_kg)


def _tokenise(unit: str) -> str:
    """Common non-UCUM spellings (mcg, MG/DAY, mL/hr) in UCUM case-sensitive symbols."""
    parts = re.split(r"(\s*[/.*]\s*)", unit.strip())
    spelled = []
    for part in parts:
        stripped = part.strip()
        if stripped in ("/", ".", "*"):
            spelled.append("." if stripped == "*" else stripped)
        else:
            spelled.append(_SPELLINGS.get(stripped, _SPELLINGS.get(stripped.lower(), stripped)))
    return "".join(spelled)


@lru_cache(maxsize=4096)
def parse_unit(unit: str | None, count_units: frozenset[str] = frozenset()) -> ParsedUnit | None:
    """Read a unit (a UCUM term or a common spelling); None when it is no usable dose unit.

    `count_units` are the lower-case names the profile's forms accept as a unit of
    presentation (tablet, tab, {tbl}, packet ...). The UCUM unity "1" is one of the product's units.
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
        if cleaned == "1":  # UCUM unity, optionally annotated: a count of whatever the product comes in
            return ParsedUnit(UnitKind.COUNT, 1.0, raw, count_name="1")
        return None
    try:
        read = _ucum_quantity(cleaned) or _ucum_quantity(_tokenise(cleaned))
    except Exception:  # pint raises several unrelated types for nonsense; every one means "not a unit"
        return None
    if read is None:
        return None
    quantity, per_kg = read
    dims = quantity.dimensionality
    for kind, target in (
        (UnitKind.MASS, _MG),
        (UnitKind.VOLUME, _ML),
        (UnitKind.MASS_RATE, _MG / _DAY),
        (UnitKind.VOLUME_RATE, _ML / _DAY),
    ):
        if dims == target.dimensionality:
            factor = float(f"{float(quantity.to(target).magnitude):.12g}")  # 1 ug/(24.h) is 0.001 mg/d, not 0.000999...
            if math.isfinite(factor) and factor > 0:
                return ParsedUnit(kind, factor, raw, per_kg=per_kg and kind in (UnitKind.MASS, UnitKind.MASS_RATE))
    return None


@lru_cache(maxsize=256)
def concentration_mg_per_ml(unit: str) -> float | None:
    """Milligrams per millilitre in one `unit` of concentration (mg/mL, ug/mL, g/L, mg/(5.mL)); None if it is none."""
    if not unit or len(unit) > 40:
        return None
    cleaned = UCUM_ANNOTATION.sub("", unit.strip())
    try:
        read = _ucum_quantity(cleaned) or _ucum_quantity(_tokenise(cleaned))
        if read is None or read[1] or read[0].dimensionality != (_MG / _ML).dimensionality:
            return None
        factor = float(read[0].to(_MG / _ML).magnitude)
    except Exception:  # pint's several error types for nonsense all mean "not a concentration"
        return None
    return factor if math.isfinite(factor) and factor > 0 else None


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
    if not math.isfinite(value):  # never reached by a checked dose (the normaliser refuses them); never a crash either
        return str(value)
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
