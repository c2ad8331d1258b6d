"""parse -> normalise: a parsed MedicationRequest becomes a NormalisedOrder of small typed values."""

from __future__ import annotations

from typing import Any

from ..lifecycle import lifecycle_of
from ..profile import ProfileSet
from .dose import normalise_dosage
from .from_text import dosage_readings, fill_from_text
from .medication import Resolver, normalise_medication
from .sig_types import SigReading
from .types import DailyTotal, DoseFacts, MedicationFacts, NormalisedOrder, RouteFacts, Strength, TimingFacts, Unavailable, version_field
from .weight import per_kg_dose, with_per_kg

__all__ = [
    "DailyTotal",
    "DoseFacts",
    "MedicationFacts",
    "NormalisedOrder",
    "RouteFacts",
    "Strength",
    "TimingFacts",
    "Unavailable",
    "normalise_order",
]


def _reason_codes(resource: Any) -> list[tuple[str, str, str]]:
    reasons: list[tuple[str, str, str]] = []
    concepts = list(version_field(resource, "reasonCode") or [])
    for reason in version_field(resource, "reason") or []:  # R5 CodeableReference
        if getattr(reason, "concept", None) is not None:
            concepts.append(reason.concept)
    for concept in concepts:
        for coding in concept.coding or []:
            reasons.append((coding.system or "", coding.code or "", coding.display or concept.text or ""))
        if concept.text and not concept.coding:
            reasons.append(("", "", concept.text))
    return reasons


def daily_totals(dosages: list[DoseFacts]) -> list[DailyTotal]:
    """The largest daily amount per route: dosages sharing a sequence run together, sequences follow each other."""
    by_route: dict[str, dict[int | None, list[DoseFacts]]] = {}
    for dose in dosages:
        if dose.route.route is not None and dose.daily_mg is not None:
            by_route.setdefault(dose.route.route, {}).setdefault(dose.sequence, []).append(dose)
    totals = []
    for route, sequences in by_route.items():
        groups = [[d] for d in sequences.pop(None, [])] + list(sequences.values())
        busiest = max(groups, key=lambda g: sum(d.daily_mg or 0 for d in g))
        mg = sum(d.daily_mg or 0 for d in busiest)
        basis = " + ".join(d.daily_basis for d in busiest)
        location = busiest[0].location if len(busiest) == 1 else ("dosageInstruction",)
        totals.append(DailyTotal(route, mg, basis, location))
    return totals


def normalise_order(resource: Any, profiles: ProfileSet, resolve: Resolver, notes: list[Unavailable] | None = None) -> NormalisedOrder:
    medication = normalise_medication(resource, profiles, resolve)
    dosages: list[DoseFacts] = []
    readings: list[SigReading] = []
    if medication.profile is not None:
        profile = medication.profile
        for i, dosage in enumerate(resource.dosageInstruction or []):
            facts = normalise_dosage(dosage, i, medication, profile)
            unit = profile.dosing[facts.route.route].unit if facts.route.route in profile.dosing else "mg"
            per_kg = per_kg_dose(dosage, i, medication.strength, profile)
            if per_kg is not None:
                facts = with_per_kg(facts, per_kg, unit)
            texts = dosage_readings(dosage, i, profile)
            readings += texts
            dosages.append(fill_from_text(facts, dosage, texts, medication.strength, unit))
    subject = getattr(resource, "subject", None)
    authored = getattr(resource, "authoredOn", None)
    return NormalisedOrder(
        resource_type=resource.get_resource_type(),
        status=str(resource.status or ""),
        intent=str(resource.intent or ""),
        medication=medication,
        dosages=dosages,
        authored_on=str(authored) if authored else None,
        subject_reference=subject.reference if subject is not None else None,
        reason_codes=_reason_codes(resource),
        notes=list(notes or []),
        resource=resource,
        daily_totals=daily_totals(dosages),
        readings=readings,
        lifecycle=lifecycle_of(resource),
    )
