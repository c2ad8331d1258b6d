"""Which drug, which form, which strength: from a code, a contained or bundled Medication, or plain text."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ..profile import Profile, ProfileSet
from ..units import UnitKind, concentration_mg_per_ml, parse_unit
from .types import Location, MedicationFacts, Strength, Unavailable, version_field

# "10 mg", "40 mg/20 mL", "2,000 mcg per mL", "0.05 mg/mL", "5 mg in 5 ml". A number starts only where no digit,
# comma or point comes before it, and its parts are bounded, so a search is linear in the text (a run of
# thousands of digits once made it quadratic).
_STRENGTH = re.compile(
    r"(?<![\d,.])(?P<num>\d{1,9}(?:,\d{3}){0,3}(?:\.\d{1,6})?)\s*(?P<unit>mg|mcg|µg|μg|ug|micrograms?|milligrams?|g)\b"
    r"(?:\s*(?:/|per|in)\s*(?P<den>\d{1,6}(?:\.\d{1,6})?)?\s*(?P<den_unit>ml|millilit(?:er|re)s?|l)\b)?",
    re.I,
)
_UNIT_WORDS = {"micrograms": "ug", "microgram": "ug", "milligrams": "mg", "milligram": "mg"}

Resolver = Callable[[str], Any]  # reference -> parsed Medication model, or None


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def concept_texts(concept: Any) -> list[str]:
    """A CodeableConcept's text and its codings' displays, in that order."""
    if concept is None:
        return []
    return [t for t in [getattr(concept, "text", None)] + [c.display for c in _codings(concept)] if t]


def strength_from_text(text: str) -> Strength | None:
    """The first strength written in free text, or None."""
    match = _STRENGTH.search(text)
    if not match:
        return None
    unit = _UNIT_WORDS.get(match["unit"].lower(), match["unit"])
    mass = parse_unit(unit)
    if mass is None:
        return None
    mg = float(match["num"].replace(",", "")) * mass.factor
    if match["den_unit"]:
        volume = parse_unit(match["den_unit"])
        per = float(match["den"] or 1) * (volume.factor if volume else 1.0)
        return Strength(mg, per, True, match.group(0)) if per > 0 and mg > 0 else None
    return Strength(mg, 1.0, False, match.group(0)) if mg > 0 else None


def strength_from_ratio(ratio: Any, count_units: frozenset[str]) -> Strength | None:
    numerator = getattr(ratio, "numerator", None)
    denominator = getattr(ratio, "denominator", None)
    if numerator is None or numerator.value is None:
        return None
    num_unit = parse_unit(numerator.code or numerator.unit, count_units)
    if num_unit is None or num_unit.kind is not UnitKind.MASS or num_unit.per_kg:
        return None
    mg = float(numerator.value) * num_unit.factor
    den_value = float(denominator.value) if denominator is not None and denominator.value is not None else 1.0
    den_unit = parse_unit((denominator.code or denominator.unit) if denominator is not None else None, count_units)
    if mg <= 0 or den_value <= 0:
        return None
    text = f"{numerator.value} {numerator.unit or numerator.code}"
    if den_unit is not None and den_unit.kind is UnitKind.VOLUME:
        return Strength(mg, den_value * den_unit.factor, True, f"{text}/{denominator.value} {denominator.unit or denominator.code}")
    if den_unit is None or den_unit.kind is UnitKind.COUNT:
        return Strength(mg, den_value, False, text)
    return None


def strength_from_quantity(quantity: Any, count_units: frozenset[str]) -> Strength | None:
    """R5 ingredient.strengthQuantity: "10 mg" (per unit of presentation) or "2 mg/mL" (a concentration)."""
    value = getattr(quantity, "value", None)
    unit = getattr(quantity, "code", None) or getattr(quantity, "unit", None)
    if value is None or not unit or not float(value) > 0:
        return None
    mass = parse_unit(unit, count_units)
    if mass is not None and mass.kind is UnitKind.MASS and not mass.per_kg:
        mg = float(value) * mass.factor
        return Strength(mg, 1.0, False, f"{value} {unit}") if math.isfinite(mg) else None
    per_ml = concentration_mg_per_ml(unit)
    if per_ml is None:
        return None
    mg = float(value) * per_ml
    return Strength(mg, 1.0, True, f"{value} {unit}") if math.isfinite(mg) and mg > 0 else None


def _ingredient_strength(medication: Any, profile: Profile) -> Strength | None:
    for ingredient in getattr(medication, "ingredient", None) or []:
        item = version_field(ingredient, "item")  # R5 CodeableReference
        concept = version_field(ingredient, "itemCodeableConcept") or getattr(item, "concept", None)
        if concept is not None and not names_drug(concept, profile):
            continue
        ratio = version_field(ingredient, "strength") or version_field(ingredient, "strengthRatio")
        strength = strength_from_ratio(ratio, profile.count_units) if ratio is not None else None
        if strength is None and (quantity := version_field(ingredient, "strengthQuantity")) is not None:
            strength = strength_from_quantity(quantity, profile.count_units)
        if strength is None and (coded := version_field(ingredient, "strengthCodeableConcept")) is not None:
            strength = next((s for t in concept_texts(coded) if (s := strength_from_text(t))), None)
        if strength is not None:
            return strength
    return None


def names_drug(concept: Any, profile: Profile) -> bool:
    """The concept names the profile's drug: one of its codes, or its name or a brand in the text."""
    if any((c.system or "", c.code or "") in profile.drug_codes for c in _codings(concept)):
        return True
    return any(profile.name_pattern.search(t) for t in concept_texts(concept))


