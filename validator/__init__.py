"""medval: validate FHIR MedicationRequest orders against drug knowledge profiles.

from validator import validate
outcome = validate(data)                    # a MedicationRequest, Bundle or Parameters: dict, str or bytes
outcome = validate(data, fhir_version="5.0")  # R5

The library reads no environment: a lone order's patient is looked up only through the `context_provider`
given (the HTTP service and `medval validate --patient-context` pass the one their settings configure).
"""

from __future__ import annotations

from typing import Any

from .engine import CheckOptions, ContextProvider, Report, check_document
from .outcome import build_outcome
from .profile import ProfileError, ProfileSet, default_profiles

__all__ = ["ContextProvider", "ProfileError", "ProfileSet", "Report", "check", "default_profiles", "validate"]
__version__ = "0.1.0"


def check(
    data: bytes | str | dict[str, Any],
    *,
    fhir_version: str | None = None,
    profiles: ProfileSet | None = None,
    context_provider: ContextProvider | None = None,
    expected_type: str | None = None,
    budget_s: float | None = None,
    requested_profiles: list[str] | None = None,
) -> Report:
    """The findings behind an outcome, with whether the input was rejected outright (HTTP 4xx).

    A lone order's patient is looked up through `context_provider` (none given: no lookup, and the
    patient-dependent checks say they did not run). `budget_s`: CPU seconds for a Bundle; orders not reached
    by then get `check-not-finished`.
    """
    options = CheckOptions(fhir_version, profiles, context_provider, expected_type, budget_s, tuple(requested_profiles or ()))
    return check_document(data, options)


def validate(
    data: bytes | str | dict[str, Any],
    *,
    fhir_version: str | None = None,
    profiles: ProfileSet | None = None,
    context_provider: ContextProvider | None = None,
) -> Any:
    """A fhir.resources OperationOutcome for the order(s) in `data`."""
    report = check(data, fhir_version=fhir_version, profiles=profiles, context_provider=context_provider)
    return build_outcome(report.findings, report.version)
