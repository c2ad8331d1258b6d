"""Small typed values the normalisers return and the rules read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..findings import Location, Unavailable, fhirpath
from ..lifecycle import Lifecycle, lifecycle_of

if TYPE_CHECKING:
    from ..profile import Product, Profile


def version_field(obj: Any, name: str) -> Any:
    """getattr(obj, name, None) for an element only one FHIR version has (R4 reasonCode, R5 reason ...).

    A pydantic model answers a name it lacks through BaseModel.__getattr__ and a raised
    AttributeError, about 4 us each; its fields are all in its __dict__, so look there.
    """
    if isinstance(obj, BaseModel):
        return obj.__dict__.get(name)
    return getattr(obj, name, None)


@dataclass(frozen=True, slots=True)
class Strength:
    """Drug mass per unit of presentation (tablet) or per volume (mL)."""

    mg: float
    per_amount: float
    per_volume: bool  # True: per mL of liquid; False: per counted unit
    text: str  # as read, e.g. "40 mg/20 mL"

    @property
    def mg_per_unit(self) -> float | None:
        return None if self.per_volume else self.mg / self.per_amount

    @property
    def mg_per_ml(self) -> float | None:
        return self.mg / self.per_amount if self.per_volume else None


@dataclass(frozen=True, slots=True)
class MedicationFacts:
    profile: Profile | None
    described: bool  # the order names some medication (code or text), even if no profile covers it
    description: str  # what the order calls it, for messages
    form: str | None  # profile form id
    strength: Strength | None
    product: Product | None  # catalogue product identified by code
    location: Location
    problem: Unavailable | None = None  # why the strength could not be read

    @property
    def expression(self) -> str:
        return fhirpath(self.location)


@dataclass(frozen=True, slots=True)
class RouteFacts:
    route: str | None  # profile route id
    written: str  # what the order says, for messages ("" when absent)
    inferred: bool  # taken from the product form, not written
    unlisted: bool  # a real route code the profile does not list
    location: Location

    @property
    def expression(self) -> str:
        return fhirpath(self.location)


@dataclass(frozen=True, slots=True)
class TimingFacts:
    per_day: float | None  # administrations a day, at the maximum the timing allows
    one_off: bool
    as_needed: bool
    description: str  # "4/day", "every 4 h"
    problem: Unavailable | None = None


@dataclass(frozen=True, slots=True)
class DoseFacts:
    index: int
    location: Location  # ("dosageInstruction", 0)
    route: RouteFacts
    timing: TimingFacts
    single_mg: float | None  # largest single administration, in mg
    daily_mg: float | None  # largest amount in a day, in mg
    written: str  # the dose as written, "30 mg", "2 tablet"
    written_unit: str  # the unit as written
    daily_basis: str  # how the daily dose was computed, "30 mg x 4/day"
    is_rate: bool
    sequence: int | None
    problems: tuple[Unavailable, ...] = ()
    times_a_day: float | None = None  # the schedule the daily dose is single dose x this; None: by rate, once or capped
    read_from_text: str = ""  # the instruction the dose or timing was read from (coded ones missing); location is its element
    per_kg: Any = None  # normalise.weight.PerKg: a dose per kg of body weight (and the calculated dose sent beside it)
    weight_kg: float | None = None  # the patient's weight the per-kg dose was turned into an amount with
    rate_written: str = ""  # a rate as written, "400 ug/h" (rateQuantity, rateRatio, or a rate in doseQuantity)
    rate_unit: str = ""  # its unit as one string, "ug/h"

    @property
    def expression(self) -> str:
        return fhirpath(self.location)


@dataclass(frozen=True, slots=True)
class DailyTotal:
    """The largest amount given in a day by one route: dosages sharing a sequence run together, sequences follow each other."""

    route: str
    mg: float
    basis: str  # how it was computed, "30 mg x 4/day + ..."
    location: Location  # the dosage it comes from, or ("dosageInstruction",) when several add up


@dataclass(slots=True)
class NormalisedOrder:
    resource_type: str
    status: str
    intent: str
    medication: MedicationFacts
    dosages: list[DoseFacts]
    authored_on: str | None
    subject_reference: str | None
    reason_codes: list[tuple[str, str, str]] = field(default_factory=list)  # (system, code, display/text)
    notes: list[Unavailable] = field(default_factory=list)  # values dropped while parsing (NaN, Infinity)
    resource: Any = None  # the parsed model, for rules that need history (ids, dates)
    daily_totals: list[DailyTotal] = field(default_factory=list)  # per route; three rules read them
    readings: list[Any] = field(default_factory=list)  # SigReadings of each dosage's text and patientInstruction
    lifecycle: Lifecycle = field(default_factory=lambda: lifecycle_of(None))  # what its status and doNotPerform mean
