"""PatientContext: what is known about the patient an order is for, and where it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class PatientContext:
    source: str  # "bundle", "prefetch", "server"
    patient: Any | None = None
    conditions: list[Any] = field(default_factory=list)
    allergies: list[Any] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    medications: list[Any] = field(default_factory=list)  # other MedicationRequests / MedicationStatements
    failures: list[str] = field(default_factory=list)  # what a configured source failed to give
    # False when the source holds other orders only (a Bundle of orders, no Patient, no clinical record):
    # history checks run, record checks (allergies, conditions, renal...) do not.
    has_record: bool = True
    resolve: Callable[[str], Any] | None = None  # reference -> parsed resource (Medication, Condition...)
    derived: dict[str, Any] = field(default_factory=dict)  # profile id -> therapy.DrugFacts, built on first use


@dataclass(frozen=True, slots=True)
class ContextUnavailable:
    """No patient data: none was configured (information) or a configured source failed (warning)."""

    reason: str
    configured: bool = False


# What a rule is told about the patient: the context, why there is none although one was configured, or None.
RuleContext = PatientContext | ContextUnavailable | None
