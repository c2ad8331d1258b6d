"""A dosage's free text, read by the sig reader, as the numbers the rules compare: mg a dose, times a day, mg a day.

Two uses, both pure: `fill_from_text` gives a dosage whose coded dose or timing is missing the dose and timing its
text states (marked as read from the text, located at the text element), and `TextDose` is what a rule compares
with the coded dose (sig-mismatch). Only a complete reading (`SigReading.complete`: dose and frequency read,
nothing left unread) gives numbers: an incomplete one may hold half a sentence's numbers, and nothing read from
text may ever silence a check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..units import format_mass, format_number
from .sig import read_sig
from .sig_types import SigAmount, SigReading
from .types import DoseFacts, Strength, TimingFacts

if TYPE_CHECKING:
    from ..profile import Profile

# The dosage's own texts that state a dose, most specific first (timing.code.text is read by the timing normaliser).
DOSE_TEXTS = ("text", "patientInstruction")
READ_FROM = "read from the instructions"


@dataclass(frozen=True, slots=True)
class TextDose:
    """What one complete reading says, in mg: a dose (range), administrations a day (range), the day's amount (range)."""

    reading: SigReading
    single_mg: tuple[float, float] | None  # one administration; None for a several-part or per-day text
    per_day: tuple[float, float] | None  # administrations a day; None for a one-time or per-day text
    daily_mg: tuple[float, float]  # the day's amount, after the text's own maximum ("max 40 mg/day")
    says: str  # "3 tablet (60 mg) 3 times a day", for messages

    @property
    def quoted(self) -> str:
        return f"{READ_FROM}: {self.reading.text.strip()!r}"


def profile_words(profile: Profile) -> frozenset[str]:
    """The drug's names and brands, word by word: harmless in an instruction ("baclofen 10 mg tid")."""
    return _words(tuple(profile.raw.get("drug", {}).get("names", []) + profile.raw.get("drug", {}).get("brands", [])))


