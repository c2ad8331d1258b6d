"""Doses: usable at all, in a sane unit, within the route's daily maximum and usual range, screening bolus."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..context import PatientContext, RuleContext
from ..context import facts as F
from ..findings import Finding
from ..messages import FAIL_SAFE_SOURCE, say
from ..normalise import DailyTotal, DoseFacts, NormalisedOrder
from ..profile import Profile, Range, RouteDosing
from ..therapy.course import describe_orders
from ..therapy.drug_facts import condition_origin, course_of
from ..units import TIME_UNIT_DAYS, UnitKind, format_mass, format_number, parse_unit
from .registry import emits

_UNIT_SLIP = 1000.0  # mg vs mcg
_UNCOMPUTABLE = "medval: a dose that cannot be computed cannot be checked"


def daily_totals(order: NormalisedOrder) -> list[DailyTotal]:
    """The largest daily amount per route (computed once, when the order was normalised)."""
    return order.daily_totals


@emits("dose-unverified", "dose-unit-invalid", "frequency-unverified", "strength-unverified", "input-invalid")
def dose_problems(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: every dose or timing that could not be read: no dosage at all, no dose, a unit that is no
    amount of drug, no usable timing, a dose in mL or tablets with no strength to convert it, or a number that is NaN
    or Infinity.
    Why: a daily dose that cannot be computed cannot be checked against the limits (fail safe). The code says
    which value was missing (messages.py: dosage.* and dropped-value.*). Source: FHIR R4 Dosage and decimal.
    Example that fires: examples/orders/oral-no-dose.json examples/orders/oral-no-timing.json
    examples/orders/oral-dose-unit-puff.json
    Example that does not fire: examples/orders/oral-tablet-tid.json
    Fix: give a dose quantity in a unit of mass or of the product (tablet, mL) and a timing with a frequency.
    """
    if not order.dosages:
        yield say("dose.no-dosage", ("dosageInstruction",), _UNCOMPUTABLE)
    for dose in order.dosages:
        route = profile.routes.get(dose.route.route or "")
        if route is not None and not route.verifiable:
            continue  # route-unverified already says this route cannot be checked
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


