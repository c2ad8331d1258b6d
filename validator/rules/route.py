"""Route of administration: permitted, recognised, and agreeing with the product form."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..normalise import NormalisedOrder
from ..profile import Profile


def _permitted_routes(profile: Profile) -> str:
    return ", ".join(r.display for r in profile.routes.values() if r.permitted)


def route_not_permitted(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for dose in order.dosages:
        route = dose.route
        if route.route is not None and not profile.routes[route.route].permitted:
            known = profile.routes[route.route]
            yield Finding(
                "route-not-permitted",
                f"{profile.title} must not be given by the {known.display} route ({route.written or known.display}): {known.reason} "
                f"Permitted: {_permitted_routes(profile)}.",
                route.location,
                known.source,
            )
        elif route.route is None and route.unlisted:
            yield Finding(
                "route-not-permitted",
                f"Route {route.written!r} is not a route the {profile.title} profile lists; permitted: {_permitted_routes(profile)}.",
                route.location,
                "; ".join(sorted({r.source for r in profile.routes.values() if r.permitted})),
            )


def route_unverified(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    for dose in order.dosages:
        route = dose.route
        if route.route is None and not route.unlisted:
            said = f"Route {route.written!r} is not recognised" if route.written else "No route is given"
            yield Finding(
                "route-unverified",
                f"{said} and none can be inferred from the product, so the route checks did not run.",
                route.location,
                "medval: the route decides which limits apply",
            )


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
            yield Finding(
                "route-form-mismatch",
                f"This {form.display} is for {intended} use, but the order gives it by the {profile.routes[route.route].display} route.",
                route.location,
                form.source,
            )
