"""History-aware dose checks: the first order's starting dose, and how fast the dose goes up between orders.

History is the other orders and statements in context for the same drug, dated before this one
(validator.therapy.History.before). Limits come from the route's dosing block in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..context import PatientContext, RuleContext
from ..context import facts as F
from ..findings import Finding
from ..messages import FAIL_SAFE_SOURCE, say
from ..normalise import DailyTotal, NormalisedOrder, Strength
from ..profile import Profile, RouteDosing
from ..therapy import MedicationUse, drug_facts
from ..therapy.drug_facts import condition_origin, course_of
from ..therapy.history import History
from ..units import format_mass, format_number
from .dose import daily_totals, unit_slip
from .registry import emits

_EPS = 1e-9
_HISTORY_SOURCES = ("MedicationRequest", "MedicationStatement")


def _history(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Sequence[MedicationUse] | None:
    """Earlier orders for the drug, or None when the history could not be read (no context, or its search failed)."""
    if not isinstance(context, PatientContext):
        return None
    if any(f.startswith(_HISTORY_SOURCES) for f in context.failures):
        return None
    return drug_facts(context, profile).history.before(order)


def _days(days: float) -> str:
    shown = format_number(round(days, 1))
    return f"{shown} day" if shown == "1" else f"{shown} days"


def _infusions(order: NormalisedOrder) -> list[Any]:
    """Daily totals of the order's regular dosing (one-off boluses are screening, not a start or a step)."""
    regular = {d.route.route for d in order.dosages if d.route.route and not d.timing.one_off}
    return [t for t in daily_totals(order) if t.route in regular]


def _same_dosing(profile: Profile, route: str, dosing: RouteDosing) -> bool:
    return profile.dosing.get(route) is dosing


