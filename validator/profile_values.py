"""The small values every compiled profile part shares: a cited limit, a cited range, and the load error."""

from __future__ import annotations

from dataclasses import dataclass


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file and field."""


@dataclass(frozen=True, slots=True)
class Limit:
    value: float  # in mg (mass) or as given (percent, days, years)
    source: str


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    high: float
    source: str
