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
    # made by the engine
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
    "order.no-issues": Message("no-issues", "Nothing to report: the order was checked against the {profile}."),
    "bundle.entry-not-list": Message("input-invalid", "Bundle.entry is not a list."),
    "input.unreadable": Message("input-invalid", "{reason}"),
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
}


def say(message_id: str, location: Location = (), source: str = "", severity: str = "", **args: Any) -> Finding:
    """The finding for one message: its rule code and text from the table, its arguments kept for the summary."""
    message = MESSAGES[message_id]
    return Finding(message.rule, message.detail.format(**args), location, source, severity, message=message_id, args=tuple(args.items()))


def summary_of(finding: Finding) -> str | None:
    """The finding's short summary from its message's template (None for a finding with no message id)."""
    message = MESSAGES.get(finding.message)
    if message is None:
        return None
    return (message.summary or message.detail).format(**dict(finding.args))
