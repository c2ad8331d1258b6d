"""Say which patient-dependent checks did not run, and why."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import ContextUnavailable, PatientContext
from ..findings import Finding
from ..normalise import NormalisedOrder
from ..profile import Profile

PATIENT_CHECKS = (
    "age (pediatric-safety-not-established)",
    "renal function (renal-impairment)",
    "pregnancy and lactation",
    "allergies (hypersensitivity)",
    "conditions and indication",
    "CNS depressant and epidural morphine interactions",
    "starting dose and titration history",
)


def context_unavailable(order: NormalisedOrder, context: PatientContext | ContextUnavailable | None, profile: Profile) -> Iterator[Finding]:
    if isinstance(context, PatientContext) and not context.failures:
        return
    if isinstance(context, PatientContext):
        reason, severity = "part of the patient data could not be fetched (" + "; ".join(context.failures) + ")", "warning"
    elif isinstance(context, ContextUnavailable):
        reason, severity = context.reason, "warning" if context.configured else ""
    else:
        reason, severity = "no patient data was supplied (no Bundle context and no FHIR server configured)", ""
    yield Finding(
        "patient-context-unavailable",
        f"Patient-dependent checks did not run because {reason}: {', '.join(PATIENT_CHECKS)}.",
        "subject",
        "medval: fail safe, a check that could not run is reported",
        severity,
    )
