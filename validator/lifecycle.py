"""What an order's status and doNotPerform mean for the checks: one table, read by every rule through `Lifecycle`.

FHIR defines these meanings for every drug alike (MedicationRequest.status, MedicationStatement.status,
doNotPerform), so they live here, not in a profile. Each order and each history entry gets its `Lifecycle`
once, when it is normalised; no rule reads `status` or `doNotPerform` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Lifecycle:
    status: str
    judged: bool  # dose, route, form, titration and patient findings apply (it may still be given at this dose)
    active: bool  # counts as current therapy: the combined daily total, duplicates, continuing a stopped order
    stops: bool  # therapy stops or is interrupted by it: the withdrawal check applies
    history: bool  # a record of the drug having been ordered or taken (titration, screening, withdrawal)
    void: bool = False  # entered in error: nothing about it is real
    do_not_perform: bool = False  # an instruction not to give the drug
    for_adverse_reaction: bool = False  # its statusReason names a suspected allergy, intolerance or adverse reaction


# status -> (judged, active, stops, history). MedicationRequest and MedicationStatement statuses (R4 and R5).
# on-hold is judged (when it resumes it is this dose) and interrupts therapy; unknown counts as active, fail safe
# for the combined total; cancelled was withdrawn before any administration (FHIR), so it withdraws nothing.
_TABLE: dict[str, tuple[bool, bool, bool, bool]] = {
    "active": (True, True, False, True),
    "draft": (True, False, False, True),
    "on-hold": (True, False, True, True),
    "stopped": (False, False, True, True),
    "completed": (False, False, False, True),
    "ended": (False, False, False, True),  # R5: the order's course ended (a normal end, like completed)
    "cancelled": (False, False, False, False),
    "unknown": (True, True, False, True),
    # MedicationStatement only
    "intended": (True, False, False, True),
    "recorded": (True, False, False, True),
    "not-taken": (False, False, False, False),
}
_VOID = "entered-in-error"
# HL7 THO medicationrequest-status-reason: salg 'suspected allergy', sintol 'suspected intolerance'
_STATUS_REASON = "http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason"
_ADVERSE_CODES = frozenset({"salg", "sintol"})
_ADVERSE_WORDS = re.compile(r"\b(adverse|side[- ]effects?|intoleran\w*|allerg\w*|toxicity|overdos\w*)\b", re.I)


def _for_adverse_reaction(resource: Any) -> bool:
    reasons = getattr(resource, "statusReason", None)
    for concept in reasons if isinstance(reasons, list) else [reasons]:  # R4 MedicationStatement: a list
        if concept is None:
            continue
        codes = {(c.system, c.code) for c in getattr(concept, "coding", None) or []}
        if any(system == _STATUS_REASON and code in _ADVERSE_CODES for system, code in codes):
            return True
        words = [getattr(concept, "text", None), *(getattr(c, "display", None) for c in getattr(concept, "coding", None) or [])]
        if any(w and _ADVERSE_WORDS.search(w) for w in words):
            return True
    return False


def lifecycle_of(resource: Any) -> Lifecycle:
    """The lifecycle of a MedicationRequest or MedicationStatement model (an unknown status: as 'unknown')."""
    status = str(getattr(resource, "status", None) or "")
    if status == _VOID:
        return Lifecycle(status, judged=False, active=False, stops=False, history=False, void=True)
    if getattr(resource, "doNotPerform", None) is True:
        return Lifecycle(status, judged=False, active=False, stops=False, history=False, do_not_perform=True)
    judged, active, stops, history = _TABLE.get(status, _TABLE["unknown"])
    return Lifecycle(status, judged, active, stops, history, for_adverse_reaction=stops and _for_adverse_reaction(resource))
