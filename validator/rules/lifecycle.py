"""What an order's lifecycle means for the patient: a void order, therapy that stops, a taper that is too fast.

The meaning of each status is validator.lifecycle's table (computed once on the normalised order); whether
therapy continues past an order is validator.therapy.Course. These rules run on every order, judged or not.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile, RouteDosing
from ..therapy.drug_facts import course_of
from ..therapy.taper import days_to_zero, schedule
from ..units import format_mass, format_number
from .registry import emits


def every_order(function):  # noqa: ANN001, ANN201 - a decorator
    """Mark a rule that runs on every order, also on one not judged for dose findings (stopped, void)."""
    function.every_order = True
    return function


def _blocks(order: NormalisedOrder, profile: Profile) -> list[tuple[str, RouteDosing]]:
    """(route id, dosing block) of each block the order's dosages use, once per block; every block when none is known."""
    routes = [d.route.route for d in order.dosages if d.route.route in profile.dosing] or list(profile.dosing)
    seen: dict[int, tuple[str, RouteDosing]] = {}
    for route in routes:
        seen.setdefault(id(profile.dosing[route]), (route, profile.dosing[route]))
    return list(seen.values())


@every_order
@emits("order-void")
def order_void(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the order is marked entered-in-error.
    Why: an order entered in error is void: it is not clinically checked and counts as no therapy, and medval says
    so rather than "no issues" (fail safe). Source: FHIR R4 MedicationRequest.status (entered-in-error).
    Example that fires: examples/therapy/oral-entered-in-error-ok.json
    Example that does not fire: examples/therapy/oral-cancelled-before-any-dose-ok.json
    Fix: nothing, unless the order was not meant to be voided.
    """
    if order.lifecycle.void:
        yield say("order.void", ("status",), "FHIR R4 MedicationRequest.status: entered-in-error")


@every_order
@emits("abrupt-discontinuation")
def abrupt_discontinuation(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: an order that stops or interrupts therapy (stopped, on hold) when no other current order for the
    drug on the same route continues it (one it names as replaced, or any active order in context). A cancelled
    order (never given), a completed one and a void one stop nothing.
    Why: abrupt withdrawal can cause hallucinations and seizures; intrathecally (boxed warning) high fever,
    rebound spasticity, rhabdomyolysis and death, so the profile raises it to an error there. Source: the
    profile's discontinuation warning per route (for baclofen, StatPearls Baclofen monograph, Adverse Effects).
    Example that fires: examples/orders/oral-stopped-abruptly.json examples/therapy/it-order-on-hold.json
    Example that does not fire: examples/therapy/it-stop-replaced-by-new-order-ok.json
    examples/therapy/oral-stop-continued-by-current-order-ok.json examples/therapy/oral-cancelled-before-any-dose-ok.json
    Fix: taper the dose over the profile's minimum taper, or order the therapy that continues it.
    """
    if not order.lifecycle.stops:
        return
    blocks = _blocks(order, profile)
    if not any(d.route.route in profile.dosing for d in order.dosages):
        # no route written: warn for the routes the record shows the patient on, when it shows any
        on_record = [(r, d) for r, d in blocks if (c := course_of(context, profile, d)) is not None and c.has_record_before(order)]
        blocks = on_record or blocks
    for route, dosing in blocks:
        if not dosing.discontinuation_warning:
            continue
        course = course_of(context, profile, dosing)
        if course is not None and course.continued_by(order) is not None:
            continue
        # the label's exception (rapid withdrawal for a serious adverse reaction) never covers a boxed-warning route
        excused = order.lifecycle.for_adverse_reaction and dosing.discontinuation_severity != "error"
        yield say(
            "discontinuation.adverse-reaction" if excused else "discontinuation.abrupt",
            ("status",),
            dosing.discontinuation_source,
            dosing.discontinuation_severity,
            status=order.lifecycle.status.replace("-", " "),
            route=profile.routes[route].display,
            drug=profile.title,
            warning=dosing.discontinuation_warning,
        )


@emits("taper-too-fast")
def taper_too_fast(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a schedule of bounded dosages (sequence with boundsPeriod or boundsDuration) that goes down
    from the running dose (the previous record) and ends, with no other current order continuing the therapy,
    reaching zero in fewer days than the route's minimum taper.
    Why: a fast taper is an abrupt withdrawal in steps (seizures, hallucinations; intrathecally the boxed
    warning). Source: the profile's minimum taper per route (for baclofen, 14 days: StatPearls Baclofen monograph,
    Administration, 'gradual withdrawal over 2 to 4 weeks').
    Example that fires: examples/therapy/oral-taper-over-3-days.json examples/therapy/it-taper-over-5-days.json
    Example that does not fire: examples/therapy/oral-taper-over-3-weeks-ok.json examples/therapy/it-taper-over-3-weeks-ok.json
    Fix: spread the reductions over at least the minimum taper.
    """
    for _route, dosing in _blocks(order, profile):
        course = course_of(context, profile, dosing)
        if dosing.taper_minimum_days is None or course is None or course.continued_by(order) is not None:
            continue
        previous = course.previous(order)
        running = course.daily(previous) if previous is not None else None
        routes = {r for r in profile.dosing if profile.dosing[r] is dosing}
        steps = schedule(order, routes)
        days = days_to_zero(steps, running) if running else None
        minimum = dosing.taper_minimum_days.value
        if days is None or days >= minimum:
            continue
        yield say(
            "taper.too-fast",
            ("dosageInstruction",),
            dosing.taper_minimum_days.source,
            before=format_mass(running, dosing.unit),
            days=f"{format_number(days)} day" + ("" if days == 1 else "s"),
            steps=", ".join(format_mass(s.daily_mg, dosing.unit) + "/day" for s in steps),
            drug=profile.title,
            minimum=format_number(minimum),
        )
