"""An order's dosage schedule in time: the steps of a taper written as sequenced dosages with bounds.

Read from the order's own dosageInstruction (timing.repeat.boundsPeriod / boundsDuration), beside the daily
dose the normaliser computed for each dosage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..context import facts as F
from ..normalise import NormalisedOrder
from ..units import TIME_UNIT_DAYS


@dataclass(frozen=True, slots=True)
class Step:
    start: datetime
    end: datetime  # the last day the step is given (inclusive, by date)
    daily_mg: float


def _bounds(dosage: Any) -> tuple[datetime | None, datetime | None, float | None]:
    repeat = getattr(getattr(dosage, "timing", None), "repeat", None)
    if repeat is None:
        return None, None, None
    period = getattr(repeat, "boundsPeriod", None)
    duration = getattr(repeat, "boundsDuration", None)
    days = None
    if duration is not None and duration.value is not None and (duration.code or duration.unit) in TIME_UNIT_DAYS:
        days = float(duration.value) * TIME_UNIT_DAYS[duration.code or duration.unit]
    if period is None:
        return None, None, days
    return F.to_datetime(period.start), F.to_datetime(period.end), days


def schedule(order: NormalisedOrder, routes: set[str]) -> list[Step]:
    """The order's bounded steps on the routes, in time order; empty when any step has no bounds (not a schedule)."""
    written = list(getattr(order.resource, "dosageInstruction", None) or [])
    steps: list[Step] = []
    previous_end = F.order_time(order.resource)
    for dose in sorted(order.dosages, key=lambda d: (d.sequence is None, d.sequence or 0, d.index)):
        if dose.route.route not in routes or dose.daily_mg is None:
            continue
        start, end, days = _bounds(written[dose.index])
        if start is None and days is not None and previous_end is not None:
            start = previous_end + timedelta(days=1) if steps else previous_end
        if end is None and start is not None and days is not None:
            end = start + timedelta(days=days - 1)
        if start is None or end is None or end < start:
            return []
        steps.append(Step(start, end, dose.daily_mg))
        previous_end = end
    return steps


def days_to_zero(steps: list[Step], running_mg: float) -> float | None:
    """Days from the first reduced step to the end of the last one, when the schedule only goes down from the
    running dose and then ends; None when it is no taper (a single step, or any step up)."""
    if len(steps) < 2 or steps[0].daily_mg >= running_mg:
        return None
    if any(later.daily_mg > earlier.daily_mg for earlier, later in zip(steps, steps[1:], strict=False)):
        return None
    return (steps[-1].end.date() - steps[0].start.date()).days + 1
