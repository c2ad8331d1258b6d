"""Findings: what a rule yields. The rule catalogue: every rule code, its floor severity and FHIR IssueType.

The README's rule table is generated from RULE_CATALOGUE (`python -m validator.findings`).
"""

from __future__ import annotations

from dataclasses import dataclass

RULE_SYSTEM = "https://medval.dev/fhir/CodeSystem/medval-rule"

SEVERITY_RANK = {"information": 0, "warning": 1, "error": 2, "fatal": 3}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    severity: str  # the floor; a profile may raise it, never lower it
    issue_type: str  # FHIR IssueType
    summary: str


_RULES = [
    RuleInfo("input-invalid", "error", "structure", "the body is not a valid FHIR resource of an accepted type"),
    RuleInfo("not-in-scope", "information", "informational", "the order is for a medication no loaded profile covers"),
    RuleInfo("medication-unidentified", "warning", "incomplete", "the medication cannot be identified"),
    RuleInfo("route-not-permitted", "error", "business-rule", "a route the profile forbids or does not list"),
    RuleInfo("route-unverified", "warning", "incomplete", "no route given or recognised, and none can be inferred from the product"),
    RuleInfo("route-form-mismatch", "error", "business-rule", "route and product form disagree"),
    RuleInfo(
        "formulation-not-in-catalog",
        "warning",
        "business-rule",
        "form and strength match no product in the profile's catalogue for that route",
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
    RuleInfo("abrupt-discontinuation", "warning", "business-rule", "the order stops therapy with no taper"),
    RuleInfo("pediatric-safety-not-established", "warning", "business-rule", "patient younger than the profile's minimum age"),
    RuleInfo("renal-impairment", "warning", "business-rule", "renal impairment in context"),
    RuleInfo("pregnancy", "warning", "business-rule", "patient is pregnant"),
    RuleInfo("lactation", "information", "informational", "patient is breastfeeding"),
    RuleInfo("hypersensitivity", "error", "business-rule", "active allergy or intolerance to the drug"),
    RuleInfo("condition-not-recommended", "warning", "business-rule", "a condition for which the drug is not recommended"),
    RuleInfo("indication-not-supported", "warning", "business-rule", "the order's reason is one the drug is not indicated for"),
    RuleInfo("off-label-indication", "information", "informational", "the reason is a known off-label use"),
    RuleInfo("condition-caution", "warning", "business-rule", "a condition listed under warnings and precautions"),
    RuleInfo("cns-depressant-interaction", "warning", "business-rule", "an active CNS depressant in context"),
    RuleInfo("epidural-morphine-interaction", "warning", "business-rule", "epidural morphine in context"),
    RuleInfo(
        "patient-context-unavailable",
        "information",
        "incomplete",
        "patient data needed by a check could not be obtained; the check did not run",
    ),
    RuleInfo("no-issues", "information", "informational", "nothing to report"),
]

RULE_CATALOGUE: dict[str, RuleInfo] = {r.code: r for r in _RULES}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    text: str  # one sentence with the numbers
    expression: str  # FHIRPath relative to the resource, e.g. "dosageInstruction[0].route"
    source: str = ""  # monograph section or other source
    severity: str = ""  # empty: the catalogue floor (raised by the profile when it says so)
    issue_type: str = ""  # empty: the catalogue's; set by the conformance layer (code-invalid, invariant, value, required...)

    def __post_init__(self) -> None:
        if self.rule not in RULE_CATALOGUE:
            raise ValueError(f"unknown rule code {self.rule!r}")


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
