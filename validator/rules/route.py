"""Route of administration: permitted, recognised, and agreeing with the product form."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile


def _permitted_routes(profile: Profile) -> str:
    return ", ".join(r.display for r in profile.routes.values() if r.permitted)


def route_not_permitted(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for dose in order.dosages:
        route = dose.route
        if route.route is not None and not profile.routes[route.route].permitted:
            known = profile.routes[route.route]
            yield say(
                "route.forbidden",
                route.location,
                known.source,
                drug=profile.title,
                route=known.display,
                written=route.written or known.display,
                reason=known.reason,
                permitted=_permitted_routes(profile),
            )
        elif route.route is None and route.unlisted:
            yield say(
                "route.unlisted",
                route.location,
                "; ".join(sorted({r.source for r in profile.routes.values() if r.permitted})),
                written=route.written,
                drug=profile.title,
                permitted=_permitted_routes(profile),
            )


def route_unverified(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for dose in order.dosages:
        route = dose.route
        if route.route is None and not route.unlisted:
            source = "medval: the route decides which limits apply"
            if route.written:
                yield say("route.unrecognised", route.location, source, written=route.written)
            else:
                yield say("route.missing", route.location, source)


def route_form_mismatch(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    form_id = order.medication.form
    if form_id is None:
        return
    form = profile.forms[form_id]
    for dose in order.dosages:
        route = dose.route
        if route.route is None or route.inferred or not profile.routes[route.route].permitted:
            continue
        if route.route not in form.routes:
            intended = ", ".join(profile.routes[r].display for r in form.routes)
            yield say(
                "route.form-mismatch",
                route.location,
                form.source,
                form=form.display,
                intended=intended,
                route=profile.routes[route.route].display,
            )