@emits("daily-dose-exceeds-maximum", "dose-unverified")
def daily_dose_exceeds_maximum(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the largest amount the order allows in a day per route, added to the other current orders
    for the drug on that route in context (scheduled and as-needed at their maximum; not the orders it replaces,
    not MedicationStatements), is above the profile's maximum for the route, or above the maximum reported for
    the patient's age band. Another current order whose dose cannot be read leaves the sum unknown: that is said
    (dose-unverified), never passed.
    Why: above the maximum the risk of toxicity rises, and the maximum applies to the patient, not to one order.
    Source: the profile's maximum daily dose per route (for baclofen, 80 mg/day oral, StatPearls Baclofen
    monograph, Dosing; 1000 mcg/day intrathecal, Medscape) and per age band (Texas VDP criteria, off-label).
    Example that fires: examples/orders/oral-max-exceeded.json examples/therapy/oral-two-active-orders-over-maximum.json
    examples/therapy/it-above-maximum.json examples/therapy/age-6-oral-over-age-band.json
    Example that does not fire: examples/orders/oral-prn-capped.json examples/therapy/oral-replacing-order-ok.json
    Fix: lower the dose or the frequency (for a single order the CDS card suggests the same schedule at the
    maximum), or stop one of the concurrent orders.
    """
    for total in daily_totals(order):
        dosing = _dosing(profile, total.route)
        if dosing is None:
            continue
        course = course_of(context, profile, dosing)
        shown, count, others_mg = course.concurrent(order) if course is not None else ([], 0, 0.0)
        combined = total.mg + others_mg
        route = profile.routes[total.route].display
        maximum = dosing.maximum_daily
        if maximum is not None and combined > maximum.value * (1 + 1e-9):
            if not count:
                yield _above_maximum(total, dosing, route)
                continue
            named = describe_orders(course, shown, count)
            yield say(
                "dose.combined-above-maximum",
                total.location,
                maximum.source,
                total=format_mass(combined, dosing.unit),
                own=format_mass(total.mg, dosing.unit),
                others=named,
                count=count,
                maximum=format_mass(maximum.value, dosing.unit),
                route=route,
            )
            continue
        unread = course.concurrent_unreadable(order) if course is not None else []
        if unread and maximum is not None:
            yield say(
                "dose.combined-unverified",
                total.location,
                FAIL_SAFE_SOURCE,
                unread=_listed([u.label for u in unread]),
                route=route,
                maximum=format_mass(maximum.value, dosing.unit),
                own=format_mass(total.mg, dosing.unit),
            )
        yield from _above_age_band(order, context, dosing, total, (route, combined))


def _listed(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _above_maximum(total: DailyTotal, dosing: RouteDosing, route: str) -> Finding:
    """One order over the maximum; beyond a plausible ceiling the profile sets above the maximum, a probable slip."""
    assert dosing.maximum_daily is not None
    plausible = dosing.plausible_daily
    args = {"daily": format_mass(total.mg, dosing.unit), "maximum": format_mass(dosing.maximum_daily.value, dosing.unit)}
    if plausible is not None and plausible.high > dosing.maximum_daily.value and total.mg > plausible.high * (1 + 1e-9):
        source = f"{dosing.maximum_daily.source}; {plausible.source}"
        return say(
            "dose.above-plausible",
            total.location,
            source,
            route=route,
            high=format_mass(plausible.high, dosing.unit),
            basis=total.basis,
            **args,
        )
    return say("dose.above-maximum", total.location, dosing.maximum_daily.source, route=route, basis=total.basis, **args)


def _above_age_band(
    order: NormalisedOrder, context: RuleContext, dosing: RouteDosing, total: DailyTotal, route_and_daily: tuple[str, float]
) -> Iterator[Finding]:
    route, daily = route_and_daily
    patient = context.patient if isinstance(context, PatientContext) and context.has_record else None
    if patient is None or not dosing.maximum_daily_by_age:
        return
    age = F.age_years(getattr(patient, "birthDate", None), F.order_date(order))
    band = next((b for b in dosing.maximum_daily_by_age if age is not None and b.covers(age)), None)
    if band is None or daily <= band.mg * (1 + 1e-9):
        return
    yield say(
        "dose.above-age-band",
        total.location,
        band.source,
        daily=format_mass(daily, dosing.unit),
        maximum=format_mass(band.mg, dosing.unit),
        route=route,
        band=f"{format_number(band.age_from)} to {format_number(band.age_below - 1)}",
        age=f"{age} years old",
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


@dataclass(frozen=True, slots=True)
class Slip:
    """The daily dose probably meant, and the slip that explains the one written."""

    meant_mg: float
    kind: str  # "unit" (mg for mcg or back) or "time" (per hour for per day)


def _per_hour(unit: str) -> bool:
    return TIME_UNIT_DAYS.get(unit.rsplit("/", 1)[-1].strip()) == TIME_UNIT_DAYS["h"] if "/" in unit else False


def unit_slip(dose: DoseFacts, profile: Profile) -> Slip | None:
    """The daily mg probably meant, when the dose is implausible as written but plausible read as mcg for mg (or
    back), or, for a mass rate per hour, read per day. A volume rate (mL/h) is never a time slip: pumps are
    programmed per hour, and only its delivered dose is judged."""
    dosing = _dosing(profile, dose.route.route or "")
    unit_text = dose.rate_unit or dose.written_unit
    written = parse_unit(unit_text, profile.count_units) if unit_text else None
    if dosing is None or dosing.plausible_daily is None or dose.daily_mg is None or written is None or written.count_name:
        return None
    route_unit = parse_unit(dosing.unit)
    plausible = dosing.plausible_daily
    if route_unit is None or plausible.low <= dose.daily_mg <= plausible.high:
        return None
    mass_ratio = written.factor / route_unit.factor
    if written.kind is UnitKind.MASS_RATE and _per_hour(unit_text):
        mass_ratio /= 24  # the mass unit's own factor, the per-hour part taken out
        meant = dose.daily_mg / 24
        if plausible.low <= meant <= plausible.high:
            return Slip(meant, "time")
    for slip in (_UNIT_SLIP, 1 / _UNIT_SLIP):
        meant = dose.daily_mg / slip
        if abs(mass_ratio / slip - 1) <= 1e-6 and plausible.low <= meant <= plausible.high:
            return Slip(meant, "unit")
    return None


@emits("dose-unit-suspect")
def dose_unit_suspect(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a daily dose or pump rate implausible as written but plausible read as mcg for mg (or the
    reverse), or, for a mass rate per hour, read as per day.
    Why: a thousand-fold unit slip and a per-hour rate meant per day are the classic pump-programming errors,
    above all for intrathecal doses in mcg. Source: the profile's plausible daily range per route (for baclofen,
    StatPearls Baclofen monograph, Dosing and Toxicity).
    Example that fires: examples/orders/intrathecal-mg-for-mcg.json examples/orders/oral-dose-in-mcg.json
    examples/therapy/it-rate-mg-for-mcg.json examples/therapy/it-rate-per-hour-for-per-day.json
    Example that does not fire: examples/orders/intrathecal-pump-daily.json examples/therapy/it-rate-ml-per-hour-ok.json
    examples/therapy/it-rate-ratio-per-day-ok.json
    Fix: write the dose in the unit meant (the finding names the dose probably meant).
    """
    for dose in order.dosages:
        slip = unit_slip(dose, profile)
        if slip is None:
            continue
        dosing = profile.dosing[dose.route.route]
        plausible = dosing.plausible_daily
        route = profile.routes[dose.route.route].display
        args = {
            "route": route,
            "daily": format_mass(dose.daily_mg, dosing.unit),
            "drug": profile.title,
            "low": format_mass(plausible.low, dosing.unit),
            "high": format_mass(plausible.high, dosing.unit),
            "meant": format_mass(slip.meant_mg, dosing.unit),
        }
        if dose.rate_written:
            course = course_of(context, profile, dosing)
            previous = course.previous(order) if course is not None else None
            current = course.daily(previous) if previous is not None else None
            yield say(
                "dose.rate-slip",
                dose.location,
                plausible.source,
                written=dose.rate_written,
                slip="per hour written for per day" if slip.kind == "time" else "mg written for mcg or the reverse",
                current=f" (the patient's current dose is {format_mass(current, dosing.unit)}/day)" if current else "",
                **args,
            )
        else:
            yield say("dose.unit-slip", dose.location, plausible.source, unit=dose.written_unit, written=dose.written, **args)
