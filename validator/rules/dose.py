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
from .registry import emits

_UNIT_SLIP = 1000.0  # mg vs mcg
_UNCOMPUTABLE = "medval: a dose that cannot be computed cannot be checked"
_NOT_GIVEN = ("stopped", "cancelled", "completed", "entered-in-error")  # orders under which nothing more is given


def daily_totals(order: NormalisedOrder) -> list[DailyTotal]:
    """The largest daily amount per route (computed once, when the order was normalised)."""
    return order.daily_totals


@emits("dose-unverified", "dose-unit-invalid", "frequency-unverified", "input-invalid")
def dose_problems(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: every dose or timing that could not be read: no dosage at all, no dose, a unit that is no
    amount of drug, no usable timing, or a number that is NaN or Infinity.
    Why: a daily dose that cannot be computed cannot be checked against the limits (fail safe). The code says
    which value was missing (messages.py: dosage.* and dropped-value.*). Source: FHIR R4 Dosage and decimal.
    Example that fires: examples/orders/oral-no-dose.json examples/orders/oral-no-timing.json
    examples/orders/oral-dose-unit-puff.json
    Example that does not fire: examples/orders/oral-tablet-tid.json
    Fix: give a dose quantity in a unit of mass or of the product (tablet, mL) and a timing with a frequency.
    """
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


@emits("daily-dose-exceeds-maximum")
def daily_dose_exceeds_maximum(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the largest amount the order allows in a day, per route, is above the profile's maximum.
    Why: above the maximum the risk of toxicity rises. Source: the profile's maximum daily dose per route (for
    baclofen, 80 mg/day oral, StatPearls Baclofen monograph, Dosing).
    Example that fires: examples/orders/oral-max-exceeded.json
    Example that does not fire: examples/orders/oral-prn-capped.json
    Fix: lower the dose or the frequency (the CDS card suggests the same schedule at the maximum).
    """
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


@emits("daily-dose-above-usual")
def daily_dose_above_usual(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a daily dose above the usual range for the route (and, when known, the origin of the
    treated condition), but not above the maximum.
    Why: doses above the usual range deserve a second look even when allowed. Source: the profile's usual
    ranges (for baclofen intrathecal, 300-800 mcg/day spinal, 90-703 mcg/day cerebral, StatPearls Dosing).
    Example that fires: examples/orders/intrathecal-above-usual.json
    Example that does not fire: examples/orders/intrathecal-pump-daily.json
    Fix: confirm the dose is intended, or lower it into the usual range.
    """
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


@emits("dose-unit-suspect")
def dose_unit_suspect(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a daily dose implausible in its written unit but plausible read as mcg for mg (or the reverse).
    Why: a thousand-fold unit slip is a classic, dangerous error, above all for intrathecal doses in mcg. Source:
    the profile's plausible daily range per route (for baclofen, StatPearls Baclofen monograph, Dosing).
    Example that fires: examples/orders/intrathecal-mg-for-mcg.json examples/orders/oral-dose-in-mcg.json
    Example that does not fire: examples/orders/intrathecal-pump-daily.json
    Fix: write the dose in the unit meant (the finding names the dose probably meant).
    """
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


@emits("screening-dose-high")
def screening_dose_high(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a one-off bolus on a route with a screening dose is above that screening dose.
    Why: the screening bolus tests the response before a pump is implanted; more risks overdose. Source: the
    profile's screening bolus (for baclofen intrathecal, 50 mcg, StatPearls Baclofen monograph, Dosing).
    Example that fires: examples/orders/intrathecal-screening-bolus-high.json
    Example that does not fire: examples/orders/intrathecal-screening-bolus-usual.json
    Fix: give the screening dose the profile names.
    """
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