@emits("starting-dose-high")
def starting_dose_high(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a first order for the drug on a route (no earlier one in the history) starts above the
    starting dose, or an intrathecal infusion above what the screening dose supports.
    Why: the drug is started low and titrated up to limit sedation and weakness. Source: the profile's starting
    dose (for baclofen, 5 mg three times a day oral; maintenance from screening x2, StatPearls Dosing).
    Example that fires: examples/context/starting-dose-high-oral.json
    Example that does not fire: examples/context/titration-oral-ok.json
    Fix: start at the starting dose and titrate.
    """
    priors = _history(order, context, profile)
    if priors is None:
        return
    for total in _infusions(order):
        dosing = profile.dosing.get(total.route)
        if dosing is None:
            continue
        on_route = any(_same_dosing(profile, r, dosing) for p in reversed(priors) for r in (*p.daily_mg, *p.one_off))
        route = profile.routes[total.route].display
        if dosing.starting_single is not None and not on_route:
            yield from _oral_start(order, total, dosing, route)
        elif dosing.screening_bolus is not None and dosing.maintenance_from_screening_factor is not None:
            if any(_same_dosing(profile, r, dosing) for p in priors for r in p.daily_mg):
                continue  # an infusion is already running: titration, not a start
            screens = [mg for p in priors for r, mg in p.one_off.items() if _same_dosing(profile, r, dosing)]
            screening = screens[-1] if screens else dosing.screening_bolus.value
            basis = "the screening dose in the record" if screens else "the usual screening dose"
            factor = dosing.maintenance_from_screening_factor.value
            supported = screening * factor
            if total.mg > supported * (1 + _EPS):
                yield say(
                    "start.above-screening",
                    total.location,
                    f"{dosing.maintenance_from_screening_factor.source}; {dosing.screening_bolus.source}",
                    route=route,
                    daily=format_mass(total.mg, dosing.unit),
                    supported=format_mass(supported, dosing.unit),
                    basis=basis,
                    screening=format_mass(screening, dosing.unit),
                    factor=format_number(factor),
                )


def _oral_start(order: NormalisedOrder, total: Any, dosing: RouteDosing, route: str) -> Iterator[Finding]:
    assert dosing.starting_single is not None
    singles = [d.single_mg for d in order.dosages if d.route.route == total.route]
    # a dose per day (mg/kg/d, a rate) has no amount per dose: it is worded and compared by its day
    per_dose = bool(singles) and all(mg is not None for mg in singles)
    single = max((mg or 0.0 for mg in singles), default=0.0)
    start_daily = dosing.starting_single.value * (dosing.starting_times_per_day or 1)
    start = format_mass(dosing.starting_single.value, dosing.unit)
    if (per_dose and single > dosing.starting_single.value * (1 + _EPS)) or total.mg > start_daily * (1 + _EPS):
        yield say(
            "start.above-starting-dose" if per_dose else "start.above-starting-daily",
            total.location,
            dosing.starting_single.source,
            route=route,
            single=format_mass(single, dosing.unit),
            daily=format_mass(total.mg, dosing.unit),
            start=start,
            times=format_number(dosing.starting_times_per_day or 1),
            start_daily=format_mass(start_daily, dosing.unit),
        )


def _undated(order: NormalisedOrder, history: History, profile: Profile) -> Iterator[Finding]:
    """An undated order with earlier orders on its route cannot be compared with them: say so, never pass."""
    dosings = [profile.dosing[t.route] for t in _infusions(order) if t.route in profile.dosing]
    # counted once per context (route sets), not by walking the history per order: linear Bundles (issue 13)
    comparable = history.count_with_daily_dose(lambda r: any(_same_dosing(profile, r, d) for d in dosings), order)
    if comparable:
        yield say("titration.undated", ("authoredOn",), FAIL_SAFE_SOURCE, count=comparable, drug=profile.title)


@emits("titration-too-fast", "patient-context-unavailable")
def titration_too_fast(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the delivered daily dose (rate x concentration, not volume) rises from the previous record
    (the order it replaces, else the latest earlier order or statement on the route, not an as-needed order
    running beside a schedule) sooner than
    the titration interval, by more than one labelled step (oral), or by more than the daily adjustment compounded
    over the days since, never more than one maintenance adjustment at a refill (intrathecal, by origin of the
    treated condition); an undated order with earlier ones says the check did not run. Decreases are not judged
    here (withdrawal is).
    Why: fast titration causes sedation, weakness and overdose. Source: the profile's titration rules (for
    baclofen, 15 mg/day every 3 days oral, Ozobax label 2.1; 5-15 % / 10-30 % a day intrathecal, StatPearls
    Dosing; refill adjustments at most +20 % cerebral, +40 % spinal, Medscape).
    Example that fires: examples/context/titration-too-fast-oral.json
    examples/context/titration-too-fast-intrathecal-cerebral.json examples/therapy/it-refill-concentration-change.json
    examples/therapy/oral-jump-to-maximum.json examples/therapy/it-long-gap-jump.json
    Example that does not fire: examples/context/titration-oral-ok.json examples/therapy/oral-labelled-step-ok.json
    examples/therapy/it-refill-concentration-change-volume-adjusted-ok.json examples/therapy/it-long-gap-ok.json
    Fix: wait for the interval, or take a smaller step.
    """
    priors = _history(order, context, profile)
    if not priors:
        return
    now = F.order_time(order.resource)
    if now is None:
        yield from _undated(order, drug_facts(context, profile).history, profile)  # priors exist: context is a record
        return
    slipped = {d.route.route for d in order.dosages if unit_slip(d, profile) is not None}
    for total in _infusions(order):
        dosing = profile.dosing.get(total.route)
        course = course_of(context, profile, dosing) if dosing is not None else None
        if course is None or total.route in slipped:
            continue  # a unit slip already says the dose is wrong; a step from it would restate that
        prior = course.previous(order)
        before = course.daily(prior) if prior is not None else None
        if prior is None or prior.when is None or not before or total.mg <= before * (1 + _EPS):
            continue
        step = _Step(
            total,
            dosing,
            before,
            (now - prior.when).total_seconds() / 86400,
            profile.routes[total.route].display,
            prior.when.date().isoformat(),
            _concentration_change(prior.mg_per_ml, order.medication.strength, dosing),
        )
        if dosing.titration_interval_days is not None:
            yield from _oral_step(step, dosing)
        if dosing.adjustment_percent_by_origin:
            yield from _intrathecal_step(context, profile, step)


@dataclass(frozen=True, slots=True)
class _Step:
    """One rise of the daily dose between the previous record and this order, on one route."""

    total: DailyTotal  # this order's daily total on the route
    dosing: RouteDosing
    before: float  # the previous record's daily dose, mg
    days: float  # since the previous record
    route: str  # its display name
    when: str  # the previous record's date
    how: str = ""  # what changed besides the rate, e.g. the concentration at a refill


def _concentration_change(before: float | None, strength: Strength | None, dosing: RouteDosing) -> str:
    """', with the concentration changed from 1000 mcg/mL to 2000 mcg/mL' (a refill that changes the dose at the same mL/day)."""
    after = strength.mg_per_ml if strength is not None else None
    if before is None or after is None or abs(after - before) <= 1e-9 * max(after, before):
        return ""
    return f", with the concentration changed from {format_mass(before, dosing.unit)}/mL to {format_mass(after, dosing.unit)}/mL"


def _oral_step(step: _Step, dosing: RouteDosing) -> Iterator[Finding]:
    """Oral: not sooner than the interval, and not more than one labelled step at once, however long since."""
    assert dosing.titration_interval_days is not None
    interval = dosing.titration_interval_days.value
    after, before = step.total.mg, step.before
    if step.days < interval - _EPS:
        yield say(
            "titration.interval",
            step.total.location,
            dosing.titration_interval_days.source,
            route=step.route,
            before=format_mass(before, dosing.unit),
            after=format_mass(after, dosing.unit),
            days=_days(step.days),
            when=step.when,
            interval=format_number(interval),
        )
        return
    if dosing.titration_max_step_daily is None:
        return
    if dosing.maximum_daily is not None and after > dosing.maximum_daily.value * (1 + _EPS):
        return  # above the maximum: that error says what matters
    # One order is one step: the new dose starts at once, so a long wait does not make a larger jump safe.
    allowed = dosing.titration_max_step_daily.value
    if after - before > allowed * (1 + 1e-6):
        yield say(
            "titration.oral-step",
            step.total.location,
            dosing.titration_max_step_daily.source,
            route=step.route,
            before=format_mass(before, dosing.unit),
            after=format_mass(after, dosing.unit) + "/day",
            step=format_mass(after - before, dosing.unit) + "/day",
            days=_days(step.days),
            when=step.when,
            max_step=format_mass(allowed, dosing.unit),
            interval=format_number(interval),
        )


def _origin_limits(context: RuleContext, profile: Profile, dosing: RouteDosing) -> tuple[str, str]:
    """(origin whose limits apply, why), the stricter origin when the conditions do not say."""
    origin = condition_origin(context, profile)
    label = profile.context.origin_label or "condition"
    limits = dosing.adjustment_percent_by_origin
    if origin in limits:
        return origin, f"for {label} of {origin} origin (from the patient's conditions)"
    chosen = min(limits.items(), key=lambda kv: kv[1].high)[0]
    return chosen, (
        f"the origin of the {label} ({' or '.join(sorted(limits))}) is not clear from the patient's conditions, "
        f"so the stricter {chosen}-origin limits apply"
    )


def _intrathecal_step(context: RuleContext, profile: Profile, step: _Step) -> Iterator[Finding]:
    """Intrathecal: the daily adjustment compounds over the days since, bounded by one maintenance adjustment."""
    dosing = step.dosing
    origin, why = _origin_limits(context, profile, dosing)
    daily = dosing.adjustment_percent_by_origin[origin]
    refill = dosing.maintenance_adjustment_percent_by_origin.get(origin)
    change = (step.total.mg - step.before) / step.before * 100
    if step.days < 1 - _EPS:
        allowed, limit, source = 0.0, "no increase within 24 h of the previous one", daily.source
    else:
        # compounded per day; the exponent is bounded (a year) so a date decades off cannot overflow
        allowed = ((1 + daily.high / 100) ** min(step.days, 365.0) - 1) * 100
        limit, source = f"at most +{format_number(daily.high)}% a day", daily.source
        if refill is not None and allowed > refill.increase.high:
            allowed = refill.increase.high
            limit = f"a single adjustment is at most +{format_number(refill.increase.high)}%"
            source = f"{refill.increase.source}; {daily.source}"
    if change <= allowed * (1 + 1e-6) + 1e-6:
        return
    yield say(
        "titration.adjustment",
        step.total.location,
        source,
        route=step.route,
        before=format_mass(step.before, dosing.unit),
        after=format_mass(step.total.mg, dosing.unit),
        change=f"{change:+.0f}%",
        days=_days(step.days),
        when=step.when,
        how=step.how,
        why=why,
        limit=limit,
    )
