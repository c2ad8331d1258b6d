"""Orders that stop therapy."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile

STOPPING_STATUSES = ("stopped", "cancelled")


def abrupt_discontinuation(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
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
