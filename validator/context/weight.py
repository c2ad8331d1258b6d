"""The patient's body weight for a weight-based dose: the most recent usable weight Observation, in kg, or why none.

The Observation codes are the profile's `body-weight` context group (LOINC 29463-7 Body weight, the code the FHIR
Body Weight profile fixes). A weight older than WEIGHT_MAX_AGE_DAYS before the order, or recorded after it, is not
used: a dose per kg needs the weight the prescriber is dosing on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..normalise import NormalisedOrder, daily_totals
from ..normalise.weight import weighed
from ..units import finite_number
from . import ContextUnavailable, PatientContext
from . import facts as F

WEIGHT_GROUP = "body-weight"
# medval's choice, not a drug fact: weight-based doses are calculated on a current weight; a month covers a weight
# charted at the last visit or admission, and children's weights change faster than that matters beyond it.
WEIGHT_MAX_AGE_DAYS = 30
_LATE = timedelta(days=1)  # a weight charted later the same day as the order still counts
# UCUM codes (and the spellings EHRs send) for body weight, to kilograms
_TO_KG = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "lb": 0.45359237, "lbs": 0.45359237, "[oz_av]": 0.028349523125}


@dataclass(frozen=True, slots=True)
class Weight:
    kg: float
    when: str  # the date it was charted, for messages ("" when undated)


@dataclass(frozen=True, slots=True)
class NoWeight:
    why: str  # "no weight is recorded for the patient"


def patient_weight(context: Any, profile: Any, on: datetime) -> Weight | NoWeight:
    """The most recent usable body weight up to `on`, within the window; or why there is none."""
    if context is None:
        return NoWeight("no patient data was supplied to read the weight from")
    if isinstance(context, ContextUnavailable):
        return NoWeight(f"the patient's data could not be read ({context.reason})")
    group = profile.context.groups.get(WEIGHT_GROUP)
    if group is None or not isinstance(context, PatientContext):
        return NoWeight(f"the {profile.title} profile names no body-weight observation codes")
    latest: tuple[datetime, Any] | None = None
    for observation in context.observations:
        if not F.observation_usable(observation) or F.first_match([getattr(observation, "code", None)], (group,), "never") is None:
            continue
        when = F.observation_time(observation)
        if when is None or when > on + _LATE:
            continue
        if latest is None or when > latest[0]:
            latest = (when, observation)
    if latest is None:
        return NoWeight("no dated body weight up to the order is in the patient's record")
    when, observation = latest
    if on - when > timedelta(days=WEIGHT_MAX_AGE_DAYS):
        return NoWeight(f"the most recent weight ({when.date().isoformat()}) is older than {WEIGHT_MAX_AGE_DAYS} days")
    quantity = getattr(observation, "valueQuantity", None)
    value = finite_number(getattr(quantity, "value", None)) if quantity is not None else None
    unit = (getattr(quantity, "code", None) or getattr(quantity, "unit", None) or "") if quantity is not None else ""
    factor = _TO_KG.get(unit) or _TO_KG.get(unit.lower())
    if value is None or value <= 0 or factor is None or not math.isfinite(value * factor):
        return NoWeight(f"the most recent weight ({when.date().isoformat()}) has no value in kg, g or [lb_av]")
    return Weight(value * factor, when.date().isoformat())


def weigh_order(order: NormalisedOrder, context: Any) -> NormalisedOrder:
    """The order with each per-kg dose that has no calculated amount turned into one for the patient's weight.

    An order with no such dose is returned as it is (no weight is looked up). Without a usable weight the dose
    stays without an amount, and rules/weight.py reports weight-unavailable."""
    profile = order.medication.profile
    waiting = [d for d in order.dosages if d.per_kg is not None and d.per_kg.calculated_mg is None]
    if profile is None or not waiting:
        return order
    weight = patient_weight(context, profile, F.order_date(order))
    if isinstance(weight, NoWeight):
        return order
    dosages = []
    for dose in order.dosages:
        unit = profile.dosing[dose.route.route].unit if dose.route.route in profile.dosing else "mg"
        dosages.append(weighed(dose, weight.kg, weight.when, unit) if dose in waiting else dose)
    return replace(order, dosages=dosages, daily_totals=daily_totals(dosages))
