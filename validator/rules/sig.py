"""The written instructions against the coded dose: a text that says otherwise is a sig-mismatch; a text that would
exceed the daily maximum says so too. Findings computed from text say so (`mark_read_from_text`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

from ..context import RuleContext
from ..findings import Finding
from ..messages import say
from ..normalise import DoseFacts, NormalisedOrder
from ..normalise.from_text import READ_FROM, TextDose, text_dose
from ..profile import Profile
from ..units import format_mass, format_number
from .registry import emits

_TOLERANCE = 0.02  # "0.5 tablet" of 10 mg is 5 mg; rounding in a written equivalent is no disagreement
_SOURCE = "medval: the order's free-text instructions read by the sig reader (issue 12)"


def _outside(value: float, span: tuple[float, float]) -> bool:
    """The coded value lies outside what the text allows ("1-2 tablets" allows 1 and 2)."""
    low, high = span
    return value < low * (1 - _TOLERANCE) or value > high * (1 + _TOLERANCE)


def _span(span: tuple[float, float], unit: str) -> str:
    low, high = span
    return format_mass(high, unit) if math.isclose(low, high) else f"{format_mass(low, unit)}-{format_mass(high, unit)}"


def _times(per_day: float) -> str:
    if math.isclose(per_day, 1):
        return "once a day"
    if math.isclose(per_day, 2):
        return "twice a day"
    if per_day.is_integer() or per_day > 1:
        return f"{format_number(round(per_day, 2))} times a day"
    return f"every {format_number(round(1 / per_day, 2))} days"


def _coded(dose: DoseFacts, profile: Profile, unit: str) -> str:
    """The coded dosage as a sentence part: "2 tablets (20 mg) 3 times a day by mouth", "400 mcg/day by rate"."""
    if dose.is_rate and dose.daily_mg is not None:
        said = f"{format_mass(dose.daily_mg, unit)}/day by rate"
    else:
        mg = format_mass(dose.single_mg, unit) if dose.single_mg is not None else ""
        said = dose.written if dose.written else mg
        if mg and dose.written and mg.replace(" ", "") != dose.written.replace(" ", "").replace(".0", ""):
            said += f" ({mg})"
        timing = dose.timing
        said += " once" if timing.one_off else (f" {_times(timing.per_day)}" if timing.per_day is not None else "")
        said += " as needed" if timing.as_needed else ""
    if dose.route.route is not None and not dose.route.inferred:
        said += f", {profile.routes[dose.route.route].display}"
    return said


def _differences(dose: DoseFacts, said: TextDose, profile: Profile) -> list[str]:
    """What the text and the coded dosage disagree on."""
    found: list[str] = []
    if said.single_mg is not None and dose.single_mg is not None and not dose.is_rate and _outside(dose.single_mg, said.single_mg):
        found.append("dose")
    timing = dose.timing
    frequency_differs = (
        said.per_day is not None and timing.per_day is not None and not timing.one_off and _outside(timing.per_day, said.per_day)
    )
    # under a cap ("max 40 mg/day") a looser coded schedule may give the same day's amount: that is no disagreement
    if frequency_differs and (dose.daily_mg is None or _outside(dose.daily_mg, said.daily_mg)):
        found.append("frequency")
    compares_daily = dose.is_rate or said.single_mg is None  # a per-day or several-part text is compared by the day
    if compares_daily and dose.daily_mg is not None and not found and _outside(dose.daily_mg, said.daily_mg):
        found.append("daily dose")
    route, written = said.reading.route, dose.route
    if route in profile.routes and written.route is not None and not written.inferred and route != written.route:
        found.append("route")
    return found


@emits("sig-mismatch", "daily-dose-exceeds-maximum")
def sig_mismatch(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a dosage's written instructions (its text or patientInstruction), read completely by the sig
    reader, against its coded dose, frequency and route: mg per dose (a tablet count by the product strength, a
    range allowing every value in it), times a day ("every 12 hours" is twice daily), the day's amount for rates,
    and a written route against a coded one. A text that also exceeds the route's daily maximum says so as well.
    Why: pharmacists edit most e-prescription directions; a coded dose that contradicts its own instructions is an
    error either way round, and the text is what the patient reads. Only a complete reading is compared (a text
    with nothing about the dose, "take with food", or words the reader cannot place, adds nothing). Source: medval
    issue 12; the daily maximum from the profile (for baclofen, 80 mg/day oral, StatPearls Baclofen monograph, Dosing).
    Example that fires: examples/sig/text-contradicts-coded-dose.json examples/sig/text-contradicts-coded-route.json
    Example that does not fire: examples/sig/text-matches-coded-dose.json examples/sig/text-range-covers-coded-dose.json
    Fix: make the coded dose and the written instructions say the same thing (the CDS card names both).
    """
    for dose in order.dosages:
        dosing = profile.dosing.get(dose.route.route or "")
        unit = dosing.unit if dosing is not None else "mg"
        for reading in order.readings:
            if reading.location[:2] != ("dosageInstruction", dose.index):
                continue
            said = text_dose(reading, order.medication.strength)
            if said is None:
                continue
            differences = _differences(dose, said, profile)
            if not differences:
                continue
            yield say(
                "sig.mismatch",
                reading.location,
                _SOURCE,
                says=said.says,
                coded=_coded(dose, profile, unit),
                what=" and ".join(differences),
                text=repr(reading.text.strip()),
            )
            yield from _text_above_maximum(dose, said, profile)


def _text_above_maximum(dose: DoseFacts, said: TextDose, profile: Profile) -> Iterator[Finding]:
    route = dose.route.route
    dosing = profile.dosing.get(route or "")
    if route is None or dosing is None or dosing.maximum_daily is None:
        return
    daily = said.daily_mg[1]
    if daily <= dosing.maximum_daily.value * (1 + 1e-9):
        return
    if dose.daily_mg is not None and dose.daily_mg >= daily * (1 - _TOLERANCE):
        return  # the coded dose is as high: daily-dose-exceeds-maximum already says it, at the coded dose
    yield say(
        "sig.above-maximum",
        said.reading.location,
        dosing.maximum_daily.source,
        daily=format_mass(daily, dosing.unit),
        text=repr(said.reading.text.strip()),
        maximum=format_mass(dosing.maximum_daily.value, dosing.unit),
        route=profile.routes[route].display,
        basis=f"{said.says}, {_span(said.daily_mg, dosing.unit)}/day",
        coded=format_mass(dose.daily_mg, dosing.unit) if dose.daily_mg is not None else "no daily dose",
    )


def mark_read_from_text(findings: list[Finding], order: NormalisedOrder) -> list[Finding]:
    """Every finding located at a dose read from text says so in its text (the contract's "read from the instructions")."""
    texts = {d.location: d.read_from_text for d in order.dosages if d.read_from_text}
    if not texts:
        return findings
    marked = []
    for finding in findings:
        text = next((t for where, t in texts.items() if finding.location[: len(where)] == where), None)
        if text is not None and READ_FROM not in finding.text:
            finding = replace(finding, text=f"{finding.text.rstrip('.')} ({READ_FROM}: {text.strip()!r}).")
        marked.append(finding)
    return marked
