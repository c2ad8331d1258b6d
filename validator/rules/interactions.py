"""Interactions with the patient's other active medications (and recorded alcohol use), from the profile's list."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import PatientContext, RuleContext
from ..context import facts as F
from ..findings import Finding
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import Profile
from ..therapy import drug_facts
from .patient import _quote, _sentence, applies
from .registry import emits


@emits("cns-depressant-interaction", "epidural-morphine-interaction")
def interactions(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: another active medication (or recorded alcohol use) the profile lists as interacting, one
    issue per profile entry naming what was found.
    Why: CNS depressants add to sedation and respiratory depression; epidural morphine with intrathecal baclofen
    has caused hypotension and dyspnoea. Source: the profile's interactions (StatPearls Baclofen monograph).
    Example that fires: examples/context/cns-depressant.json examples/context/epidural-morphine.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: review the combination; monitor for sedation and breathing.
    """
    if not isinstance(context, PatientContext):
        return
    resolve = context.resolve
    # the order judged is the profile's drug, so it is never among these
    active = drug_facts(context, profile).active_other_drugs
    for rule in profile.context.interactions:
        if not applies(rule, order):
            continue
        found: list[str] = []
        kinds: list[str] = []
        for medication in active:
            concepts = F.medication_concepts(medication, resolve)
            group = F.first_match(concepts, rule.groups, names="always")
            if group is None:
                continue
            if rule.medication_routes and not (F.medication_routes(medication, profile) & set(rule.medication_routes)):
                continue
            found.append(F.describe(concepts[0]) if concepts else group.display)
            kinds.append(group.display)
        if context.has_record and rule.condition_groups:
            for condition, group in F.matching_conditions(context, rule.condition_groups):
                found.append(F.describe(condition.code))
                kinds.append(group.display)
        if found:
            yield say(
                f"interaction.{rule.rule}",
                order.medication.location,
                rule.source,
                found=_quote(found),
                kinds=", ".join(dict.fromkeys(kinds)),
                text=_sentence(rule.text),
            )
