"""Checks that need the patient: age, kidneys, pregnancy, lactation, allergies, conditions, and the order's reason.

Every threshold, code list and sentence comes from the profile's `context` section; the facts
(active or not, most recent value, age on the order's date) from validator.context.facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..context import PatientContext, RuleContext
from ..context import facts as F
from ..findings import Finding, Location
from ..messages import say
from ..normalise import NormalisedOrder
from ..profile import GroupRule, Profile
from ..profile_therapy import AnswerList
from ..units import format_number
from .registry import emits


def _record(context: RuleContext) -> PatientContext | None:
    """The context when it holds the patient's record (not only other orders)."""
    return context if isinstance(context, PatientContext) and context.has_record else None


def _order_routes(order: NormalisedOrder) -> set[str]:
    return {d.route.route for d in order.dosages if d.route.route}


def applies(rule: GroupRule, order: NormalisedOrder) -> bool:
    """A rule limited to some routes applies when the order uses one of them (or names no route)."""
    if not rule.order_routes:
        return True
    routes = _order_routes(order)
    return not routes or bool(routes & set(rule.order_routes))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _quote(items: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in dict.fromkeys(items))


@emits("pediatric-safety-not-established", "patient-context-unavailable")
def pediatric_safety(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the patient is younger than the minimum age for the order's route on the order's date (the
    profile-wide minimum when the route has none; a birth date that gives no age says the check did not run).
    Why: safety and efficacy are not established below that age. Source: the profile's minimum ages (for
    baclofen, 12 years oral, StatPearls Baclofen monograph; 4 years intrathecal, Gablofen label 1).
    Example that fires: examples/context/pediatric.json examples/therapy/age-6-oral.json
    Example that does not fire: examples/context/no-issues-with-context.json examples/therapy/age-6-intrathecal-ok.json
    Fix: confirm specialist direction, or choose a drug studied in children.
    """
    record = _record(context)
    limits = [m for m in (profile.minimum_age_for(r) for r in sorted(_order_routes(order))) if m is not None]
    minimum = max(limits, key=lambda m: m.value) if limits else profile.minimum_age  # the strictest route applies
    if record is None or record.patient is None or minimum is None:
        return
    on = F.order_date(order)
    birth_date = getattr(record.patient, "birthDate", None)
    age = F.age_years(birth_date, on)
    if age is None and birth_date is not None:  # a birth date after the order (or unreadable): say the check did not run
        yield say("age.unreadable", ("subject",), minimum.source, birth_date=birth_date, on=on.date().isoformat())
        return
    if age is None or age >= minimum.value:
        return
    yield say(
        "age.below-minimum",
        ("subject",),
        minimum.source,
        age=age,
        on=on.date().isoformat(),
        drug=profile.title,
        minimum=format_number(minimum.value),
    )


@emits("renal-impairment", "patient-context-unavailable")
def renal_impairment(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a kidney condition, or a most recent kidney-function result below the profile's threshold
    (a result in a unit medval cannot convert says the check did not run).
    Why: the drug is cleared by the kidneys and accumulates in renal impairment. Source: the profile's renal
    section (for baclofen, StatPearls Baclofen monograph, Warning/Precautions).
    Example that fires: examples/context/renal-egfr-low.json examples/context/renal-condition.json
    Example that does not fire: examples/context/renal-egfr-recovered.json
    Fix: reduce the dose or choose another drug.
    """
    record = _record(context)
    rule = profile.context.renal_conditions
    if record is None or rule is None:
        return
    reasons: list[str] = []
    sources = [rule.source]
    conditions = F.matching_conditions(record, rule.groups)
    if conditions:
        reasons.append("active condition " + _quote([F.describe(c.code) for c, _ in conditions]))
    for test in profile.context.renal_tests:
        latest = F.latest_measurement(record, test.groups, test.unit)
        if latest is not None and latest.value is None:
            when = f" of {latest.when.date().isoformat()}" if latest.when else ""
            yield say(
                "renal.unit-unconvertible",
                ("subject",),
                test.source,
                test=latest.group.display,
                when=when,
                unit=latest.unit or "no unit",
                target=_unit_text(test.unit),
            )
        elif latest is not None and latest.value < test.below:
            when = f" on {latest.when.date().isoformat()}" if latest.when else ""
            reasons.append(
                f"most recent {latest.group.display} {format_number(round(latest.value, 1))} {_unit_text(test.unit)}{when}, "
                f"below {format_number(test.below)}"
            )
            sources.append(test.source)
    if not reasons:
        return
    yield say("renal.impaired", ("subject",), "; ".join(dict.fromkeys(sources)), reasons="; ".join(reasons), text=_sentence(rule.text))


