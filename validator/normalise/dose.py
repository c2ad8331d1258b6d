"""Dosage -> the largest single dose and the largest daily dose in mg, or why not."""

from __future__ import annotations

import math
from typing import Any

from ..profile import Profile
from ..units import TIME_UNIT_DAYS, UnitKind, finite_number, format_mass, format_number, parse_unit
from .route import normalise_route
from .timing import normalise_timing
from .types import DoseFacts, Location, MedicationFacts, Strength, Unavailable, version_field


def _finite_positive(value: Any) -> float | None:
    number = finite_number(value)
    return number if number is not None and number > 0 else None


def quantity_to_mg(
    quantity: Any, strength: Strength | None, profile: Profile, where: Location
) -> tuple[float | None, bool, Unavailable | None]:
    """A dose Quantity as mg (or mg/day when it is a rate). Returns (mg, is_rate, problem)."""
    value = _finite_positive(getattr(quantity, "value", None))
    unit_text = getattr(quantity, "code", None) or getattr(quantity, "unit", None)
    if value is None:
        raw = getattr(quantity, "value", None)
        reason = "no dose value is given" if raw is None else f"dose value {raw} is not a positive number"
        return None, False, Unavailable("dose-unverified", reason, (*where, "value"))
    unit = parse_unit(unit_text, profile.count_units)
    if unit is None:
        unit = parse_unit(getattr(quantity, "unit", None), profile.count_units)
    if unit is None:
        shown = unit_text or "no unit"
        return None, False, Unavailable("dose-unit-invalid", f"the dose unit {shown!r} is not an amount of drug medval can convert", where)
    if unit.per_kg:  # a valid weight-based unit: the amount needs the patient's weight, which this reading does not have
        reason = f"a dose of {format_number(value)} {unit.label} is per kg of body weight and needs the patient's weight"
        return None, unit.kind is UnitKind.MASS_RATE, Unavailable("dose-unverified", reason, where)
    is_rate = unit.kind in (UnitKind.MASS_RATE, UnitKind.VOLUME_RATE)
    amount = value * unit.factor
    if unit.kind in (UnitKind.MASS, UnitKind.MASS_RATE):
        mg = amount
    elif unit.kind in (UnitKind.VOLUME, UnitKind.VOLUME_RATE):
        if strength is None:
            return (
                None,
                is_rate,
                Unavailable(
                    "strength-unverified",
                    f"a dose of {format_number(value)} {unit.label} needs the product concentration, which is not stated",
                    where,
                ),
            )
        if strength.mg_per_ml is None:
            return (
                None,
                is_rate,
                Unavailable(
                    "dose-unit-invalid", f"a dose in {unit.label} cannot be measured from a product of {strength.text} per unit", where
                ),
            )
        mg = amount * strength.mg_per_ml
    else:  # counted units (tablets)
        if strength is None:
            return (
                None,
                False,
                Unavailable(
                    "strength-unverified",
                    f"a dose of {format_number(value)} {unit.label} needs the strength per {unit.label}, which is not stated",
                    where,
                ),
            )
        if strength.mg_per_unit is None:
            return (
                None,
                False,
                Unavailable("dose-unit-invalid", f"a dose in {unit.label} cannot be measured from a liquid of {strength.text}", where),
            )
        mg = amount * strength.mg_per_unit
    if not math.isfinite(mg) or mg <= 0:
        return None, is_rate, Unavailable("dose-unverified", "the dose does not convert to a finite amount", where)
    return mg, is_rate, None


def _quantity_text(quantity: Any) -> tuple[str, str]:
    unit = str(getattr(quantity, "code", None) or getattr(quantity, "unit", None) or "")
    return f"{getattr(quantity, 'value', '')} {unit}".strip(), unit


