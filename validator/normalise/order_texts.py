"""Every free text an order carries, read by the sig reader, each with the FHIRPath steps of the element it came from."""

from __future__ import annotations

from typing import Any

from .sig import read_sig
from .sig_types import Location, SigReading


def _get(node: Any, name: str) -> Any:
    """An element of a parsed model or of plain JSON; None when absent (never raises)."""
    if node is None:
        return None
    if isinstance(node, dict):
        return node.get(name)
    value = getattr(node, "__dict__", {}).get(name)  # pydantic models keep their fields here; no __getattr__ fallback
    return value if value is not None else None


def _list(node: Any, name: str) -> list[Any]:
    value = _get(node, name)
    return list(value) if isinstance(value, list | tuple) else []


def _texts(resource: Any) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    for i, dosage in enumerate(_list(resource, "dosageInstruction")):
        found.append((("dosageInstruction", i, "text"), _get(dosage, "text")))
        found.append((("dosageInstruction", i, "patientInstruction"), _get(dosage, "patientInstruction")))
        code = _get(_get(dosage, "timing"), "code")
        found.append((("dosageInstruction", i, "timing", "code", "text"), _get(code, "text")))
        for j, extra in enumerate(_list(dosage, "additionalInstruction")):
            found.append((("dosageInstruction", i, "additionalInstruction", j, "text"), _get(extra, "text")))
    concept = _get(resource, "medicationCodeableConcept")
    if concept is not None:
        found.append((("medicationCodeableConcept", "text"), _get(concept, "text")))
    r5 = _get(_get(resource, "medication"), "concept")  # R5 CodeableReference
    if r5 is not None:
        found.append((("medication", "concept", "text"), _get(r5, "text")))
    return [(where, text) for where, text in found if isinstance(text, str) and text.strip()]


def read_order_texts(resource: Any) -> list[SigReading]:
    """One reading per non-empty text element of a MedicationRequest (parsed model or JSON), in document order.

    Pure: no findings. The medication text is read too ("baclofen 10 mg tablet" names a strength, not a
    dose): callers tell them apart by `location`.
    """
    return [read_sig(text, where) for where, text in _texts(resource)]
