"""Timing -> administrations a day, at the most the timing allows, or why not."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from ..units import TIME_UNIT_DAYS, finite_number, format_number
from .frequency_codes import SNOMED_FREQUENCIES
from .sig import read_sig
from .types import Location, TimingFacts, Unavailable

# HL7 GTS abbreviations (v3 GTSAbbreviation / R4 timing-abbreviation) as administrations per day.
GTS_PER_DAY: dict[str, float] = {
    "QD": 1,
    "QOD": 0.5,
    "BID": 2,
    "TID": 3,
    "QID": 4,
    "AM": 1,
    "PM": 1,
    "BED": 1,
    "HS": 1,
    "QHS": 1,
    "QAM": 1,
    "QPM": 1,
    "WK": 1 / 7,
    "MO": 12 / 365.25,
    "Q2D": 0.5,
    "Q3D": 1 / 3,
}
_QNH = re.compile(r"^Q(\d{1,2})H$")


_num = finite_number


def _gts(code: str) -> float | None:
    code = code.strip().upper()
    if code in GTS_PER_DAY:
        return GTS_PER_DAY[code]
    match = _QNH.match(code)
    if match and int(match.group(1)) > 0:
        return 24 / int(match.group(1))
    return None


_SNOMED = frozenset({"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96"})


def _from_code(timing: Any) -> tuple[float, str, bool] | None:
    """(administrations a day, label, one-off) from Timing.code: a GTS abbreviation, a SNOMED CT frequency
    concept, or words ("Once", a vendor coding whose display is "Every 8 hours") read by the sig reader."""
    concept = getattr(timing, "code", None)
    if concept is None:
        return None
    codings = list(concept.coding or [])
    for coding in codings:
        if coding.code and coding.system in _SNOMED and (known := SNOMED_FREQUENCIES.get(coding.code.strip())):
            return known.per_day_high, known.display, known.one_time
        if coding.code and coding.system not in _SNOMED and (per_day := _gts(coding.code)) is not None:
            return per_day, coding.code.upper(), False
    if concept.text and (per_day := _gts(concept.text)) is not None:
        return per_day, concept.text.strip().upper(), False
    vendor_codes = [c.code for c in codings if c.code and c.system not in _SNOMED]  # "ONCE", "NIGHTLY": a word as a code
    for text in [concept.text] + [c.display for c in codings] + vendor_codes:
        if not text:
            continue
        reading = read_sig(text)
        if reading.unread or reading.dose is not None:  # a code's words are a frequency and nothing else
            continue
        if reading.frequency is not None:
            return reading.frequency.per_day_high, reading.frequency.text, False
        if reading.one_time:
            return 1.0, "once", True
    return None


def _unavailable(expression: Location, reason: str) -> TimingFacts:
    return TimingFacts(None, False, False, "", Unavailable("frequency-unverified", reason, expression))


def normalise_timing(timing: Any, as_needed: bool, expression: Location) -> TimingFacts:
    """Administrations a day from Timing.repeat, Timing.code or Timing.event.

    As-needed orders count at their maximum: frequencyMax, and the shorter period.
    """
    where = (*expression, "timing")
    if timing is None:
        return _unavailable(expression, "no timing is given")
    repeat = getattr(timing, "repeat", None)
    if repeat is not None:
        facts = _from_repeat(repeat, as_needed, (*where, "repeat"))
        if facts is not None:
            return facts
    coded = _from_code(timing)
    if coded is not None:
        per_day, label, one_off = coded
        return TimingFacts(per_day, one_off, as_needed, label)
    events = getattr(timing, "event", None) or []
    if events:
        per_date = Counter(str(e)[:10] for e in events)
        busiest = max(per_date.values())
        return TimingFacts(float(busiest), len(events) == 1, as_needed, f"{busiest} on the busiest day")
    if repeat is not None:
        return _unavailable(where, "the timing gives no frequency, period, time of day or count")
    return _unavailable(where, "the timing gives neither a repeat nor a recognised code")


def _single_instant(repeat: Any) -> bool:
    bounds = getattr(repeat, "boundsPeriod", None)
    start, end = getattr(bounds, "start", None), getattr(bounds, "end", None)
    return start is not None and end is not None and str(start) == str(end)


def _from_repeat(repeat: Any, as_needed: bool, where: Location) -> TimingFacts | None:
    frequency = _num(repeat.frequencyMax) or _num(repeat.frequency)
    period = _num(repeat.period)
    unit = repeat.periodUnit
    times_a_day = len(set(repeat.timeOfDay or [])) or len(set(repeat.when or []))
    count = _num(getattr(repeat, "countMax", None)) or _num(repeat.count)

    if frequency is not None and frequency <= 0:
        return _unavailable(where, f"frequency {format_number(frequency)} is not a positive number")
    if period is not None:
        if period <= 0:
            return _unavailable(where, f"period {format_number(period)} is not a positive duration")
        if unit not in TIME_UNIT_DAYS:
            return _unavailable(where, f"period unit {unit!r} is not a UCUM unit of time")
        days = period * TIME_UNIT_DAYS[unit]
        if not days > 0:  # a period so short it underflows to zero days
            return _unavailable(where, "the timing does not give a finite number of administrations a day")
        per_day = (frequency or 1) / days
        description = f"{format_number(frequency or 1)} every {format_number(period)} {unit}"
        if times_a_day and days <= 1:
            per_day = max(per_day, times_a_day / days)
    elif frequency is not None:
        return _unavailable(where, f"frequency {format_number(frequency)} is given without a period")
    elif times_a_day:
        per_day, description = float(times_a_day), f"{times_a_day}/day at set times"
    elif _single_instant(repeat):  # boundsPeriod start == end: given once, at that moment
        return TimingFacts(1.0, True, as_needed, "once")
    elif count is not None:
        if count <= 0:
            return _unavailable(where, f"count {format_number(count)} is not a positive number")
        if count > 1:
            return _unavailable(where, f"{format_number(count)} administrations are ordered with no period between them")
        return TimingFacts(1.0, True, as_needed, "once")
    else:
        return None

    if count is not None and 0 < count < per_day:
        per_day = count
    bounds = _num(getattr(getattr(repeat, "boundsDuration", None), "value", None))
    bounds_unit = getattr(getattr(repeat, "boundsDuration", None), "code", None) or getattr(
        getattr(repeat, "boundsDuration", None), "unit", None
    )
    if bounds and bounds > 0 and bounds_unit in TIME_UNIT_DAYS:
        span = bounds * TIME_UNIT_DAYS[bounds_unit] * per_day  # administrations within the bounds
        within = math.ceil(span - 1e-9) if math.isfinite(span) else math.inf  # an endless course caps nothing
        if 0 < within < per_day:
            per_day = float(within)
    if not math.isfinite(per_day) or per_day <= 0:
        return _unavailable(where, "the timing does not give a finite number of administrations a day")
    return TimingFacts(per_day, count == 1 and per_day <= 1, as_needed, description)
