"""Say which patient-dependent checks did not run, and why: one issue per order, never a silent pass."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import ContextUnavailable, PatientContext, RuleContext
from ..findings import Finding
from ..messages import FAIL_SAFE_SOURCE, say
from ..normalise import NormalisedOrder
from ..profile import Profile
from .registry import emits

AGE = "age (pediatric-safety-not-established)"
RENAL = "renal function (renal-impairment)"
PREGNANCY = "pregnancy and lactation"
ALLERGY = "allergies (hypersensitivity)"
CONDITIONS = "conditions (condition-not-recommended, condition-caution)"
INTERACTIONS = "interactions with other medications"
HISTORY = "therapy history (starting dose, titration, screening sequence, tapers, other current orders of the drug)"

PATIENT_CHECKS = (AGE, RENAL, PREGNANCY, ALLERGY, CONDITIONS, INTERACTIONS, HISTORY)
RECORD_CHECKS = (AGE, RENAL, PREGNANCY, ALLERGY, CONDITIONS, INTERACTIONS)

# which checks a failed fetch of each resource type defeats ("Condition search: HTTP 500" -> Condition)
CHECKS_BY_SOURCE = {
    "Patient": (AGE,),
    "Condition": (RENAL, PREGNANCY, CONDITIONS, INTERACTIONS, HISTORY),  # conditions also decide the origin of the treated condition
    "AllergyIntolerance": (ALLERGY,),
    "Observation": (RENAL, PREGNANCY),
    "MedicationRequest": (INTERACTIONS, HISTORY),
    "MedicationStatement": (INTERACTIONS, HISTORY),
}


def _failed_checks(failures: list[str]) -> list[str]:
    checks: list[str] = []
    for failure in failures:
        kind = failure.split(" ", 1)[0].split(":", 1)[0]
        checks += CHECKS_BY_SOURCE.get(kind, PATIENT_CHECKS)
    return [c for c in PATIENT_CHECKS if c in checks]


@emits("patient-context-unavailable")
def context_unavailable(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: which patient-dependent checks could not run, and why (no patient data, a source that
    failed, no birth date): one issue per order.
    Why: a check that could not run must say so, never pass silently. Source: medval's design (fail safe).
    Example that fires: examples/context/no-patient.json
    Example that does not fire: examples/context/no-issues-with-context.json
    Fix: send the patient's record (Bundle entries, CDS Hooks prefetch) or configure a FHIR server.
    """
    severity = ""
    reasons: list[str] = []
    checks: list[str] = []
    if isinstance(context, PatientContext):
        if context.failures:
            severity = "warning"
            reasons.append("part of the patient data could not be fetched (" + "; ".join(context.failures) + ")")
            checks += _failed_checks(context.failures)
        if not context.has_record:
            if not context.failures:
                reasons.append("the patient's record was not supplied (only other orders)")
            checks += RECORD_CHECKS
        elif profile.minimum_age is not None and (context.patient is None or getattr(context.patient, "birthDate", None) is None):
            what = "Patient resource" if context.patient is None else "Patient.birthDate"
            reasons.append(f"the age check needs the patient's birth date and there is no {what}")
            checks.append(AGE)
    elif isinstance(context, ContextUnavailable):
        reasons.append(context.reason)
        severity = "warning" if context.configured else ""
        checks += PATIENT_CHECKS
    else:
        reasons.append("no patient data was supplied (no Bundle context and no FHIR server configured)")
        checks += PATIENT_CHECKS
    if not checks:
        return
    named = [c for c in PATIENT_CHECKS if c in checks]
    yield say("context.unavailable", ("subject",), FAIL_SAFE_SOURCE, severity, reasons="; and ".join(reasons), checks=", ".join(named))
