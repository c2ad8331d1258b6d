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
from ..normalise import DailyTotal, NormalisedOrder
from ..profile import Profile, RouteDosing
from ..therapy import MedicationUse, drug_facts
from ..therapy.drug_facts import condition_origin
from ..therapy.history import History
from ..units import format_mass, format_number
from .dose import daily_totals
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
    single = max((d.single_mg or 0.0 for d in order.dosages if d.route.route == total.route), default=0.0)
    start_daily = dosing.starting_single.value * (dosing.starting_times_per_day or 1)
    start = format_mass(dosing.starting_single.value, dosing.unit)
    if single > dosing.starting_single.value * (1 + _EPS) or total.mg > start_daily * (1 + _EPS):
        yield say(
            "start.above-starting-dose",
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
    """What it checks: the daily dose goes up sooner than the titration interval, or changes by more than the
    daily adjustment allows (by origin of the treated condition), compared with the previous order; an undated
    order with earlier ones says the check did not run.
    Why: fast titration causes sedation, weakness and overdose. Source: the profile's titration rules (for
    baclofen, increases 3 days apart oral; 5-15 % / 10-30 % a day intrathecal, StatPearls Dosing).
    Example that fires: examples/context/titration-too-fast-oral.json
    examples/context/titration-too-fast-intrathecal-cerebral.json
    Example that does not fire: examples/context/titration-oral-ok.json
    Fix: wait for the interval, or take a smaller step.
    """
    priors = _history(order, context, profile)
    if not priors:
        return
    now = F.order_time(order.resource)
    if now is None:
        yield from _undated(order, drug_facts(context, profile).history, profile)  # priors exist: context is a record
        return
    for total in _infusions(order):
        dosing = profile.dosing.get(total.route)
        if dosing is None:
            continue
        previous = next(
            (
                (p, mg)
                for p in reversed(priors)
                for r, mg in p.daily_mg.items()
                if _same_dosing(profile, r, dosing) and p.when is not None and mg > 0
            ),
            None,
        )
        if previous is None:
            continue
        prior, before = previous
        days = (now - prior.when).total_seconds() / 86400
        route = profile.routes[total.route].display
        when = prior.when.date().isoformat()
        if dosing.titration_interval_days is not None:
            interval = dosing.titration_interval_days.value
            if total.mg > before * (1 + _EPS) and days < interval - _EPS:
                yield say(
                    "titration.interval",
                    total.location,
                    dosing.titration_interval_days.source,
                    route=route,
                    before=format_mass(before, dosing.unit),
                    after=format_mass(total.mg, dosing.unit),
                    days=_days(days),
                    when=when,
                    interval=format_number(interval),
                )
        if dosing.adjustment_percent_by_origin:
            yield from _intrathecal_step(context, profile, _Step(total, dosing, before, days, route, when))


@dataclass(frozen=True, slots=True)
class _Step:
    """One change of the daily dose between the previous order and this one, on one route."""

    total: DailyTotal  # this order's daily total on the route
    dosing: RouteDosing
    before: float  # the previous order's daily dose, in the route's unit
    days: float  # since the previous order
    route: str  # its display name
    when: str  # the previous order's date


def _intrathecal_step(context: RuleContext, profile: Profile, step: _Step) -> Iterator[Finding]:
    total, dosing, before, days, route, when = step.total, step.dosing, step.before, step.days, step.route, step.when
    origin = condition_origin(context, profile)
    label = profile.context.origin_label or "condition"
    limits = dosing.adjustment_percent_by_origin
    if origin in limits:
        chosen, limit = origin, limits[origin]
        why = f"for {label} of {origin} origin (from the patient's conditions)"
    else:
        chosen, limit = min(limits.items(), key=lambda kv: kv[1].high)
        why = (
            f"the origin of the {label} ({' or '.join(sorted(limits))}) is not clear from the patient's conditions, "
            f"so the stricter {chosen}-origin limit was used"
        )
    change = (total.mg - before) / before * 100
    allowed = limit.high * max(1.0, float(int(days + _EPS)))
    if abs(change) <= allowed * (1 + 1e-6):
        return
    direction = "up" if change > 0 else "down"
    yield say(
        "titration.step",
        total.location,
        limit.source,
        route=route,
        direction=direction,
        before=format_mass(before, dosing.unit),
        after=format_mass(total.mg, dosing.unit),
        change=f"{change:+.0f}%",
        days=_days(days),
        when=when,
        low=format_number(limit.low),
        high=format_number(limit.high),
        why=why,
    )
