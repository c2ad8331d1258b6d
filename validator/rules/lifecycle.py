"""Orders that stop therapy."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile
from .registry import emits

STOPPING_STATUSES = ("stopped", "cancelled")


@emits("abrupt-discontinuation")
def abrupt_discontinuation(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: an order that stops or cancels the therapy outright.
    Why: abrupt withdrawal can cause hallucinations, seizures and, intrathecally, life-threatening rebound.
    Source: the profile's discontinuation warning (for baclofen, StatPearls Baclofen monograph, Toxicity).
    Example that fires: examples/orders/oral-stopped-abruptly.json
    Example that does not fire: examples/orders/oral-tablet-tid.json
    Fix: taper the dose over days to weeks instead of stopping.
    """
    if order.status not in STOPPING_STATUSES:
        return
    routes = [d.route.route for d in order.dosages if d.route.route in profile.dosing] or list(profile.dosing)
    warned: set[str] = set()  # routes may share one dosing block (enteral tube = oral): say each warning once
    for route in routes:
        dosing = profile.dosing[route]
        if not dosing.discontinuation_warning or dosing.discontinuation_warning in warned:
            continue
        warned.add(dosing.discontinuation_warning)
        yield say(
            "discontinuation.abrupt",
            ("status",),
            dosing.discontinuation_source,
            status=order.status,
            warning=dosing.discontinuation_warning,
        )
