"""Every wording medval writes, keyed by id: a detail template (the OperationOutcome text) and a summary
template (a CDS Hooks card's <140-character summary), with named arguments.

A check yields `say("route.forbidden", location, source, drug=..., ...)`; the text is made here, so one
wording has one home and a card's summary comes from its own template, never cut from the sentence.
Kept beside the rule catalogue (findings.RULE_CATALOGUE): each message names the rule code it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .findings import Finding, Location

# The source of every finding that says a check could not run (fail safe).
FAIL_SAFE_SOURCE = "medval: fail safe, a check that could not run is reported"
PROFILES_SOURCE = "medval: loaded profiles"


@dataclass(frozen=True, slots=True)
class Message:
    rule: str  # the rule code it reports
    detail: str  # str.format template: one sentence with the numbers
    summary: str = ""  # str.format template under 140 characters; empty: the detail is short enough


MESSAGES: dict[str, Message] = {
    # made by the engine and the parser
    "order.not-in-scope": Message(
        "not-in-scope",
        "{medication!r} is not covered by any loaded profile; it was not checked.",
        "{medication!r} is not covered by any loaded profile.",
    ),
    "bundle.no-orders": Message("not-in-scope", "The Bundle holds no MedicationRequest; nothing was checked."),
    "order.medication-unidentified": Message(
        "medication-unidentified",
        "The order names no medication medval can identify (no code, no text, no resolvable reference).",
        "The order names no medication medval can identify.",
    ),
    "order.void": Message(
        "order-void",
        "This order is marked entered-in-error: it is void, so it was not clinically checked and counts as no therapy.",
        "This order is marked entered-in-error: void, not clinically checked.",
    ),
    "order.no-issues": Message("no-issues", "Nothing to report: the order was checked against the {profile}."),
    "order.no-issues-not-given": Message(
        "no-issues",
        "Nothing to report: the order is {status}, so it will not be given as written; only the checks about stopping "
        "therapy ran against the {profile} (its dose, route and patient checks apply to orders that will be given).",
        "Nothing to report: the order is {status}; its dose and route were not checked.",
    ),
    "bundle.entry-not-list": Message("input-invalid", "Bundle.entry is not a list."),
    # bounded work per request (validator/limits.py)
    "input.text-not-read": Message(
        "text-not-read",
        "This text is {length} characters long; medval reads free text up to {limit} characters, "
        "so it was not read, and the checks that use it ran without it.",
        "A {length}-character text was not read (limit {limit}).",
    ),
    "order.not-finished": Message(
        "check-not-finished",
        "medval stopped checking this Bundle after its CPU budget of {budget} s per request "
        "(MEDVAL_REQUEST_BUDGET_S) and {orders} order(s) were not reached: no check ran on this order "
        "(route, form, dose, frequency, patient factors, interactions, titration). Send fewer orders per request.",
        "This order was not checked: the request used its CPU budget of {budget} s.",
    ),
    "input.unreadable": Message("input-invalid", "{reason}"),
    "input.unknown-type": Message("input-invalid", "{kind!r} is not a FHIR resource type."),
    "input.invalid-element": Message("input-invalid", "{where}: {problem}", "{where} is not valid FHIR."),
    "input.unparseable": Message("input-invalid", "The resource could not be read: {error}", "The resource could not be read."),
    # the product
    "identity.strength-unverified": Message(
        "strength-unverified",
        "The strength of {medication!r} could not be determined, so the product could not be checked against the {drug} catalogue.",
        "The strength of {medication!r} could not be determined.",
    ),
    "identity.not-in-catalog": Message(
        "formulation-not-in-catalog",
        "{drug} {form} {strength} matches no product in the catalogue{where} (known: {known}).",
        "{drug} {form} {strength} matches no product in the catalogue{where}.",
    ),
    # the route
    "route.forbidden": Message(
        "route-not-permitted",
        "{drug} must not be given by the {route} route ({written}): {reason} Permitted: {permitted}.",
        "{drug} must not be given by the {route} route ({written}).",
    ),
    "route.unlisted": Message(
        "route-not-permitted",
        "Route {written!r} is not a route the {drug} profile lists; permitted: {permitted}.",
        "Route {written!r} is not a route the {drug} profile lists.",
    ),
    "route.unrecognised": Message(
        "route-unverified",
        "Route {written!r} is not recognised and none can be inferred from the product, so the route checks did not run.",
        "Route {written!r} is not recognised, so the route checks did not run.",
    ),
    "route.missing": Message(
        "route-unverified",
        "No route is given and none can be inferred from the product, so the route checks did not run.",
        "No route is given, so the route checks did not run.",
    ),
    "route.unverifiable": Message(
        "route-unverified",
        "{drug} by the {route} route cannot be checked: {reason} The product, strength and dose checks did not run.",
        "{drug} by the {route} route cannot be checked: no product or dose to check it against.",
    ),
    "route.form-mismatch": Message(
        "route-form-mismatch", "This {form} is for {intended} use, but the order gives it by the {route} route."
    ),
    # the dose
    "dose.no-dosage": Message(
        "dose-unverified",
        "The order has no dosage instructions, so the route, dose and frequency checks did not run.",
        "The order has no dosage instructions, so the dose checks did not run.",
    ),
    "dose.above-maximum": Message("daily-dose-exceeds-maximum", "Daily dose {daily} exceeds the {maximum}/day {route} maximum ({basis})."),
    "dose.above-plausible": Message(
        "daily-dose-exceeds-maximum",
        "Daily dose {daily} exceeds the {maximum}/day {route} maximum and every reported {route} dose (up to {high}/day): "
        "probably a programming or transcription error ({basis}).",
        "Daily dose {daily} exceeds the {maximum}/day {route} maximum and every reported dose: probably an error.",
    ),
    "dose.combined-above-maximum": Message(
        "daily-dose-exceeds-maximum",
        "Daily dose {total} from this order ({own}/day) and {others} exceeds the {maximum}/day {route} maximum.",
        "Daily dose {total} from this order and {count} other active order(s) exceeds the {maximum}/day {route} maximum.",
    ),
    "dose.combined-unverified": Message(
        "dose-unverified",
        "The combined daily dose was not computed: {unread} also active by the {route} route has no readable dose, so the "
        "{maximum}/day {route} maximum was checked for this order alone ({own}/day), not for the patient.",
        "Combined daily dose not computed: {unread} has no readable dose.",
    ),
    "dose.above-age-band": Message(
        "daily-dose-exceeds-maximum",
        "Daily dose {daily} exceeds {maximum}/day, the highest {route} dose reported at ages {band} (the patient is {age}; "
        "off-label below the labelled age) ({basis}).",
        "Daily dose {daily} exceeds {maximum}/day, the highest {route} dose reported at ages {band}.",
    ),
    "duplicate.active": Message(
        "duplicate-therapy",
        "Also active in the record for {drug} by the {route} route: {others}; the daily checks use the combined {total}/day.",
        "Also active for {drug} by the {route} route: {others}.",
    ),
    "duplicate.active-unread": Message(
        "duplicate-therapy",
        "Also active in the record for {drug} by the {route} route: {others}; the combined daily dose could not be computed.",
        "Also active for {drug} by the {route} route: {others}.",
    ),
    "dose.above-usual": Message(
        "daily-dose-above-usual",
        "Daily dose {daily} is above the usual {route} range of {low} to {high}/day{qualifier} ({basis}).",
        "Daily dose {daily} is above the usual {route} range of {low} to {high}/day.",
    ),
    "dose.unit-slip": Message(
        "dose-unit-suspect",
        "The {route} dose is written in {unit} ({written}, {daily}/day); {route} doses of {drug} are in {low} to {high}/day, "
        "so {meant}/day was probably meant.",
        "The {route} dose ({written}, {daily}/day) is off by a unit factor: {meant}/day was probably meant.",
    ),
    "dose.rate-slip": Message(
        "dose-unit-suspect",
        "The {route} rate is written as {written} ({daily}/day); {route} doses of {drug} are {low} to {high}/day, so "
        "{meant}/day was probably meant ({slip}){current}.",
        "The {route} rate {written} ({daily}/day) looks like a {slip}: {meant}/day was probably meant.",
    ),
    "screening.maintenance-strength": Message(
        "screening-dose-high",
        "A {route} bolus of {single} ({written} of {strength}) is drawn from a maintenance-strength product; screening uses the "
        "{screening_strength} product and starts at {first}.",
        "A {route} bolus of {single} is drawn from a maintenance-strength product ({strength}).",
    ),
    "screening.skips-ahead": Message(
        "screening-dose-high",
        "A {single} screening bolus follows {given}: the labelled sequence is {steps}, each at least {hours} h after the last, "
        "so the next step is {expected}.",
        "A {single} screening bolus skips ahead: after {given} the next step is {expected}.",
    ),
    "screening.too-soon": Message(
        "screening-dose-high",
        "A {single} screening bolus only {since} h after the {last} bolus; the next screening dose comes at least {hours} h later.",
    ),
    "screening.beyond-last-step": Message(
        "screening-dose-high",
        "A {single} screening bolus after {given}: the sequence ends at {maximum}; a patient with no response at {maximum} is "
        "not a candidate for an implanted pump.",
        "A {single} screening bolus after {given}: the screening sequence ends at {maximum}.",
    ),
    "dose.screening-high": Message("screening-dose-high", "A single {route} bolus of {single} is above the {screening} screening dose."),
    # over time
    "start.above-screening": Message(
        "starting-dose-high",
        "First {route} infusion of {daily}/day is above the {supported}/day that {basis} ({screening}, x{factor}) supports.",
        "First {route} infusion of {daily}/day is above the {supported}/day that {basis} supports.",
    ),
    "start.above-starting-dose": Message(
        "starting-dose-high",
        "No earlier order in the record, and this first {route} order starts at {single} per dose ({daily}/day), above the "
        "starting dose of {start} {times} times a day ({start_daily}/day).",
        "First {route} order: {single} per dose ({daily}/day) is above the starting dose of {start} {times} times a day.",
    ),
    "start.above-starting-daily": Message(
        "starting-dose-high",
        "No earlier order in the record, and this first {route} order starts at {daily}/day, above the "
        "starting dose of {start} {times} times a day ({start_daily}/day).",
        "First {route} order: {daily}/day is above the starting dose of {start} {times} times a day.",
    ),
    "titration.interval": Message(
        "titration-too-fast",
        "The {route} daily dose goes up from {before} to {after} {days} after the previous order ({when}); increases should be "
        "at least {interval} days apart.",
        "The {route} daily dose goes up from {before} to {after} {days} after the previous order.",
    ),
    "titration.adjustment": Message(
        "titration-too-fast",
        "The delivered {route} dose rises from {before}/day to {after}/day ({change}) {days} after the previous record "
        "({when}){how}; {why}: {limit}.",
        "The delivered {route} dose rises from {before}/day to {after}/day ({change}) {days} after the previous record.",
    ),
    "titration.oral-step": Message(
        "titration-too-fast",
        "The {route} daily dose rises from {before} to {after} (+{step}) in {days} ({when}); the labelled titration adds at most "
        "{max_step}/day every {interval} days.",
        "The {route} daily dose rises from {before} to {after} (+{step}) in {days}.",
    ),
    "discontinuation.abrupt": Message(
        "abrupt-discontinuation",
        "This {route} order is {status} and no other {route} {drug} order continues it: {warning}",
        "This {route} order is {status} and no other {route} {drug} order continues it.",
    ),
    "discontinuation.adverse-reaction": Message(
        "abrupt-discontinuation",
        "This {route} order is {status} for a suspected adverse reaction and no other {route} {drug} order continues it: "
        "{warning} The label allows a rapid withdrawal when a serious adverse reaction justifies it; confirm that it does.",
        "This {route} order is {status} for a suspected adverse reaction; confirm a rapid withdrawal is justified.",
    ),
    "taper.too-fast": Message(
        "taper-too-fast",
        "The taper goes from {before}/day to zero in {days} ({steps}); withdraw {drug} over at least {minimum} days.",
        "The taper goes from {before}/day to zero in {days}; withdraw over at least {minimum} days.",
    ),
    # the patient
    "age.below-minimum": Message(
        "pediatric-safety-not-established",
        "The patient is {age} years old on {on}; the safety and efficacy of {drug} have not been established below {minimum} years.",
    ),
    "renal.impaired": Message("renal-impairment", "Renal impairment ({reasons}): {text}", "Renal impairment ({reasons})."),
    "hypersensitivity.active": Message(
        "hypersensitivity",
        "The patient has an active {kind} to {allergen!r}{extra}: {text}",
        "The patient has an active {kind} to {allergen!r}{extra}.",
    ),
    # checks that could not run
    "context.unavailable": Message(
        "patient-context-unavailable",
        "Patient-dependent checks did not run because {reasons}: {checks}.",
        "Patient-dependent checks did not run: {checks}.",
    ),
    "titration.undated": Message(
        "patient-context-unavailable",
        "The titration check did not run: the order has no authoredOn date, so it cannot be compared with the "
        "{count} earlier {drug} order(s) on record for the same route.",
        "The titration check did not run: the order has no authoredOn date.",
    ),
    "age.unreadable": Message(
        "patient-context-unavailable", "The age check did not run: the birth date {birth_date} gives no age on {on}."
    ),
    "renal.unit-unconvertible": Message(
        "patient-context-unavailable",
        "The kidney-function check did not run: the most recent {test}{when} is recorded in {unit!r}, which medval cannot "
        "convert to {target}.",
        "The kidney-function check did not run: the most recent {test}{when} is in a unit medval cannot convert.",
    ),
    # the written instructions (rules/sig.py) and weight-based doses (rules/weight.py)
    "sig.mismatch": Message(
        "sig-mismatch",
        "The instructions say {says}; the coded dose is {coded} (they differ in {what}; read from the instructions: {text}).",
        "The instructions say {says}; the coded dose is {coded}.",
    ),
    "sig.above-maximum": Message(
        "daily-dose-exceeds-maximum",
        "Daily dose {daily} read from the instructions ({text}) exceeds the {maximum}/day {route} maximum ({basis}); "
        "the coded dose gives {coded}/day.",
        "Daily dose {daily} read from the instructions exceeds the {maximum}/day {route} maximum.",
    ),
    "weight.unavailable": Message(
        "weight-unavailable",
        "The dose {written} is per kg of body weight, and {why}, so the dose checks did not run for this dosage.",
        "The dose {written} is per kg of body weight and no usable weight was found; the dose checks did not run.",
    ),
    "weight.calculated-differs": Message(
        "dose-unit-suspect",
        "The calculated dose {calculated} differs by {differs} from the ordered {ordered} x {weight} ({expected}), "
        "beyond rounding; the dose checks used the calculated dose.",
        "The calculated dose {calculated} differs from the ordered {ordered} x {weight} ({expected}).",
    ),
    "weight.uncheckable": Message(
        "patient-context-unavailable",
        "The calculated dose {calculated} could not be checked against the ordered {ordered}: {why}.",
    ),
}

# A value a normaliser could not read (normalise.types.Unavailable) is reported under the code it names,
# with one wording per code: the mapping from reason to code is this table, declared by the rule that uses it.
for _code in ("dose-unverified", "dose-unit-invalid", "frequency-unverified", "strength-unverified"):
    MESSAGES[f"dosage.{_code}"] = Message(_code, "{reason}, so the dose checks did not run for this dosage.")
for _code in ("dose-unverified", "frequency-unverified", "input-invalid"):
    MESSAGES[f"dropped-value.{_code}"] = Message(_code, "{reason} (at {where}).")
# Profile-written sentences ({text}), one message per code the profile schema allows in that section.
for _code in ("pregnancy", "lactation"):
    MESSAGES[f"recorded-state.{_code}"] = Message(
        _code, "The patient's record shows {found}: {text}", "The patient's record shows {found}."
    )
for _code in ("condition-not-recommended", "condition-caution"):
    MESSAGES[f"condition.{_code}"] = Message(_code, "Active condition {named} ({kinds}): {text}", "Active condition {named} ({kinds}).")
for _code in ("indication-not-supported", "off-label-indication"):
    MESSAGES[f"indication.{_code}"] = Message(
        _code, "The order's reason {reason!r} is {group}: {text}", "The order's reason {reason!r} is {group}."
    )
for _code in ("cns-depressant-interaction", "epidural-morphine-interaction"):
    MESSAGES[f"interaction.{_code}"] = Message(
        _code, "The patient also has {found} ({kinds}): {text}", "The patient also has {found} ({kinds})."
    )


def say(message_id: str, location: Location = (), source: str = "", severity: str = "", **args: Any) -> Finding:
    """The finding for one message: its rule code and text from the table, its arguments kept for the summary."""
    message = MESSAGES[message_id]
    return Finding(message.rule, message.detail.format(**args), location, source, severity, message=message_id, args=tuple(args.items()))


def message_for(finding: Finding) -> Message | None:
    return MESSAGES.get(finding.message)


def summary_of(finding: Finding) -> str | None:
    """The finding's short summary from its message's template (None for a finding with no message id)."""
    message = MESSAGES.get(finding.message)
    if message is None:
        return None
    return (message.summary or message.detail).format(**dict(finding.args))