def rate_as_written(rate_and_dose: Any) -> tuple[str, str]:
    """(the rate as written, its unit as one string): "400 ug/h", "ug/h"; a Ratio reads "400 ug / 1 d", "ug/d"."""
    quantity = getattr(rate_and_dose, "rateQuantity", None)
    if quantity is not None:
        return _quantity_text(quantity)
    ratio = getattr(rate_and_dose, "rateRatio", None)
    if ratio is not None and ratio.numerator is not None and ratio.denominator is not None:
        top, top_unit = _quantity_text(ratio.numerator)
        bottom, bottom_unit = _quantity_text(ratio.denominator)
        per = finite_number(getattr(ratio.denominator, "value", None))
        return f"{top} / {bottom}", (f"{top_unit}/{bottom_unit}" if per == 1 else "")
    return "", ""


def _rate_to_mg_per_day(
    rate_and_dose: Any, strength: Strength | None, profile: Profile, where: Location
) -> tuple[float | None, Unavailable | None]:
    quantity = getattr(rate_and_dose, "rateQuantity", None)
    if quantity is not None:
        mg, is_rate, problem = quantity_to_mg(quantity, strength, profile, (*where, "rateQuantity"))
        if problem is None and not is_rate:
            return None, Unavailable("dose-unit-invalid", "the rate has no unit of time", (*where, "rateQuantity"))
        return mg, problem
    rate_range = getattr(rate_and_dose, "rateRange", None)
    if rate_range is not None and rate_range.high is not None:
        mg, is_rate, problem = quantity_to_mg(rate_range.high, strength, profile, (*where, "rateRange", "high"))
        if problem is None and not is_rate:
            return None, Unavailable("dose-unit-invalid", "the rate has no unit of time", (*where, "rateRange", "high"))
        return mg, problem
    ratio = getattr(rate_and_dose, "rateRatio", None)
    if ratio is not None:
        mg, _, problem = quantity_to_mg(ratio.numerator, strength, profile, (*where, "rateRatio", "numerator"))
        if problem is not None:
            return None, problem
        denominator = ratio.denominator
        unit = (getattr(denominator, "code", None) or getattr(denominator, "unit", None)) if denominator is not None else None
        per = _finite_positive(getattr(denominator, "value", None) if denominator is not None else None) or 1.0
        if unit not in TIME_UNIT_DAYS:
            return None, Unavailable(
                "dose-unit-invalid", f"the rate's denominator {unit!r} is not a unit of time", (*where, "rateRatio", "denominator")
            )
        return mg / (per * TIME_UNIT_DAYS[unit]), None
    return None, None


def _cap_per_day(dosage: Any, strength: Strength | None, profile: Profile, where: Location) -> float | None:
    """maxDosePerPeriod as mg a day (R4: one Ratio; R5: a list)."""
    caps = getattr(dosage, "maxDosePerPeriod", None)
    if caps is None:
        return None
    best = None
    for ratio in caps if isinstance(caps, list) else [caps]:
        if ratio is None or ratio.numerator is None:
            continue
        mg, _, problem = quantity_to_mg(ratio.numerator, strength, profile, (*where, "maxDosePerPeriod"))
        denominator = ratio.denominator
        unit = (denominator.code or denominator.unit) if denominator is not None else None
        per = _finite_positive(denominator.value if denominator is not None else None)
        if problem is not None or mg is None or per is None or unit not in TIME_UNIT_DAYS:
            continue
        days = per * TIME_UNIT_DAYS[unit]
        cap = mg * max(1.0, 1.0 / days)
        best = cap if best is None else min(best, cap)
    return best


def _pick_dose_and_rate(dosage: Any) -> tuple[int, Any] | None:
    entries = list(getattr(dosage, "doseAndRate", None) or [])
    for i, entry in enumerate(entries):
        codes = [c.code for c in (entry.type.coding or [])] if entry.type is not None else []
        if "ordered" in codes:
            return i, entry
    return (0, entries[0]) if entries else None


