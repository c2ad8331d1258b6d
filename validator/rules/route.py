"""Route of administration: permitted, recognised, and agreeing with the product form."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile
from .registry import emits


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def unverifiable_only(order: NormalisedOrder, profile: Profile) -> bool:
    """Every dosage is by a route the profile lists as unverifiable: the product and dose checks do not apply."""
    routes = [profile.routes.get(d.route.route or "") for d in order.dosages]
    return bool(routes) and all(r is not None and not r.verifiable for r in routes)


def _permitted_routes(profile: Profile) -> str:
    return ", ".join(r.display for r in profile.routes.values() if r.permitted)


@emits("route-not-permitted")
def route_not_permitted(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a dosage's route is one the profile forbids, or a coded route the profile does not list.
    Why: a wrong route can be fatal (intrathecal baclofen given intravenously). Source: the profile's routes,
    each with its reason (for baclofen, StatPearls Baclofen monograph, Administration).
    Example that fires: examples/orders/intrathecal-coded-as-iv.json
    Example that does not fire: examples/orders/intrathecal-pump-daily.json
    Fix: give the product by a permitted route (the CDS card suggests it when only one is possible).
    """
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


@emits("route-unverified")
def route_unverified(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a dosage has no route, or one medval does not recognise, and the product's form allows
    more than one; or a route the profile lists as unverifiable (the sources mention it, but give no product or
    dose to check an order against).
    Why: the route decides which dose limits apply, so the dose checks cannot be trusted without it (fail safe).
    Source: medval's design (a check that could not run is reported); for an unverifiable route, the profile's
    reason (for baclofen transdermal and topical, StatPearls Baclofen monograph, Administration).
    Example that fires: examples/orders/oral-route-unrecognised.json examples/therapy/transdermal-unknown-product.json
    Example that does not fire: examples/orders/oral-text-only-no-route.json
    Fix: code the route (SNOMED CT, HL7 v3 RouteOfAdministration or EDQM); for an unverifiable route, check the
    product and dose by hand.
    """
    for dose in order.dosages:
        route = dose.route
        known = profile.routes.get(route.route or "")
        if known is not None and known.permitted and not known.verifiable:
            yield say(
                "route.unverifiable",
                route.location,
                known.source,
                drug=profile.title,
                route=known.display,
                reason=_sentence(known.unverifiable_reason or "the profile has no product or dose to check it against."),
            )
            continue
        if route.route is None and not route.unlisted:
            source = "medval: the route decides which limits apply"
            if route.written:
                yield say("route.unrecognised", route.location, source, written=route.written)
            else:
                yield say("route.missing", route.location, source)


@emits("route-form-mismatch")
def route_form_mismatch(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a permitted route the product's form is not made for (an intrathecal solution by mouth).
    Why: a product given by a route it was not made for may be unsafe or ineffective. Source: the profile's forms
    and the routes each is for (for baclofen, StatPearls Baclofen monograph, Administration).
    Example that fires: examples/orders/intrathecal-solution-by-mouth.json
    Example that does not fire: examples/orders/intrathecal-pump-daily.json
    Fix: choose the product for the intended route, or the route the product is for.
    """
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
