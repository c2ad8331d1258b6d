"""Doses: usable at all, in a sane unit, within the route's daily maximum and usual range, screening bolus."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import DailyTotal, DoseFacts, NormalisedOrder
from ..profile import Profile, Range, RouteDosing
from ..therapy.drug_facts import condition_origin
from ..units import format_mass, parse_unit

_UNIT_SLIP = 1000.0  # mg vs mcg
_UNCOMPUTABLE = "medval: a dose that cannot be computed cannot be checked"
_NOT_GIVEN = ("stopped", "cancelled", "completed", "entered-in-error")  # orders under which nothing more is given


def daily_totals(order: NormalisedOrder) -> list[DailyTotal]:
    """The largest daily amount per route (computed once, when the order was normalised)."""
    return order.daily_totals


def dose_problems(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """Every dose or timing that could not be read says so: the daily checks did not run for it."""
    if not order.dosages and order.status not in _NOT_GIVEN:
        yield say("dose.no-dosage", ("dosageInstruction",), _UNCOMPUTABLE)
    for dose in order.dosages:
        for problem in dose.problems:
            yield say(f"dosage.{problem.rule}", problem.location, _UNCOMPUTABLE, reason=_capitalised(problem.reason))
    for note in order.notes:
        yield say(
            f"dropped-value.{note.rule}",
            note.location,
            "FHIR R4 2.1.28.0 (decimal)",
            reason=_capitalised(note.reason),
            where=note.expression,
        )


def _capitalised(reason: str) -> str:
    return f"{reason[:1].upper()}{reason[1:]}"


def _dosing(profile: Profile, route: str) -> RouteDosing | None:
    return profile.dosing.get(route)


def daily_dose_exceeds_maximum(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for total in daily_totals(order):
        dosing = _dosing(profile, total.route)
        if dosing is None or dosing.maximum_daily is None:
            continue
        if total.mg > dosing.maximum_daily.value * (1 + 1e-9):
            route = profile.routes[total.route].display
            yield say(
                "dose.above-maximum",
                total.location,
                dosing.maximum_daily.source,
                daily=format_mass(total.mg, dosing.unit),
                maximum=format_mass(dosing.maximum_daily.value, dosing.unit),
                route=route,
                basis=total.basis,
            )


def usual_range(dosing: RouteDosing, origin: str | None, origin_label: str = "") -> tuple[Range | None, str]:
    if origin and origin in dosing.usual_daily_by_origin:
        return dosing.usual_daily_by_origin[origin], f" for {origin_label or 'a condition'} of {origin} origin"
    return dosing.usual_daily, ""


def daily_dose_above_usual(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    origin = condition_origin(context, profile)
    slipped = {d.route.route for d in order.dosages if unit_slip(d, profile) is not None}
    for total in daily_totals(order):
        if total.route in slipped:
            continue  # dose-unit-suspect already says the amount is off by a unit factor
        dosing = _dosing(profile, total.route)
        if dosing is None:
            continue
        usual, qualifier = usual_range(dosing, origin, profile.context.origin_label)
        if usual is None or total.mg <= usual.high * (1 + 1e-9):
            continue
        if dosing.maximum_daily is not None and total.mg > dosing.maximum_daily.value * (1 + 1e-9):
            continue  # the maximum rule already says it, more strongly
        route = profile.routes[total.route].display
        yield say(
            "dose.above-usual",
            total.location,
            usual.source,
            daily=format_mass(total.mg, dosing.unit),
            route=route,
            low=format_mass(usual.low, dosing.unit),
            high=format_mass(usual.high, dosing.unit),
            qualifier=qualifier,
            basis=total.basis,
        )


def unit_slip(dose: DoseFacts, profile: Profile) -> float | None:
    """The daily mg probably meant, when the dose is implausible as written but plausible read as mcg for mg (or back)."""
    dosing = _dosing(profile, dose.route.route or "")
    written = parse_unit(dose.written_unit, profile.count_units) if dose.written_unit else None
    if dosing is None or dosing.plausible_daily is None or dose.daily_mg is None or written is None or written.count_name:
        return None
    route_unit = parse_unit(dosing.unit)
    plausible = dosing.plausible_daily
    if route_unit is None or plausible.low <= dose.daily_mg <= plausible.high:
        return None
    ratio = written.factor / route_unit.factor
    for slip in (_UNIT_SLIP, 1 / _UNIT_SLIP):
        meant = dose.daily_mg / slip
        if abs(ratio / slip - 1) <= 1e-6 and plausible.low <= meant <= plausible.high:
            return meant
    return None


def dose_unit_suspect(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """A daily dose implausible in its written unit but plausible in the route's own: mg for mcg, or the reverse."""
    for dose in order.dosages:
        meant = unit_slip(dose, profile)
        if meant is None:
            continue
        dosing = profile.dosing[dose.route.route]
        plausible = dosing.plausible_daily
        route = profile.routes[dose.route.route].display
        yield say(
            "dose.unit-slip",
            dose.location,
            plausible.source,
            route=route,
            unit=dose.written_unit,
            written=dose.written,
            daily=format_mass(dose.daily_mg, dosing.unit),
            drug=profile.title,
            low=format_mass(plausible.low, dosing.unit),
            high=format_mass(plausible.high, dosing.unit),
            meant=format_mass(meant, dosing.unit),
        )


def screening_dose_high(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for dose in order.dosages:
        dosing = _dosing(profile, dose.route.route or "")
        if dosing is None or dosing.screening_bolus is None or dose.single_mg is None or not dose.timing.one_off:
            continue
        if dose.single_mg > dosing.screening_bolus.value * (1 + 1e-9):
            route = profile.routes[dose.route.route].display
            yield say(
                "dose.screening-high",
                dose.location,
                dosing.screening_bolus.source,
                route=route,
                single=format_mass(dose.single_mg, dosing.unit),
                screening=format_mass(dosing.screening_bolus.value, dosing.unit),
            )
