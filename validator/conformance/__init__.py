"""FHIR conformance: is the raw JSON valid FHIR by the official core definitions (and, on request, a profile)?

Sits between parse and normalise. `check(raw, version)` returns typed structural issues (location tuples,
severity, IssueType, message) and the locations whose values are meaningless; `trusted_copy` removes those
so the clinical layer treats them as absent. It knows nothing of the engine, findings or drugs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .definitions import definitions
from .profiles import check_profile, known_structure_definitions
from .walker import Location, StructuralIssue, walk

__all__ = [
    "Conformance",
    "Location",
    "StructuralIssue",
    "check",
    "check_profile",
    "fhirpath",
    "known_structure_definitions",
    "trusted_copy",
]


@dataclass(slots=True)
class Conformance:
    issues: list[StructuralIssue] = field(default_factory=list)
    untrusted: set[Location] = field(default_factory=set)
    unchecked: list[Location] = field(default_factory=list)  # contained/entry resources of types with no definition here

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def check(resource: dict[str, Any], version: str, envelope_only: bool = False) -> Conformance:
    """Structural issues of one resource (MedicationRequest, Medication, Bundle or Parameters) by the core definitions.

    `envelope_only`: for a Parameters, check the parameters but not the resources they carry.
    """
    run = walk(resource, version, envelope_only)
    return Conformance(run.issues, run.untrusted, run.unchecked)


def trusted_copy(resource: dict[str, Any], untrusted: set[Location], version: str) -> dict[str, Any]:
    """The resource without its untrusted values (the caller's dict is never changed).

    A value the walker rejected is removed, so the clinical layer sees it as absent ("dose-unverified",
    not a dose read from the string "5"). Where the element is mandatory (MedicationRequest.status and
    intent) a removed code would make the whole order unreadable, so it becomes the value set's own
    "unknown" when there is one, and otherwise stays for the clinical layer, which does not know it either.
    """
    if not untrusted:
        return resource
    cleaned = copy.deepcopy(resource)
    untrusted = {_widened(location) for location in untrusted}
    # deepest first, and list items from the end, so earlier removals do not shift later locations
    for location in sorted(untrusted, key=lambda loc: (len(loc), loc[-1] if loc and isinstance(loc[-1], int) else -1), reverse=True):
        _remove(cleaned, location, version)
    return cleaned


# A bad part of these makes the whole meaningless: "frequency": "three" removed alone would leave a
# repeat read as once per period, a dose without its unit a bare number. So the whole goes.
_WHOLE = frozenset(
    {
        "repeat",
        "doseQuantity",
        "doseRange",
        "rateQuantity",
        "rateRatio",
        "rateRange",
        "maxDosePerPeriod",
        "maxDosePerAdministration",
        "strength",
    }
)


def _widened(location: Location) -> Location:
    for i, step in enumerate(location):
        if step in _WHOLE:
            return location[: i + 1]
    return location


def _remove(node: Any, location: Location, version: str) -> None:
    if not location:
        return
    parent = node
    for step in location[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return
    last = location[-1]
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)
    elif isinstance(parent, dict) and last in parent:
        if len(location) == 1 and last in ("status", "intent") and _mandatory_code(parent, last, version):
            return
        del parent[last]


def _mandatory_code(resource: dict[str, Any], name: str, version: str) -> bool:
    """Replace a mandatory bad code by "unknown" when its value set has it; True when the value must stay as it is."""
    info = definitions(version).types.get(resource.get("resourceType", ""))
    element = info.children.get("", {}).get(name) if info else None
    if element is None or element.min < 1:
        return False
    codes = element.binding.codes if element.binding else None
    if codes and "unknown" in codes:
        resource[name] = "unknown"
    return True


def fhirpath(root: str, location: Location) -> str:
    """("dosageInstruction", 0, "route") under "MedicationRequest" -> MedicationRequest.dosageInstruction[0].route"""
    text = root
    for step in location:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text
