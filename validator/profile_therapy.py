"""Compile a profile's therapy-over-time knowledge: screening sequence, titration steps, refill limits, tapers,
per-route ages and coded observation answers.

Kept apart from profile.py so that module stays readable; profile.py calls these while compiling. Nothing
here knows any particular drug: every number comes from the profile, already in the route's mass unit
converted to mg (like every other dose in a compiled profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .profile_values import Limit, ProfileError, Range
from .units import UnitKind, mass_factor, parse_unit


@dataclass(frozen=True, slots=True)
class ScreeningSequence:
    """Bolus test doses before a pump: each step given only if the one before gave no response."""

    steps_mg: tuple[float, ...]  # in order, e.g. 50, 75, 100 mcg as mg
    steps_source: str
    min_interval_hours: Limit
    maximum_bolus: Limit | None = None  # mg; no response at this dose: no pump
    pediatric_first: Limit | None = None  # mg; a smaller first dose allowed for small children
    observation_hours: Range | None = None
    bolus_mg_per_ml: Limit | None = None  # the screening product's strength; stronger products are maintenance strength


@dataclass(frozen=True, slots=True)
class AdjustmentLimits:
    """How far one adjustment may move the daily dose, in percent of the dose before it."""

    increase: Range
    decrease: Range | None = None


@dataclass(frozen=True, slots=True)
class AgeBandLimit:
    """A daily maximum (mg) for patients aged age_from <= age < age_below years."""

    age_from: float
    age_below: float
    mg: float
    source: str

    def covers(self, age_years: float) -> bool:
        return self.age_from <= age_years < self.age_below


@dataclass(frozen=True, slots=True)
class AnswerList:
    """The coded answers of one observation (e.g. a pregnancy status), by what they mean."""

    observation: tuple[str, str]  # (system, code)
    positive: frozenset[tuple[str, str]]
    negative: frozenset[tuple[str, str]]
    unknown: frozenset[tuple[str, str]]
    source: str

    def meaning(self, system: str, code: str) -> str | None:
        """'positive', 'negative', 'unknown', or None for a code the list does not hold."""
        key = (system, code)
        for name, codes in (("positive", self.positive), ("negative", self.negative), ("unknown", self.unknown)):
            if key in codes:
                return name
        return None


def _limit(node: dict[str, Any] | None, factor: float = 1.0) -> Limit | None:

    return None if node is None else Limit(float(node["value"]) * factor, node.get("source", ""))


def _range(node: dict[str, Any] | None) -> Range | None:

    return None if node is None else Range(float(node["low"]), float(node["high"]), node.get("source", ""))


def concentration_mg_per_ml(quantity: dict[str, Any], where: str) -> float:
    """'50 ug/mL' -> 0.05: a mass-per-volume profile unit as mg/mL."""

    unit = str(quantity.get("unit", ""))
    mass, _, volume = unit.partition("/")
    volume_unit = parse_unit(volume) if volume else None
    try:
        mass_mg = mass_factor(mass)
    except ValueError:
        mass_mg = None
    if mass_mg is None or volume_unit is None or volume_unit.kind is not UnitKind.VOLUME:
        raise ProfileError(f"{where}.unit: {unit!r} is not a mass per volume")
    return float(quantity["value"]) * mass_mg / volume_unit.factor


def compile_therapy_dosing(block: dict[str, Any], unit: str, where: str) -> dict[str, Any]:
    """The RouteDosing fields for one route's therapy-over-time knowledge (keyword arguments)."""

    factor = mass_factor(unit)
    titration = block.get("titration") or {}
    regimen = titration.get("maximum_regimen")
    screening = block.get("screening")
    sequence = None
    if screening is not None:
        steps = tuple(float(v) * factor for v in screening["steps"]["values"])
        if list(steps) != sorted(steps):
            raise ProfileError(f"{where}.screening.steps: the steps must rise")
        concentration = screening.get("bolus_concentration")
        sequence = ScreeningSequence(
            steps_mg=steps,
            steps_source=screening["steps"]["source"],
            min_interval_hours=_limit(screening["min_interval_hours"]),
            maximum_bolus=_limit(screening.get("maximum_bolus"), factor),
            pediatric_first=_limit(screening.get("pediatric_first"), factor),
            observation_hours=_range(screening.get("observation_hours")),
            bolus_mg_per_ml=concentration
            and Limit(concentration_mg_per_ml(concentration, f"{where}.screening.bolus_concentration"), concentration["source"]),
        )
    implant = block.get("implant_start") or {}
    ages = []
    for i, band in enumerate(block.get("maximum_daily_by_age", [])):
        low, high = float(band.get("age_from", 0)), float(band["age_below"])
        if low >= high:
            raise ProfileError(f"{where}.maximum_daily_by_age[{i}]: age_from must be below age_below")
        ages.append(AgeBandLimit(low, high, float(band["value"]) * factor, band["source"]))
    taper = block.get("taper")
    return {
        "titration_max_step_daily": _limit(titration.get("max_step_daily"), factor),
        "maximum_single": regimen and Limit(float(regimen["single"]) * factor, regimen["source"]),
        "maximum_times_per_day": regimen and float(regimen["times_per_day"]),
        "taper_minimum_days": taper and Limit(float(taper["minimum_days"]), taper["source"]),
        "maximum_daily_by_age": tuple(ages),
        "screening": sequence,
        "implant_same_dose_if_effect_over_hours": _limit(implant.get("same_dose_if_effect_over_hours")),
        "implant_no_increase_first_hours": _limit(implant.get("no_increase_first_hours")),
        "maintenance_adjustment_percent_by_origin": {
            origin: AdjustmentLimits(_range(limits["increase"]), _range(limits.get("decrease")))
            for origin, limits in block.get("maintenance_adjustment_percent_by_origin", {}).items()
        },
    }


def compile_answer_lists(node: dict[str, Any] | None) -> dict[str, AnswerList]:
    lists: dict[str, AnswerList] = {}
    for name, entry in (node or {}).items():
        answers = entry["answers"]

        def codes(meaning: str, answers: dict[str, Any] = answers) -> frozenset[tuple[str, str]]:
            return frozenset((c["system"], c["code"]) for c in answers.get(meaning, []))

        meanings = [codes(m) for m in ("positive", "negative", "unknown")]
        if (meanings[0] & meanings[1]) or (meanings[0] & meanings[2]) or (meanings[1] & meanings[2]):
            raise ProfileError(f"context.answer_lists.{name}.answers: a code with two meanings")
        observation = entry["observation"]
        lists[name] = AnswerList(
            (observation["system"], observation["code"]), codes("positive"), codes("negative"), codes("unknown"), entry["source"]
        )
    return lists
