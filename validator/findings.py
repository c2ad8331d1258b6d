"""Findings: what a rule yields. The rule catalogue: every rule code, its floor severity and FHIR IssueType.

The README's rule table is generated from RULE_CATALOGUE (`python -m validator.findings`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

RULE_SYSTEM = "https://medval.dev/fhir/CodeSystem/medval-rule"

SEVERITY_RANK = {"information": 0, "warning": 1, "error": 2, "fatal": 3}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    severity: str  # the floor; a profile may raise it, never lower it
    issue_type: str  # FHIR IssueType
    summary: str
    # CDS Hooks: "card" a card at warning and above; "always" a card even as information;
    # "never" no card of its own; "if-profiled-drug" a card only when the order names a profiled drug
    card: str = "card"
    superseded_by: str = ""  # no card when this rule also fired on the order (it says what matters)


_RULES = [
    RuleInfo("input-invalid", "error", "structure", "the body is not a valid FHIR resource of an accepted type", "if-profiled-drug"),
    RuleInfo("not-in-scope", "information", "informational", "the order is for a medication no loaded profile covers", "never"),
    RuleInfo("medication-unidentified", "warning", "incomplete", "the medication cannot be identified"),
    RuleInfo("route-not-permitted", "error", "business-rule", "a route the profile forbids or does not list"),
    RuleInfo(
        "route-unverified",
        "warning",
        "incomplete",
        "no route given or recognised (and none can be inferred from the product), or a route the profile lists as unverifiable",
    ),
    RuleInfo("route-form-mismatch", "error", "business-rule", "route and product form disagree"),
    RuleInfo(
        "formulation-not-in-catalog",
        "warning",
        "business-rule",
        "form and strength match no product in the profile's catalogue for that route",
        superseded_by="route-not-permitted",  # judged against a route the order must not use
    ),
    RuleInfo("strength-unverified", "warning", "incomplete", "the product strength cannot be determined"),
    RuleInfo("dose-unit-invalid", "error", "value", "the dose unit cannot be converted to an amount of drug"),
    RuleInfo("dose-unit-suspect", "error", "value", "the dose is off by a unit factor (mg written where mcg was meant, or the reverse)"),
    RuleInfo("dose-unverified", "warning", "incomplete", "no usable dose"),
    RuleInfo("frequency-unverified", "warning", "incomplete", "no usable timing, so the daily dose cannot be computed"),
    RuleInfo(
        "daily-dose-exceeds-maximum", "error", "business-rule", "computed maximum daily dose above the profile's maximum for that route"
    ),
    RuleInfo("daily-dose-above-usual", "warning", "business-rule", "above the usual range for that route and indication"),
    RuleInfo("starting-dose-high", "warning", "business-rule", "a first order above the profile's starting dose"),
    RuleInfo("titration-too-fast", "warning", "business-rule", "a dose increase sooner, or larger, than the titration rule allows"),
    RuleInfo("screening-dose-high", "warning", "business-rule", "an intrathecal screening bolus above the profile's screening dose"),
    RuleInfo("abrupt-discontinuation", "warning", "business-rule", "the order stops or interrupts therapy and no other order continues it"),
    RuleInfo("taper-too-fast", "warning", "business-rule", "a taper reaches zero faster than the profile's minimum taper"),
    RuleInfo(
        "duplicate-therapy",
        "warning",
        "business-rule",
        "another active order for the same drug and route is in context; the daily checks use the combined total",
    ),
    RuleInfo("pediatric-safety-not-established", "warning", "business-rule", "patient younger than the profile's minimum age"),
    RuleInfo("renal-impairment", "warning", "business-rule", "renal impairment in context"),
    RuleInfo("pregnancy", "warning", "business-rule", "patient is pregnant"),
    RuleInfo("lactation", "information", "informational", "patient is breastfeeding", "always"),
    RuleInfo("hypersensitivity", "error", "business-rule", "active allergy or intolerance to the drug"),
    RuleInfo("condition-not-recommended", "warning", "business-rule", "a condition for which the drug is not recommended"),
    RuleInfo("indication-not-supported", "warning", "business-rule", "the order's reason is one the drug is not indicated for"),
    RuleInfo("off-label-indication", "information", "informational", "the reason is a known off-label use", "always"),
    RuleInfo("condition-caution", "warning", "business-rule", "a condition listed under warnings and precautions"),
    RuleInfo("cns-depressant-interaction", "warning", "business-rule", "an active CNS depressant in context"),
    RuleInfo("epidural-morphine-interaction", "warning", "business-rule", "epidural morphine in context"),
    RuleInfo(
        "patient-context-unavailable",
        "information",
        "incomplete",
        "patient data needed by a check could not be obtained; the check did not run",
        "never",  # gathered into one context card per response instead
    ),
    RuleInfo("text-not-read", "warning", "too-long", "a free text longer than medval reads; the checks that use it ran without it"),
    RuleInfo("check-not-finished", "error", "too-costly", "the request used its CPU budget before this order was checked"),
    RuleInfo(
        "order-void",
        "information",
        "informational",
        "the order is marked entered-in-error: void, so it was not clinically checked",
        "never",  # nothing to act on while ordering; an OperationOutcome still says the order was not checked
    ),
    RuleInfo("no-issues", "information", "informational", "nothing to report", "never"),
    RuleInfo(
        "sig-mismatch", "warning", "business-rule", "the order's free-text instructions disagree with its coded dose, frequency or route"
    ),
    RuleInfo(
        "weight-unavailable",
        "warning",
        "incomplete",
        "a weight-based dose (per kg) with no usable weight and no calculated dose, so the dose checks did not run",
    ),
]

RULE_CATALOGUE: dict[str, RuleInfo] = {r.code: r for r in _RULES}


# Where a finding points, as steps: ("dosageInstruction", 0, "route"). A rule names steps relative to
# its order; the engine prepends the order's own place, ("Bundle", "entry", 3, "resource") or
# ("MedicationRequest",), as jsonschema's `descend` does. Text is made only where it is written out.
Step = str | int
Location = tuple[Step, ...]


def fhirpath(location: Location) -> str:
    """("Bundle", "entry", 3, "resource", "dosageInstruction", 0) -> "Bundle.entry[3].resource.dosageInstruction[0]"."""
    path = ""
    for step in location:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else step)
    return path


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why a value could not be determined: the rule that reports it, a sentence fragment, where."""

    rule: str
    reason: str
    location: Location

    @property
    def expression(self) -> str:
        return fhirpath(self.location)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    text: str  # one sentence with the numbers
    location: Location = ()  # relative to the resource from a rule; absolute in a Report
    source: str = ""  # monograph section or other source
    severity: str = ""  # empty: the catalogue floor (raised by the profile when it says so)
    message: str = ""  # its id in validator.messages.MESSAGES, when the text was made from that table
    args: tuple[tuple[str, Any], ...] = ()  # the message's named arguments
    issue_type: str = ""  # empty: the catalogue's; set by the conformance layer (code-invalid, invariant, value, required...)

    def __post_init__(self) -> None:
        if self.rule not in RULE_CATALOGUE:
            raise ValueError(f"unknown rule code {self.rule!r}")
        if not isinstance(self.location, tuple):
            raise TypeError(f"a finding's location is a tuple of steps, not {type(self.location).__name__}")

    @property
    def expression(self) -> str:
        """The location as FHIRPath text, for an OperationOutcome or a card."""
        return fhirpath(self.location)

    def raised(self, severity: str) -> Finding:
        return replace(self, severity=severity)

    def descend(self, *steps: Step) -> Finding:
        """The same finding seen from `steps` further out (the order's place in its document)."""
        return replace(self, location=(*steps, *self.location))


def effective_severity(finding: Finding, overrides: dict[str, str] | None = None) -> str:
    """The catalogue floor, raised by the finding itself or the profile, never lowered."""
    floor = RULE_CATALOGUE[finding.rule].severity
    if finding.issue_type and finding.severity:
        # A conformance finding carries the definitions' own severity: an extensible binding or a warning
        # invariant is a warning, as the HL7 validator reports it; the input-invalid floor is for errors.
        floor = finding.severity
    candidates = [floor, finding.severity or floor, (overrides or {}).get(finding.rule, floor)]
    return max(candidates, key=SEVERITY_RANK.__getitem__)


def rule_table_markdown() -> str:
    lines = ["| rule code | least severity | FHIR IssueType | when |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.severity} | `{r.issue_type}` | {r.summary} |" for r in _RULES]
    return "\n".join(lines)


if __name__ == "__main__":
    print(rule_table_markdown())