@lru_cache(maxsize=16)
def _words(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(word for name in names for word in name.lower().split())


def dosage_readings(dosage: Any, index: int, profile: Profile) -> list[SigReading]:
    """The readings of dosageInstruction[index]'s dose texts (text, then patientInstruction), drug names harmless."""
    names = profile_words(profile)
    readings = []
    for name in DOSE_TEXTS:
        text = getattr(dosage, name, None)
        if isinstance(text, str) and text.strip():
            readings.append(read_sig(text, ("dosageInstruction", index, name), names))
    return readings


def _amount_mg(amount: SigAmount, strength: Strength | None) -> tuple[float, float] | None:
    """An amount in mg: a mass as it is, a count by the strength per unit, a volume by the concentration."""
    if amount.per_kg or amount.per_m2:
        return None
    if amount.kind == "mass" and amount.mg_high is not None and amount.mg_low is not None:
        return amount.mg_low, amount.mg_high
    if amount.kind == "count" and strength is not None and strength.mg_per_unit is not None:
        return amount.low * strength.mg_per_unit, amount.high * strength.mg_per_unit
    if amount.kind == "volume" and amount.unit == "mL" and strength is not None and strength.mg_per_ml is not None:
        return amount.low * strength.mg_per_ml, amount.high * strength.mg_per_ml
    return None


def _part_mg(part: Any, strength: Strength | None) -> tuple[float, float] | None:
    """A part's dose in mg: the mass written beside it ("2 tablets (20 mg)") first, else its own amount."""
    for amount in (part.equivalent, part.dose):
        if amount is not None and amount.kind == "mass":
            return _amount_mg(amount, strength)
    return _amount_mg(part.dose, strength) if part.dose is not None else None


def _cap_mg(reading: SigReading, strength: Strength | None) -> float | None:
    """The text's own daily maximum in mg ("max 40 mg/day"); a cap over several days may all fall on one."""
    maximum = reading.maximum
    if maximum is None or maximum.per_days is None or maximum.per_days <= 0:
        return None
    mg = _amount_mg(maximum.amount, strength)
    return mg[1] * max(1.0, 1.0 / maximum.per_days) if mg is not None else None


def text_dose(reading: SigReading, strength: Strength | None) -> TextDose | None:
    """The numbers of a complete reading, or None (incomplete, per kg or per m2, or an amount that is no mass)."""
    if not reading.complete:
        return None
    # the parts of a step add up; of several steps, the busiest day counts (SigReading.daily_span)
    span = reading.daily_span(lambda part: _part_mg(part, strength))
    if span is None:
        return None
    low, high = span
    cap = _cap_mg(reading, strength)
    if cap is not None:
        low, high = min(low, cap), min(high, cap)
    if not (math.isfinite(low) and math.isfinite(high)) or high <= 0:
        return None
    plain = len(reading.parts) == 1 and not reading.parts[0].daily_total
    frequency = reading.frequency if plain else None
    return TextDose(
        reading,
        _part_mg(reading.parts[0], strength) if plain else None,
        (frequency.per_day_low, frequency.per_day_high) if frequency is not None else None,
        (low, high),
        describe(reading),
    )


def _span(values: tuple[float, float], unit: str) -> str:
    low, high = values
    return format_mass(high, unit) if math.isclose(low, high) else f"{format_mass(low, unit)}-{format_mass(high, unit)}"


def _amount(amount: SigAmount) -> str:
    """ "3 tablets", "1 tablet", "10 mg/kg"."""
    said = amount.describe()
    counted = amount.kind == "count" and amount.unit and not said.endswith("s") and amount.high != 1
    return f"{said}s" if counted and not (amount.per_kg or amount.per_m2) else said


def describe(reading: SigReading) -> str:
    """ "3 tablets (60 mg) 3 times a day": each part's dose, its equivalent and its frequency."""
    said = []
    for part in reading.parts:
        dose = _amount(part.dose) if part.dose is not None else ""
        if part.equivalent is not None:
            dose += f" ({_amount(part.equivalent)})"
        frequency = part.frequency.text if part.frequency is not None else ("once" if reading.one_time else "")
        said.append(" ".join(s for s in (dose, frequency) if s))
    route = f", {reading.route.replace('-', ' ')}" if reading.route else ""  # "oral", "enteral tube"
    return " and ".join(said) + (" as needed" if reading.as_needed else "") + route


def _timing_missing(dose: DoseFacts) -> bool:
    return dose.timing.per_day is None and dose.timing.problem is not None and not dose.is_rate


def fill_from_text(dose: DoseFacts, dosage: Any, readings: list[SigReading], strength: Strength | None, unit: str) -> DoseFacts:
    """The dosage with the dose and timing its text states, when the coded ones are missing (`unit`: the route's).

    Marked as read from the text: its location becomes the text element's, its basis says so. A dosage with no
    complete reading, or with a dose that is there but unreadable (a wrong unit), is returned unchanged.
    """
    dose_missing = not _has_dose(dosage)
    timing_missing = _timing_missing(dose)
    if not (dose_missing or timing_missing):
        return dose
    for reading in readings:
        said = text_dose(reading, strength)
        if said is not None:
            return _filled(dose, said, dose_missing, timing_missing, unit)
    if not readings:
        return dose
    # say which text was tried, so the reader of the warning knows why it did not count
    tried = f"the instructions {readings[0].text.strip()!r} give no complete dose and frequency medval can read"
    per_weight = next((r for r in readings if r.complete and any(p.dose and (p.dose.per_kg or p.dose.per_m2) for p in r.parts)), None)
    if per_weight is not None:  # read, but per kg or per m2: medval does not weigh a written dose (only a coded one)
        tried = f"the instructions {per_weight.text.strip()!r} give a dose per kg or per m2, which medval reads only when coded"
    problems = tuple(
        replace(p, reason=f"{p.reason}, and {tried}") if p.rule in ("dose-unverified", "frequency-unverified") else p for p in dose.problems
    )
    return replace(dose, problems=problems)


def _has_dose(dosage: Any) -> bool:
    for entry in getattr(dosage, "doseAndRate", None) or []:
        if any(getattr(entry, name, None) is not None for name in ("doseQuantity", "doseRange", "rateQuantity", "rateRange", "rateRatio")):
            return True
    return False


def _filled(dose: DoseFacts, said: TextDose, dose_missing: bool, timing_missing: bool, unit: str) -> DoseFacts:
    reading = said.reading
    timing = reading.timing_facts(dose.expression) if timing_missing else dose.timing
    timing = TimingFacts(timing.per_day, timing.one_off, timing.as_needed or dose.timing.as_needed, timing.description)
    single = said.single_mg[1] if said.single_mg is not None else None
    candidates = [(said.daily_mg[1], f"{said.says}, {_span(said.daily_mg, unit)}/day")]
    if dose_missing and single is not None and dose.timing.per_day is not None:  # the coded timing with the text's dose
        candidates.append((single * dose.timing.per_day, f"{format_mass(single, unit)} x {format_number(dose.timing.per_day)}/day"))
    if not dose_missing and dose.single_mg is not None and said.per_day is not None:  # the coded dose at the text's frequency
        single = dose.single_mg
        candidates.append((single * said.per_day[1], f"{format_mass(single, unit)} x {format_number(said.per_day[1])}/day"))
        if said.single_mg is None or not math.isclose(single, said.single_mg[1], rel_tol=0.02):
            candidates = candidates[1:]  # the text's own dose differs: the coded one decides (sig-mismatch says the rest)
    daily, basis = max(candidates, key=lambda c: c[0])
    filled = {"dose-unverified"} if dose_missing else set()
    filled |= {"frequency-unverified"} if timing_missing else set()
    return replace(
        dose,
        location=reading.location,
        timing=timing,
        single_mg=single if dose_missing else dose.single_mg,
        daily_mg=daily,
        written=said.says if dose_missing else dose.written,
        written_unit=(reading.dose.unit or "") if dose_missing and reading.dose is not None else dose.written_unit,
        daily_basis=f"{basis}, {said.quoted}",
        times_a_day=None,
        problems=tuple(p for p in dose.problems if p.rule not in filled),
        read_from_text=reading.text,
    )
