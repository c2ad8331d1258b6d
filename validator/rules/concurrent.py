"""Several orders at once: another current order for the same drug and route."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile
from ..therapy.course import describe_orders
from ..therapy.drug_facts import course_of
from ..units import format_mass
from .registry import emits


@emits("duplicate-therapy")
def duplicate_therapy(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: another active order for the drug on the same route (or one sharing its dosing block) is in
    context, other than an order this one replaces or that replaces it (priorPrescription, R5 replaces); a
    MedicationStatement is a record of use, never a duplicate.
    Why: two orders for one drug are given together: the daily dose is their sum, and often one was meant to
    replace the other. Source: medval contract (duplicate-therapy); the daily maximum applies to the patient.
    Example that fires: examples/therapy/oral-two-active-orders-over-maximum.json
    Example that does not fire: examples/therapy/oral-replacing-order-ok.json examples/therapy/oral-home-medication-continued-ok.json
    Fix: stop the order that is no longer meant, or link the new order to the one it replaces (priorPrescription).
    """
    seen: set[int] = set()
    for total in order.daily_totals:
        dosing = profile.dosing.get(total.route)
        if dosing is None or id(dosing) in seen:
            continue
        seen.add(id(dosing))
        course = course_of(context, profile, dosing)
        shown, count, others_mg = course.concurrent(order) if course is not None else ([], 0, 0.0)
        if not count:
            continue
        unread = course.concurrent_unreadable(order)
        yield say(
            "duplicate.active-unread" if unread else "duplicate.active",
            total.location,
            "medval contract: duplicate-therapy",
            drug=profile.title,
            route=profile.routes[total.route].display,
            others=describe_orders(course, shown, count),
            total=format_mass(total.mg + others_mg, dosing.unit),
        )