def _form_of(concepts: list[Any], texts: list[str], profile: Profile) -> str | None:
    for concept in concepts:
        for coding in _codings(concept):
            form = profile.form_by_code.get((coding.system or "", coding.code or ""))
            if form:
                return form
    lowered = " ".join(texts).lower()
    for pattern, form in profile.form_text:
        if pattern.search(lowered):
            return form
    return None


def normalise_medication(resource: Any, profiles: ProfileSet, resolve: Resolver) -> MedicationFacts:
    """Identify the drug, form and strength an order is for, whatever shape the order names it in."""
    concept = version_field(resource, "medicationCodeableConcept")
    reference = version_field(resource, "medicationReference")
    expression: Location = ("medicationCodeableConcept",) if concept is not None else ("medicationReference",)
    r5 = version_field(resource, "medication")
    if r5 is not None:  # R5 CodeableReference
        concept, reference = r5.concept, r5.reference
        expression = ("medication", "concept") if concept is not None else ("medication", "reference")

    medication = resolve(reference.reference) if reference is not None and reference.reference else None
    med_concepts = [concept]
    form_concepts: list[Any] = []
    texts = concept_texts(concept)
    if medication is not None:
        med_concepts.append(getattr(medication, "code", None))
        dose_form = getattr(medication, "form", None) or getattr(medication, "doseForm", None)  # R4 form, R5 doseForm
        form_concepts.append(dose_form)
        texts += concept_texts(getattr(medication, "code", None)) + concept_texts(dose_form)
        for ingredient in getattr(medication, "ingredient", None) or []:
            item = version_field(ingredient, "item")
            med_concepts.append(version_field(ingredient, "itemCodeableConcept") or getattr(item, "concept", None))
    if reference is not None and reference.display:
        texts.append(reference.display)

    codings = [c for mc in med_concepts for c in _codings(mc)]
    profile = next((p for c in codings if (p := profiles.by_code(c.system, c.code))), None)
    if profile is None:
        profile = next((p for t in texts if (p := profiles.by_text(t))), None)
    description = next(iter(texts), "") or next((c.display or c.code for c in codings if c.display or c.code), "")
    described = bool(texts or codings)
    if profile is None:
        return MedicationFacts(None, described, description, None, None, None, expression)

    product = next((p for c in codings if (p := profile.product_by_code.get((c.system or "", c.code or "")))), None)
    form = product.form if product else _form_of(form_concepts + med_concepts, texts, profile)
    strength: Strength | None = None
    if product is not None:
        strength = Strength(product.mg_per_unit or product.mg_per_ml or 0.0, 1.0, product.mg_per_ml is not None, product.display)
    if strength is None and medication is not None:
        strength = _ingredient_strength(medication, profile)
    if strength is None:
        strength = next((s for t in texts if (s := strength_from_text(t))), None)
    if strength is not None and not strength.per_volume and form and profile.forms[form].presentation == "liquid":
        # "baclofen 10 mg oral solution" names an amount, not a concentration
        strength = None
    problem = None
    if strength is None:
        problem = Unavailable("strength-unverified", "the product strength is not stated in a form medval can read", expression)
    return MedicationFacts(profile, True, description or profile.drug_display, form, strength, product, expression, problem)
