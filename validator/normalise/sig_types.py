"""Typed values the sig reader returns: what a written instruction says, and what it could not read."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..units import format_number
from .types import TimingFacts, Unavailable

Location = tuple[str | int, ...]  # ("dosageInstruction", 0, "text"): FHIRPath steps of the text element


@dataclass(frozen=True, slots=True)
class SigAmount:
    """An amount as written: one value or a range, in a unit (mg, mcg, g, mL, or a counted unit such as tablet)."""

    low: float
    high: float
    unit: str | None  # canonical: "mg", "mcg", "g", "mL", "tablet", "capsule", "packet", "dose" ...; None when unwritten
    kind: str | None  # "mass", "volume", "count", or None when no unit is written
    per_kg: bool = False  # "5 mg/kg": a weight-based dose, to be multiplied by the patient's weight
    per_m2: bool = False  # "1000 mg/m2": a dose per square metre of body surface area

    @property
    def mg_high(self) -> float | None:
        """The largest amount in milligrams (mass units only)."""
        return self.high * _MG[self.unit] if self.kind == "mass" and self.unit in _MG else None

    @property
    def mg_low(self) -> float | None:
        return self.low * _MG[self.unit] if self.kind == "mass" and self.unit in _MG else None

    def describe(self) -> str:
        value = format_number(self.low) if self.low == self.high else f"{format_number(self.low)}-{format_number(self.high)}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{value}{unit}{'/kg' if self.per_kg else ''}{'/m2' if self.per_m2 else ''}"


_MG = {"mg": 1.0, "mcg": 0.001, "g": 1000.0}


@dataclass(frozen=True, slots=True)
class SigFrequency:
    """Administrations a day (a range when the text gives one: "q4-6h" is 4 to 6 a day)."""

    per_day_low: float
    per_day_high: float
    text: str  # "every 4-6 h", "3 times a day", "at bedtime"


@dataclass(frozen=True, slots=True)
class SigMaximum:
    """ "not to exceed 4 tablets per day": an amount, and the days it is counted over (None: per dose)."""

    amount: SigAmount
    per_days: float | None


@dataclass(frozen=True, slots=True)
class SigPart:
    """One dose and when it is given; "1 tablet in the morning and 2 at bedtime" has two parts."""

    dose: SigAmount | None
    equivalent: SigAmount | None  # the same dose in another unit: the "(40 mg)" of "2 tablets (40 mg)"
    frequency: SigFrequency | None
    daily_total: bool = False  # "60 mg/day in 3 divided doses": the dose is the day's amount
    step: int = 0  # which step of a several-step course ("2 tablets daily for 3 days, then 1 tablet daily" has 0 and 1)

    @property
    def mass(self) -> SigAmount | None:
        """The dose as a mass, whichever of the two forms gives one."""
        for amount in (self.dose, self.equivalent):
            if amount is not None and amount.kind == "mass":
                return amount
        return None


def _mass_mg(part: SigPart) -> tuple[float, float] | None:
    """A part's dose as written in mg (low, high); None for no mass, or a dose per kg or per m2."""
    mass = part.mass
    if mass is None or mass.per_kg or mass.per_m2:
        return None
    return (mass.mg_low or 0.0, mass.mg_high or 0.0)


def _summed(given: list[SigFrequency]) -> SigFrequency:
    low, high = sum(f.per_day_low for f in given), sum(f.per_day_high for f in given)
    return SigFrequency(low, high, " and ".join(f.text for f in given))


@dataclass(frozen=True, slots=True)
class SigReading:
    """Everything one text says about the dose, and what it could not read."""

    text: str
    location: Location
    parts: tuple[SigPart, ...] = ()
    as_needed: bool = False
    as_needed_reason: str | None = None
    indication: str | None = None  # "for muscle spasms" in a scheduled instruction
    route: str | None = None  # "oral", "enteral-tube", "intrathecal", or the phrase of another route
    route_text: str | None = None  # the route as written: "by mouth", "via peg tube"
    duration_days: float | None = None  # "x 5 days", "for 2 weeks"
    course_count: float | None = None  # "x 3 doses": administrations in the whole course
    maximum: SigMaximum | None = None
    one_time: bool = False
    unread: tuple[str, ...] = ()  # words and phrases the reader could not place
    unread_why: tuple[str, ...] = ()  # what kind of phrase broke off ("an interval without its time unit ...")

    @property
    def dose(self) -> SigAmount | None:
        return self.parts[0].dose if self.parts else None

    @property
    def frequency(self) -> SigFrequency | None:
        """The whole instruction's administrations a day: the parts' frequencies summed within a step (the morning
        and the bedtime dose), and of several steps the one that gives the most a day (steps follow each other)."""
        steps: dict[int, list[SigFrequency]] = {}
        for part in self.parts:
            if part.frequency is not None:
                steps.setdefault(part.step, []).append(part.frequency)
        if not steps:
            return None
        summed = [given[0] if len(given) == 1 else _summed(given) for given in steps.values()]
        if len(summed) == 1:
            return summed[0]
        most = max(summed, key=lambda f: f.per_day_high)
        return SigFrequency(most.per_day_low, most.per_day_high, " then ".join(f.text for f in summed))

    @property
    def complete(self) -> bool:
        """Dose and frequency (or one-time) both read and nothing left unread."""
        return bool(self.parts) and all(p.dose for p in self.parts) and (self.frequency or self.one_time) is not None and not self.unread

    def daily_span(self, mg_of: Callable[[SigPart], tuple[float, float] | None]) -> tuple[float, float] | None:
        """The least and most milligrams a day, given each part's dose in mg (low, high), or None when a part has no
        mg or no frequency. The parts of one step add up ("10 mg in the morning and 20 mg at bedtime"); steps follow
        each other, so the step that gives the most is the day; a one-time dose ("20 mg now, then 10 mg every 4
        hours") comes on top of it."""
        steps: dict[int, tuple[float, float]] = {}
        loading = (0.0, 0.0)
        for part in self.parts:
            mg = mg_of(part)
            if mg is None:
                return None
            if part.daily_total:
                per_day = (1.0, 1.0)
            elif part.frequency is not None:
                per_day = (part.frequency.per_day_low, part.frequency.per_day_high)
            elif self.one_time:
                loading = (loading[0] + mg[0], loading[1] + mg[1])
                continue
            else:
                return None
            low, high = steps.get(part.step, (0.0, 0.0))
            steps[part.step] = (low + mg[0] * per_day[0], high + mg[1] * per_day[1])
        busiest = max(steps.values(), key=lambda span: span[1], default=(0.0, 0.0))
        span = (busiest[0] + loading[0], busiest[1] + loading[1])
        return span if self.parts and math.isfinite(span[0]) and math.isfinite(span[1]) else None

    def daily_mg_high(self) -> float | None:
        """The most milligrams a day the text allows, when it gives every part's mass and frequency."""
        span = self.daily_span(_mass_mg)
        return span[1] if span is not None else None

    def timing_facts(self, expression: str) -> TimingFacts:
        """The frequency as the structured timing normaliser would give it, for rules that read TimingFacts."""
        frequency = self.frequency
        if frequency is not None:
            return TimingFacts(frequency.per_day_high, False, self.as_needed, frequency.text)
        if self.one_time:
            return TimingFacts(1.0, True, self.as_needed, "once")
        return TimingFacts(None, False, self.as_needed, "", Unavailable("frequency-unverified", "the text gives no frequency", expression))
