"""medval: validate FHIR MedicationRequest orders against drug knowledge profiles.

from validator import validate
outcome = validate(data)                    # a MedicationRequest, Bundle or Parameters: dict, str or bytes
outcome = validate(data, fhir_version="5.0")  # R5
"""

from __future__ import annotations

from typing import Any

from .context.from_server import default_context_provider
from .engine import ContextProvider, Report, check_document
from .outcome import build_outcome
from .profile import ProfileError, ProfileSet, default_profiles

__all__ = ["ProfileError", "ProfileSet", "Report", "check", "default_profiles", "validate"]
__version__ = "0.1.0"


def check(
    data: bytes | str | dict[str, Any],
    fhir_version: str | None = None,
    profiles: ProfileSet | None = None,
    context_provider: ContextProvider | None = None,
    expected_type: str | None = None,
    requested_profiles: list[str] | None = None,
) -> Report:
    """The findings behind an outcome, with whether the input was rejected outright (HTTP 4xx).

    A lone order's patient is looked up through `context_provider`, by default the FHIR server
    MEDVAL_FHIR_BASE_URL names (none when it is unset).
    """
    provider = context_provider or default_context_provider()
    return check_document(data, fhir_version, profiles, provider, expected_type, requested_profiles)


def validate(
    data: bytes | str | dict[str, Any],
    fhir_version: str | None = None,
    profiles: ProfileSet | None = None,
    context_provider: ContextProvider | None = None,
) -> Any:
    """A fhir.resources OperationOutcome for the order(s) in `data`."""
    report = check_document(data, fhir_version, profiles, context_provider or default_context_provider())
    return build_outcome(report.findings, report.version)
