"""Weight-based doses (mg/kg, mg/kg/d): the dose per kg, the calculated dose beside it, and the amount for a weight.

Epic and others send a weight-based order as two `doseAndRate` entries typed by
http://terminology.hl7.org/CodeSystem/dose-rate-type: `ordered` (the prescriber's 0.5 mg/kg) and `calculated`
(the system's 20 mg for the patient's weight). `per_kg_dose` reads both from a dosage (pure, no patient data);
`with_calculated` lets the dose checks use the calculated amount; `weighed` turns the per-kg dose into an amount
for a weight from the patient's record. Whatever cannot be computed stays `None`, and rules/weight.py says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..profile import Profile
from ..units import UnitKind, finite_number, format_mass, format_number, parse_unit
from .dose import quantity_to_mg
from .types import DoseFacts, Location, Strength

DOSE_RATE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"  # codes: ordered, calculated


@dataclass(frozen=True, slots=True)
class PerKg:
    """A dose per kg of body weight as ordered, and the calculated amount sent beside it (if any)."""

    mg_per_kg: float  # per administration, or per day when `per_day`
    per_day: bool  # mg/kg/d: the day's amount per kg
    written: str  # "0.5 mg/kg"
    location: Location  # the per-kg doseQuantity
    calculated_mg: float | None = None  # per administration (or per day when `calculated_per_day`)
    calculated_per_day: bool = False
    calculated_written: str = ""
    calculated_location: Location = ()


def _typed(entry: Any, code: str) -> bool:
    concept = getattr(entry, "type", None)
    return any(c.code == code for c in (getattr(concept, "coding", None) or [])) if concept is not None else False


def per_kg_dose(dosage: Any, index: int, strength: Strength | None, profile: Profile) -> PerKg | None:
    """The dosage's per-kg dose and any calculated dose beside it; None when no dose is per kg."""
    per_kg = None
    calculated = None
    for j, entry in enumerate(getattr(dosage, "doseAndRate", None) or []):
        quantity = getattr(entry, "doseQuantity", None)
        if quantity is None:
            continue
        where = ("dosageInstruction", index, "doseAndRate", j, "doseQuantity")
        unit = parse_unit(getattr(quantity, "code", None) or getattr(quantity, "unit", None), profile.count_units)
        value = finite_number(getattr(quantity, "value", None))
        if unit is not None and unit.per_kg and value is not None and value > 0 and per_kg is None:
            written = f"{format_number(value)} {unit.label}"
            per_kg = PerKg(value * unit.factor, unit.kind is UnitKind.MASS_RATE, written, where)
        elif _typed(entry, "calculated") and calculated is None:
            mg, is_rate, problem = quantity_to_mg(quantity, strength, profile, where)
            if problem is None and mg is not None:
                shown = getattr(quantity, "unit", None) or getattr(quantity, "code", None) or ""
                calculated = (mg, is_rate, f"{format_number(value or 0)} {shown}".strip(), where)
    if per_kg is None:
        return None
    if calculated is not None:
        mg, is_rate, written, where = calculated
        per_kg = replace(per_kg, calculated_mg=mg, calculated_per_day=is_rate, calculated_written=written, calculated_location=where)
    return per_kg


def _amount(dose: DoseFacts, mg: float, per_day: bool, unit: str, how: str) -> DoseFacts:
    """The dosage with this amount as its dose (per administration, or the day's when `per_day`)."""
    if per_day:
        return replace(dose, single_mg=None, daily_mg=mg, daily_basis=f"{format_mass(mg, unit)}/day {how}", times_a_day=None)
    per = dose.timing.per_day
    if per is None:
        return replace(dose, single_mg=mg)  # the timing's own problem stays: no daily dose
    if dose.timing.one_off:
        return replace(dose, single_mg=mg, daily_mg=mg, daily_basis=f"{format_mass(mg, unit)} once {how}", times_a_day=None)
    basis = f"{format_mass(mg, unit)} x {format_number(round(per, 3))}/day {how}"
    return replace(dose, single_mg=mg, daily_mg=mg * per, daily_basis=basis, times_a_day=per)


def with_per_kg(dose: DoseFacts, per_kg: PerKg, unit: str) -> DoseFacts:
    """The dosage with its per-kg dose recorded; the calculated dose, when sent, is the one the checks use.

    The normaliser's "needs the patient's weight" problem is dropped here: rules/weight.py reports it, as
    weight-unavailable, when no weight turns the dose into an amount either."""
    problems = tuple(p for p in dose.problems if p.location != per_kg.location and not p.reason.startswith("no dose is given"))
    per_day = per_kg.calculated_per_day if per_kg.calculated_mg is not None else per_kg.per_day
    if per_day:  # the unit carries the day (mg/kg/d): the daily dose needs no frequency
        problems = tuple(p for p in problems if p is not dose.timing.problem)
    dose = replace(dose, problems=problems, per_kg=per_kg)
    if per_kg.calculated_mg is None:
        return dose
    return _amount(dose, per_kg.calculated_mg, per_kg.calculated_per_day, unit, f"(the calculated dose, {per_kg.calculated_written})")


def weighed(dose: DoseFacts, weight_kg: float, charted: str, unit: str) -> DoseFacts:
    """A per-kg dose with no calculated amount, as an amount for the patient's weight."""
    per_kg = dose.per_kg
    if per_kg is None or per_kg.calculated_mg is not None:
        return dose
    mg = per_kg.mg_per_kg * weight_kg
    how = f"({per_kg.written} x {format_number(round(weight_kg, 1))} kg, weight of {charted or 'undated'})"
    return replace(_amount(dose, mg, per_kg.per_day, unit, how), weight_kg=weight_kg)
