"""History-aware dose checks: the first order's starting dose, and how fast the dose goes up between orders.

History is the other orders and statements in context for the same drug, dated before this one
(validator.context.facts.prior_orders). Limits come from the route's dosing block in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..context import PatientContext
from ..context import facts as F
from ..findings import Finding
from ..normalise import NormalisedOrder
from ..profile import Profile, RouteDosing
from ..units import format_mass, format_number
from .dose import daily_totals

_EPS = 1e-9
_HISTORY_SOURCES = ("MedicationRequest", "MedicationStatement")


def _history(order: NormalisedOrder, context: Any, profile: Profile) -> list[F.PriorOrder] | None:
    """Earlier orders for the drug, or None when the history could not be read (no context, or its search failed)."""
    if not isinstance(context, PatientContext):
        return None
    if any(f.startswith(_HISTORY_SOURCES) for f in context.failures):
        return None
    return F.prior_orders(context, order, profile)


def _days(days: float) -> str:
    shown = format_number(round(days, 1))
    return f"{shown} day" if shown == "1" else f"{shown} days"


def _infusions(order: NormalisedOrder) -> list[Any]:
    """Daily totals of the order's regular dosing (one-off boluses are screening, not a start or a step)."""
    regular = {d.route.route for d in order.dosages if d.route.route and not d.timing.one_off}
    return [t for t in daily_totals(order) if t.route in regular]


def _same_dosing(profile: Profile, route: str, dosing: RouteDosing) -> bool:
    return profile.dosing.get(route) is dosing


def starting_dose_high(order: NormalisedOrder, context: Any, profile: Profile) -> Iterator[Finding]:
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
                yield Finding(
                    "starting-dose-high",
                    f"First {route} infusion of {format_mass(total.mg, dosing.unit)}/day is above the "
                    f"{format_mass(supported, dosing.unit)}/day that {basis} ({format_mass(screening, dosing.unit)}, "
                    f"x{format_number(factor)}) supports.",
                    total.expression,
                    f"{dosing.maintenance_from_screening_factor.source}; {dosing.screening_bolus.source}",
                )


def _oral_start(order: NormalisedOrder, total: Any, dosing: RouteDosing, route: str) -> Iterator[Finding]:
    assert dosing.starting_single is not None
    single = max((d.single_mg or 0.0 for d in order.dosages if d.route.route == total.route), default=0.0)
    start_daily = dosing.starting_single.value * (dosing.starting_times_per_day or 1)
    start = format_mass(dosing.starting_single.value, dosing.unit)
    if single > dosing.starting_single.value * (1 + _EPS) or total.mg > start_daily * (1 + _EPS):
        yield Finding(
            "starting-dose-high",
            f"No earlier order in the record, and this first {route} order starts at {format_mass(single, dosing.unit)} per dose "
            f"({format_mass(total.mg, dosing.unit)}/day), above the starting dose of {start} "
            f"{format_number(dosing.starting_times_per_day or 1)} times a day ({format_mass(start_daily, dosing.unit)}/day).",
            total.expression,
            dosing.starting_single.source,
        )


def _undated(order: NormalisedOrder, context: Any, profile: Profile) -> Iterator[Finding]:
    """An undated order with earlier orders on its route cannot be compared with them: say so, never pass."""
    dosings = [profile.dosing[t.route] for t in _infusions(order) if t.route in profile.dosing]
    comparable = F.undated_comparable_count(context, order, profile, dosings)  # counted once per context: linear Bundles
    if comparable:
        yield Finding(
            "patient-context-unavailable",
            f"The titration check did not run: the order has no authoredOn date, so it cannot be compared with the "
            f"{comparable} earlier {profile.title} order(s) on record for the same route.",
            "authoredOn",
            "medval: fail safe, a check that could not run is reported",
        )


def titration_too_fast(order: NormalisedOrder, context: Any, profile: Profile) -> Iterator[Finding]:
    priors = _history(order, context, profile)
    if not priors:
        return
    now = F.order_time(order.resource)
    if now is None:
        yield from _undated(order, context, profile)
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
                yield Finding(
                    "titration-too-fast",
                    f"The {route} daily dose goes up from {format_mass(before, dosing.unit)} to {format_mass(total.mg, dosing.unit)} "
                    f"{_days(days)} after the previous order ({when}); increases should be at least "
                    f"{format_number(interval)} days apart.",
                    total.expression,
                    dosing.titration_interval_days.source,
                )
        if dosing.adjustment_percent_by_origin:
            yield from _intrathecal_step(order, context, profile, dosing, total, before, days, route, when)


def _intrathecal_step(
    order: NormalisedOrder,
    context: Any,
    profile: Profile,
    dosing: RouteDosing,
    total: Any,
    before: float,
    days: float,
    route: str,
    when: str,
) -> Iterator[Finding]:
    origin = F.condition_origin(context, profile)
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
    yield Finding(
        "titration-too-fast",
        f"The {route} daily dose goes {direction} from {format_mass(before, dosing.unit)} to {format_mass(total.mg, dosing.unit)} "
        f"({change:+.0f}%) {_days(days)} after the previous order ({when}); daily adjustments should stay "
        f"within {format_number(limit.low)}% to {format_number(limit.high)}% a day: {why}.",
        total.expression,
        limit.source,
    )