def normalise_dosage(dosage: Any, index: int, medication: MedicationFacts, profile: Profile) -> DoseFacts:
    where = ("dosageInstruction", index)
    route = normalise_route(getattr(dosage, "route", None), medication.form, profile, where)
    as_needed = bool(
        version_field(dosage, "asNeededBoolean")
        or version_field(dosage, "asNeededCodeableConcept")
        or version_field(dosage, "asNeeded")
        or version_field(dosage, "asNeededFor")
    )
    timing = normalise_timing(getattr(dosage, "timing", None), as_needed, where)
    strength = medication.strength
    problems: list[Unavailable] = []
    single_mg = daily_from_rate = None
    written = written_unit = rate_written = rate_unit = ""
    is_rate = False

    picked = _pick_dose_and_rate(dosage)
    rate_where = where
    if picked is not None:
        j, entry = picked
        rate_where = (*where, "doseAndRate", j)
        quantity = entry.doseQuantity
        quantity_where = (*rate_where, "doseQuantity")
        if quantity is None and entry.doseRange is not None:
            quantity, quantity_where = entry.doseRange.high, (*rate_where, "doseRange", "high")
            if quantity is None:
                problems.append(Unavailable("dose-unverified", "the dose range has no upper limit", (*rate_where, "doseRange")))
        if quantity is not None:
            written_unit = quantity.unit or quantity.code or ""
            written = f"{quantity.value} {written_unit}".strip()
            mg, is_rate, problem = quantity_to_mg(quantity, strength, profile, quantity_where)
            if problem:
                problems.append(problem)
            elif is_rate:
                daily_from_rate = mg
            else:
                single_mg = mg
        rate_mg, problem = _rate_to_mg_per_day(entry, strength, profile, rate_where)
        if problem:
            problems.append(problem)
        elif rate_mg is not None and daily_from_rate is None:
            daily_from_rate, is_rate = rate_mg, True
            rate_written, rate_unit = rate_as_written(entry)
    # a number so large it overflows to infinity (1e308 mg/day) is no amount at all: never a sum, never a sentence
    if single_mg is not None and not math.isfinite(single_mg):
        single_mg = None
        problems.append(Unavailable("dose-unverified", "the dose does not come to a finite amount", where))
    if daily_from_rate is not None and not math.isfinite(daily_from_rate):
        daily_from_rate = None
        problems.append(Unavailable("dose-unverified", "the rate does not come to a finite amount", where))
    if picked is None or (single_mg is None and daily_from_rate is None and not problems):
        problems.append(Unavailable("dose-unverified", "no dose is given", where))

    cap_single = getattr(dosage, "maxDosePerAdministration", None)
    if single_mg is not None and cap_single is not None:
        cap_mg, _, problem = quantity_to_mg(cap_single, strength, profile, (*where, "maxDosePerAdministration"))
        if problem is None and cap_mg is not None:
            single_mg = min(single_mg, cap_mg)

    daily_mg, basis, times_a_day = None, "", None
    unit = profile.dosing[route.route].unit if route.route in profile.dosing else "mg"
    if daily_from_rate is not None and (single_mg is None or timing.per_day is None):
        daily_mg, basis = daily_from_rate, f"{format_mass(daily_from_rate, unit)}/day by rate"
    elif single_mg is not None and timing.per_day is not None:
        daily_mg = single_mg * timing.per_day
        basis = f"{format_mass(single_mg, unit)} x {format_number(round(timing.per_day, 3))}/day"
        times_a_day = timing.per_day
        if timing.one_off:
            basis, times_a_day = f"{format_mass(single_mg, unit)} once", None
    cap = _cap_per_day(dosage, strength, profile, where)
    if cap is not None and (daily_mg is None or cap < daily_mg):
        daily_mg, basis, times_a_day = cap, f"capped by maxDosePerPeriod at {format_mass(cap, unit)}/day", None
    if daily_mg is not None and not math.isfinite(daily_mg):
        daily_mg = None
        problems.append(Unavailable("dose-unverified", "the daily dose does not come to a finite amount", where))
    if daily_mg is None and timing.problem is not None and daily_from_rate is None:
        problems.append(timing.problem)

    sequence = getattr(dosage, "sequence", None)
    return DoseFacts(
        index=index,
        location=where,
        route=route,
        timing=timing,
        single_mg=single_mg,
        daily_mg=daily_mg,
        written=written,
        written_unit=written_unit,
        daily_basis=basis,
        times_a_day=times_a_day,
        rate_written=rate_written,
        rate_unit=rate_unit,
        is_rate=is_rate,
        sequence=sequence,
        problems=tuple(problems),
    )
