"""The rules, in the order they run. Each is `check(order, context, profile) -> Iterator[Finding]`.

Adding a check means adding a function here, never touching the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..context import RuleContext
from ..findings import Finding
from ..normalise import NormalisedOrder
from ..profile import Profile
from . import concurrent, context_gap, dose, identity, interactions, lifecycle, patient, route, screening, sig, titration, weight

Rule = Callable[[NormalisedOrder, RuleContext, Profile], Iterator[Finding]]

RULES: list[Rule] = [
    lifecycle.order_void,
    identity.strength_unverified,
    identity.formulation_not_in_catalog,
    route.route_not_permitted,
    route.route_unverified,
    route.route_form_mismatch,
    dose.dose_problems,
    weight.weight_based_dose,
    dose.dose_unit_suspect,
    dose.daily_dose_exceeds_maximum,
    concurrent.duplicate_therapy,
    dose.daily_dose_above_usual,
    screening.screening_dose_high,
    sig.sig_mismatch,
    titration.starting_dose_high,
    titration.titration_too_fast,
    lifecycle.abrupt_discontinuation,
    lifecycle.taper_too_fast,
    patient.hypersensitivity,
    patient.pediatric_safety,
    patient.renal_impairment,
    patient.pregnancy,
    patient.lactation,
    patient.conditions,
    patient.indication,
    interactions.interactions,
    context_gap.context_unavailable,
]


def run_rules(order: NormalisedOrder, context: RuleContext, profile: Profile, rules: list[Rule] | None = None) -> list[Finding]:
    """Every rule's findings; an order not judged for dose findings (stopped, completed, cancelled, void,
    do-not-perform: validator.lifecycle) meets only the rules marked to run on every order."""
    chosen = rules or RULES
    if not order.lifecycle.judged:
        chosen = [rule for rule in chosen if getattr(rule, "every_order", False)]
    findings = [finding for rule in chosen for finding in rule(order, context, profile)]
    return sig.mark_read_from_text(findings, order)