def _unit_text(unit: str) -> str:
    return unit.replace("{", "").replace("}", "").replace("_", " ")


def _answer(observation: Any, answers: AnswerList) -> tuple[datetime, str] | None:
    """(when, meaning) of an observation that answers the list's question, with a coded answer the list knows."""
    if answers.observation not in F.codings(getattr(observation, "code", None)) or not F.observation_usable(observation):
        return None
    meanings = [answers.meaning(system, code) for system, code in F.codings(getattr(observation, "valueCodeableConcept", None))]
    meaning = next((m for m in meanings if m is not None), None)
    when = F.observation_time(observation)
    return (when, meaning) if meaning is not None and when is not None else None


def _superseded(observation: Any, record: PatientContext, answers: AnswerList | None) -> bool:
    """A positive answer (pregnant) that a newer negative answer to the same question replaces."""
    mine = _answer(observation, answers) if answers is not None else None
    if mine is None:
        return False
    later = [a for a in (_answer(o, answers) for o in record.observations if o is not observation) if a and a[0] > mine[0]]
    return bool(later) and max(later)[1] == "negative"


def _recorded_state(
    order: NormalisedOrder, context: RuleContext, rule: GroupRule | None, answers: AnswerList | None = None
) -> Iterator[Finding]:
    record = _record(context)
    if record is None or rule is None:
        return
    found = [F.describe(c.code) for c, _ in F.matching_conditions(record, rule.groups)]
    found += [
        F.describe(o.valueCodeableConcept) for o, _ in F.matching_observations(record, rule.groups) if not _superseded(o, record, answers)
    ]
    if found:
        yield say(f"recorded-state.{rule.rule}", ("subject",), rule.source, found=_quote(found), text=_sentence(rule.text))


@emits("pregnancy")
def pregnancy(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the patient's record shows a pregnancy (condition, or a pregnancy-status observation whose
    coded answer, LOINC answer list or SNOMED CT, means pregnant and is not replaced by a newer 'not pregnant').
    Why: the drug's use in pregnancy needs weighing of risk and benefit. Source: the profile's pregnancy entry
    (for baclofen, StatPearls Baclofen monograph, Warning/Precautions) and its pregnancy-status answer list.
    Example that fires: examples/context/pregnancy.json examples/therapy/pregnancy-loinc-answer.json
    Example that does not fire: examples/context/no-issues-with-context.json examples/therapy/pregnancy-loinc-not-pregnant-ok.json
    Fix: confirm the benefit outweighs the risk, or choose another drug.
    """
    yield from _recorded_state(order, context, profile.context.pregnancy, profile.context.answer_lists.get("pregnancy-status"))


@emits("lactation")
def lactation(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the patient's record shows breastfeeding.
    Why: the drug passes into breast milk. Source: the profile's lactation entry (for baclofen, StatPearls
    Baclofen monograph, Warning/Precautions).
    Example that fires: examples/context/lactation.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: weigh the infant's exposure; monitor the infant.
    """
    yield from _recorded_state(order, context, profile.context.lactation)


def _allergy_names_drug(allergy: Any, profile: Profile, rule: GroupRule) -> bool:
    concepts = [getattr(allergy, "code", None)]
    for reaction in getattr(allergy, "reaction", None) or []:
        concepts.append(getattr(reaction, "substance", None))
    concepts = [c for c in concepts if c is not None]
    # the drug itself (its codes, name or brands), or the profile's allergy concepts (substance, "allergy to ...")
    return any(F.names_drug(c, profile) for c in concepts) or F.first_match(concepts, rule.groups, names="always") is not None


