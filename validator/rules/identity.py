"""Is the product the order names one the profile knows, in a strength it comes in?"""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile
from .registry import emits
from .route import unverifiable_only

_TOLERANCE = 1e-6


@emits("strength-unverified")
def strength_unverified(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the order names the profile's drug, but no product strength can be read from its code,
    its Medication's ingredients or its text.
    Why: without the strength the product cannot be matched to the formulation catalogue and a dose in tablets
    or mL cannot be turned into mg (fail safe: say the check did not run). Source: the profile's catalogue
    (for baclofen, StatPearls Baclofen monograph, Administration).
    Example that fires: examples/orders/oral-ingredient-only-strength-unverified.json
    Example that does not fire: examples/orders/oral-tablet-tid.json
    Fix: name the product by a product code (RxNorm SCD/SBD) or give the ingredient strength.
    """
    medication = order.medication
    if medication.problem is not None and not unverifiable_only(order, profile):
        yield say(
            "identity.strength-unverified",
            medication.location,
            "medval: product strength is needed to check the formulation catalogue",
            medication=medication.description,
            drug=profile.title,
        )


@emits("formulation-not-in-catalog")
def formulation_not_in_catalog(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the product's form and strength match no product in the profile's catalogue for the route.
    Why: a strength that is not made (a 25 mg tablet) is usually a picking or transcription error. Source: the
    profile's catalogue, each product citing its label (for baclofen, StatPearls Administration and FDA labels).
    Example that fires: examples/orders/oral-tablet-25mg-not-in-catalog.json
    Example that does not fire: examples/orders/oral-tablet-tid.json
    Fix: choose a product from the catalogue the finding lists.
    """
    medication = order.medication
    if medication.strength is None or medication.product is not None or unverifiable_only(order, profile):
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
