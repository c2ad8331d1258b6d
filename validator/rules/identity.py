"""Is the product the order names one the profile knows, in a strength it comes in?"""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile

_TOLERANCE = 1e-6


def strength_unverified(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    medication = order.medication
    if medication.problem is not None:
        yield say(
            "identity.strength-unverified",
            medication.location,
            "medval: product strength is needed to check the formulation catalogue",
            medication=medication.description,
            drug=profile.title,
        )


def formulation_not_in_catalog(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    medication = order.medication
    if medication.strength is None or medication.product is not None:
        return
    # The form decides which products are candidates; the order's route only narrows an unknown form,
    # and only when that route is one the drug may be given by (a wrong route has its own rule).
    routes = {d.route.route for d in order.dosages if d.route.route and profile.routes[d.route.route].permitted}
    if medication.form is not None:
        candidates = [p for p in profile.products if p.form == medication.form]
    else:
        candidates = [p for p in profile.products if not routes or set(profile.forms[p.form].routes) & routes]
    strength = medication.strength
    for product in candidates:
        if strength.per_volume and product.mg_per_ml and abs(product.mg_per_ml - strength.mg_per_ml) <= _TOLERANCE * product.mg_per_ml:
            return
        if (
            not strength.per_volume
            and product.mg_per_unit
            and abs(product.mg_per_unit - strength.mg_per_unit) <= _TOLERANCE * product.mg_per_unit
        ):
            return
    form = profile.forms[medication.form].display if medication.form else "product"
    where = " for the " + ", ".join(sorted(profile.routes[r].display for r in routes)) + " route" if routes else ""
    known = sorted({p.display for p in candidates}) or sorted({p.display for p in profile.products})
    yield say(
        "identity.not-in-catalog",
        medication.location,
        "; ".join(sorted({p.source for p in candidates or profile.products})),
        drug=profile.title,
        form=form,
        strength=strength.text,
        where=where,
        known=", ".join(known),
    )