@emits("hypersensitivity")
def hypersensitivity(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: an active allergy or intolerance to the drug (or its group) in the patient's record.
    Why: hypersensitivity to the drug is a contraindication. Source: the profile's hypersensitivity entry (for
    baclofen, StatPearls Baclofen monograph, Contraindications).
    Example that fires: examples/context/hypersensitivity.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: choose another drug, or record why the allergy does not apply.
    """
    record = _record(context)
    rule = profile.context.hypersensitivity
    if record is None or rule is None:
        return
    for allergy in record.allergies:
        if not F.allergy_active(allergy) or not _allergy_names_drug(allergy, profile, rule):
            continue
        kind = str(getattr(allergy, "type", None) or "allergy or intolerance")
        criticality = getattr(allergy, "criticality", None)
        extra = f", criticality {criticality}" if criticality else ""
        yield say(
            "hypersensitivity.active",
            order.medication.location,
            rule.source,
            kind=kind,
            allergen=F.describe(allergy.code),
            extra=extra,
            text=_sentence(rule.text),
        )


@emits("condition-not-recommended", "condition-caution")
def conditions(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: an active condition the profile lists as not recommended or needing caution, one issue per
    profile entry naming the patient's conditions.
    Why: the drug worsens some conditions (for baclofen, e.g. seizures, stroke, psychosis). Source: the profile's
    conditions (for baclofen, StatPearls Baclofen monograph, Contraindications and Warning/Precautions).
    Example that fires: examples/context/condition-not-recommended.json examples/context/condition-caution.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: choose another drug, or monitor as the finding says.
    """
    record = _record(context)
    if record is None:
        return
    for rule in profile.context.conditions:
        if not applies(rule, order):
            continue
        found = F.matching_conditions(record, rule.groups)
        if found:
            named = _quote([f"{F.describe(c.code)}" for c, _ in found])
            kinds = ", ".join(dict.fromkeys(g.display for _, g in found))
            yield say(f"condition.{rule.rule}", ("subject",), rule.source, named=named, kinds=kinds, text=_sentence(rule.text))


def _reasons(order: NormalisedOrder, context: RuleContext) -> list[tuple[Location, Any]]:
    """(location, concept) for each reason the order gives: reasonCode / reason.concept, and referenced Conditions."""
    resource = order.resource
    found: list[tuple[Location, Any]] = []
    for i, concept in enumerate(getattr(resource, "reasonCode", None) or []):
        found.append((("reasonCode", i), concept))
    resolve = getattr(context, "resolve", None)
    for i, ref in enumerate(getattr(resource, "reasonReference", None) or []):
        target = resolve(ref.reference) if resolve and getattr(ref, "reference", None) else None
        if target is not None and getattr(target, "code", None) is not None:
            found.append((("reasonReference", i), target.code))
        elif getattr(ref, "display", None):
            found.append((("reasonReference", i), F._TextConcept(ref.display)))
    for i, reason in enumerate(getattr(resource, "reason", None) or []):  # R5 CodeableReference
        if getattr(reason, "concept", None) is not None:
            found.append((("reason", i, "concept"), reason.concept))
        reference = getattr(reason, "reference", None)
        target = resolve(reference.reference) if resolve and reference is not None and reference.reference else None
        if target is not None and getattr(target, "code", None) is not None:
            found.append((("reason", i, "reference"), target.code))
    return found


@emits("indication-not-supported", "off-label-indication")
def indication(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: the order's own reason is one the drug is not indicated for, or a known off-label use (no
    patient record needed).
    Why: prescribing for an unsupported indication is a common error (for baclofen, e.g. Parkinson's disease).
    Source: the profile's indications (for baclofen, StatPearls Baclofen monograph, Indications).
    Example that fires: examples/context/indication-not-supported.json examples/context/off-label-indication.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: check the reason for the order.
    """
    reasons = [(expression, concept, F.Readable(concept)) for expression, concept in _reasons(order, context)]
    if not reasons:
        return
    for rule in profile.context.indications:
        if not applies(rule, order):
            continue
        for expression, concept, readable in reasons:
            group = F.first_match([readable], rule.groups)
            if group is not None:
                yield say(
                    f"indication.{rule.rule}",
                    expression,
                    rule.source,
                    reason=F.describe(concept),
                    group=group.display,
                    text=_sentence(rule.text),
                )
                break
