"""Intrathecal screening: the labelled sequence of test boluses before a pump, from the screening product."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..context import facts as F
from ..findings import Finding
from ..messages import say
from ..normalise import DoseFacts, NormalisedOrder, Strength
from ..profile import Profile, RouteDosing
from ..profile_therapy import ScreeningSequence
from ..therapy.drug_facts import course_of
from ..units import format_mass, format_number
from .registry import emits


@emits("screening-dose-high")
def screening_dose_high(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a one-off bolus on a route with a screening sequence, before any pump dose: drawn from a
    product stronger than the screening product (an error), above the first step, skipping a step, given sooner
    than the interval after the last bolus, or beyond the sequence's last step.
    Why: the screening boluses test the response before a pump is implanted, each step only if the last gave no
    response; more, sooner or stronger risks overdose. Source: the profile's screening sequence (for baclofen
    intrathecal, 50, 75, 100 mcg at least 24 h apart from a 50 mcg/mL product, the intrathecal labels'
    Dosage and Administration; StatPearls Baclofen monograph, Administration).
    Example that fires: examples/orders/intrathecal-screening-bolus-high.json
    examples/therapy/it-screening-skips-a-step.json examples/therapy/it-screening-too-soon.json
    examples/therapy/it-bolus-from-maintenance-vial.json
    Example that does not fire: examples/orders/intrathecal-screening-bolus-usual.json
    examples/therapy/it-screening-sequence-ok.json examples/therapy/it-screening-pediatric-25-ok.json
    Fix: give the next step of the sequence, from the screening product, at least the interval after the last.
    """
    for dose in order.dosages:
        dosing = profile.dosing.get(dose.route.route or "")
        if dosing is None or dosing.screening_bolus is None or dose.single_mg is None or not dose.timing.one_off:
            continue
        earlier = _earlier_boluses(order, context, profile, dosing)
        if earlier is None:
            continue  # a pump dose is already running: not screening
        route = profile.routes[dose.route.route].display
        strength = order.medication.strength
        sequence = dosing.screening
        if _maintenance_strength(strength, sequence):
            yield say(
                "screening.maintenance-strength",
                dose.location,
                sequence.bolus_mg_per_ml.source,
                "error",
                route=route,
                single=format_mass(dose.single_mg, dosing.unit),
                written=dose.written,
                strength=strength.text,
                screening_strength=f"{format_mass(sequence.bolus_mg_per_ml.value, dosing.unit)}/mL",
                first=format_mass(sequence.steps_mg[0], dosing.unit),
            )
            continue
        if earlier and sequence is not None:
            yield from _next_step(order, dose, dosing, earlier, route)
        elif dose.single_mg > dosing.screening_bolus.value * (1 + 1e-9):
            yield say(
                "dose.screening-high",
                dose.location,
                dosing.screening_bolus.source,
                route=route,
                single=format_mass(dose.single_mg, dosing.unit),
                screening=format_mass(dosing.screening_bolus.value, dosing.unit),
            )


def _maintenance_strength(strength: Strength | None, sequence: ScreeningSequence | None) -> bool:
    """A product stronger than the screening product (a bolus drawn from a pump refill vial)."""
    if sequence is None or sequence.bolus_mg_per_ml is None or strength is None or not strength.mg_per_ml:
        return False
    return strength.mg_per_ml > sequence.bolus_mg_per_ml.value * (1 + 1e-9)


def _earlier_boluses(order: NormalisedOrder, context: RuleContext, profile: Profile, dosing: RouteDosing) -> list | None:
    """(when, mg) of the earlier one-off doses on the route, oldest first; None once a pump dose is on record."""
    course = course_of(context, profile, dosing)
    if course is None:
        return []
    earlier = course.history.before(order)
    if any(course.on_route(u) and course.daily(u) for u in earlier):
        return None
    return [(u.when, course.bolus(u)) for u in earlier if u.when is not None and course.bolus(u)]


def _next_step(order: NormalisedOrder, dose: DoseFacts, dosing: RouteDosing, earlier: list, route: str) -> Iterator[Finding]:
    sequence = dosing.screening
    assert sequence is not None and dose.single_mg is not None
    mass = lambda mg: format_mass(mg, dosing.unit)  # noqa: E731
    last_when, last_mg = earlier[-1]
    given = " then ".join(mass(mg) for _, mg in earlier)
    given = f"the earlier bolus{'es' if len(earlier) > 1 else ''} of {given}"
    now = F.order_time(order.resource)
    hours = sequence.min_interval_hours.value
    since = (now - last_when).total_seconds() / 3600 if now is not None else None
    following = [mg for mg in sequence.steps_mg if mg > last_mg * (1 + 1e-9)]
    top = sequence.maximum_bolus.value if sequence.maximum_bolus is not None else sequence.steps_mg[-1]
    source = sequence.steps_source
    if not following or dose.single_mg > top * (1 + 1e-9):
        yield say("screening.beyond-last-step", dose.location, source, single=mass(dose.single_mg), given=given, maximum=mass(top))
    elif dose.single_mg > following[0] * (1 + 1e-9):
        steps = ", then ".join(mass(mg) for mg in sequence.steps_mg)
        yield say(
            "screening.skips-ahead",
            dose.location,
            source,
            single=mass(dose.single_mg),
            given=given,
            steps=steps,
            hours=format_number(hours),
            expected=mass(following[0]),
        )
    elif since is not None and since < hours - 1e-9:
        yield say(
            "screening.too-soon",
            dose.location,
            sequence.min_interval_hours.source,
            single=mass(dose.single_mg),
            since=format_number(round(since, 1)),
            last=mass(last_mg),
            hours=format_number(hours),
        )
