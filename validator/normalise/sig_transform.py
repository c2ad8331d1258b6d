"""The sig grammar's Transformer: parse tree -> typed items (SigAmount, SigFrequency, tagged tuples) for sig.py."""

from __future__ import annotations

import math
from typing import Any

from lark import Token, Transformer

from .sig_types import SigAmount, SigFrequency, SigMaximum

_MAX_VALUE = 1e6  # no instruction doses a million of anything: a longer number is a misread

_TIME_UNIT_DAYS = {"HOUR": 1 / 24, "DAY": 1.0, "WEEK": 7.0, "MONTH": 30.4375, "MINUTE": 1 / 1440}
_ABBREVIATION_PER_DAY = {"bid": 2.0, "tid": 3.0, "qid": 4.0, "qod": 0.5, "eod": 0.5, "weekly": 1 / 7, "monthly": 12 / 365.25}
_ABBREVIATION_PER_DAY |= {"qweek": 1 / 7, "qwk": 1 / 7, "qmonth": 12 / 365.25}
_PERIOD_ABBREVIATION_DAYS = {"weekly": 7.0, "monthly": 30.4375}
_UNIT_NAMES = {
    "mass": {"mg": "mg", "mgs": "mg", "milligram": "mg", "milligramme": "mg", "mcg": "mcg", "mcgs": "mcg", "microgram": "mcg"}
    | {"ug": "mcg", "g": "g", "gm": "g", "gms": "g", "gram": "g"},
    "volume": {"ml": "mL", "mls": "mL", "milliliter": "mL", "millilitre": "mL", "cc": "mL"},
}
_COUNT_NAMES = {"tab": "tablet", "tbl": "tablet", "cap": "capsule", "patche": "patch", "sachet": "packet", "dose": "dose"}
_COUNT_NAMES |= {"suppositorie": "suppository", "meq": "mEq", "inhalation": "puff"}  # an inhalation is one puff
# Other routes in the words of the profile's route ids (intravenous, subcutaneous ...), so a later phase can compare them
_ROUTE_NAMES = {"topically": "topical", "rectally": "rectal", "pr": "rectal", "vaginally": "vaginal"}
_ROUTE_NAMES |= {"subcutaneously": "subcutaneous", "subcut": "subcutaneous", "sc": "subcutaneous", "sq": "subcutaneous"}
_ROUTE_NAMES |= {"subq": "subcutaneous", "inh": "inhalation"}
_ROUTE_NAMES |= {"intramuscularly": "intramuscular", "im": "intramuscular", "intravenously": "intravenous", "iv": "intravenous"}
_ROUTE_NAMES |= {"inhaled": "inhalation", "epidurally": "epidural", "transdermally": "transdermal"}
_ROUTE_NAMES |= {"sublingually": "sublingual", "sub-lingual": "sublingual", "sl": "sublingual"}
_SPOON_ML = {"tsp": 5.0, "teaspoon": 5.0, "teaspoonful": 5.0, "tbsp": 15.0, "tablespoon": 15.0, "tablespoonful": 15.0}


def _number(value: float) -> float | None:
    return value if math.isfinite(value) and 0 < value <= _MAX_VALUE else None


class SigTransformer(Transformer):
    """Parse tree -> typed items (SigAmount, SigFrequency, tagged tuples) that `_assemble` puts in order."""

    def decimal(self, c: list[Token]) -> float | None:
        return _number(float(c[0]))

    def fraction(self, c: list[Token]) -> float | None:
        top, bottom = (float(x) for x in c[0].split("/"))
        return _number(top / bottom) if bottom else None

    def mixed(self, c: list[Any]) -> float | None:
        whole, fraction = float(c[0]), c[-1]
        top, bottom = (float(x) for x in fraction.split("/"))
        return _number(whole + top / bottom) if bottom else None

    def amount(self, c: list[Any]) -> tuple[float, float] | None:
        return (c[0], c[0]) if c[0] is not None else None

    def amount_range(self, c: list[Any]) -> tuple[float, float] | None:
        values = [v for v in c if not isinstance(v, Token)]
        if None in values:
            return None
        return (min(values), max(values))

    def unit(self, c: list[Token]) -> tuple[str, str, float]:
        token = c[0]
        word = str(token)
        singular = word[:-1] if word.endswith("s") and word not in ("cc", "gms", "mls", "mgs", "mcgs") else word
        if token.type == "MASS":
            return ("mass", _UNIT_NAMES["mass"].get(singular, _UNIT_NAMES["mass"].get(word, "mg")), 1.0)
        if token.type == "VOLUME":
            return ("volume", "mL", 1000.0 if word[0] == "l" else 1.0)
        if token.type == "SPOON":
            return ("volume", "mL", _SPOON_ML.get(singular, _SPOON_ML.get(word, 5.0)))
        return ("count", _COUNT_NAMES.get(singular, singular), 1.0)

    def dose(self, c: list[Any]) -> SigAmount | tuple:
        amount = c[0]
        if amount is None:
            return ("unread", "a number medval cannot use")
        kind, name, factor = next((u for u in c[1:] if isinstance(u, tuple)), (None, None, 1.0))
        per = {t.type for t in c if isinstance(t, Token)}
        return SigAmount(amount[0] * factor, amount[1] * factor, name, kind, per_kg="PER_KG" in per, per_m2="PER_M2" in per)

    def dose_one(self, c: list[Any]) -> SigAmount:
        kind, name, factor = c[-1]
        return SigAmount(factor, factor, name, kind)

    def time_unit(self, c: list[Token]) -> float:
        return _TIME_UNIT_DAYS[c[0].type]

    # ---- periods: (shortest, longest) days ----
    def per_day(self, c: list[Any]) -> tuple[float, float]:
        return (1.0, 1.0)

    def period_abbreviation(self, c: list[Token]) -> tuple[float, float] | None:
        days = _PERIOD_ABBREVIATION_DAYS.get(str(c[0]))
        return (days, days) if days else None

    def per_unit(self, c: list[Any]) -> tuple[float, float]:
        return (c[-1], c[-1])

    def per_amount_unit(self, c: list[Any]) -> tuple[float, float] | None:
        amount, days = c[-2], c[-1]
        return (amount[0] * days, amount[1] * days) if amount else None

    def per_other(self, c: list[Any]) -> tuple[float, float]:
        return (2 * c[-1], 2 * c[-1])

    # ---- frequencies ----
    @staticmethod
    def _per(low: float, high: float, period: tuple[float, float] | None, text: str) -> SigFrequency | tuple:
        if period is None:
            period = (1.0, 1.0)
        return SigFrequency(low / period[1], high / period[0], text)

    def _period_of(self, c: list[Any]) -> tuple[float, float] | None:
        return next((p for p in c if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], float)), None)

    def once(self, c: list[Any]) -> SigFrequency | tuple:
        period = self._period_of(c[1:])
        return self._per(1, 1, period, "once " + _days_text(period)) if len(c) > 1 else ("one_time",)

    def twice(self, c: list[Any]) -> SigFrequency | tuple:
        return self._per(2, 2, self._period_of(c[1:]), "twice " + _days_text(self._period_of(c[1:])))

    def thrice(self, c: list[Any]) -> SigFrequency | tuple:
        return self._per(3, 3, self._period_of(c[1:]), "3 times " + _days_text(self._period_of(c[1:])))

    def times(self, c: list[Any]) -> SigFrequency | tuple:
        if c[0] is None:
            return ("unread", "a number medval cannot use")
        low, high = c[0]
        period = self._period_of(c[2:])
        if period is None and c[1].type in ("TIME", "TIMES"):  # "1 time" is once; "3 times" with no period says too little
            return ("one_time",) if high == 1 else ("unread", f"{number_text(high)} times with no period")
        shown = f"{number_text(low)}-{number_text(high)}" if low != high else number_text(low)
        return self._per(low, high, period, f"{shown} times {_days_text(period)}")

    def abbreviation(self, c: list[Token]) -> SigFrequency | tuple:
        per_day = _ABBREVIATION_PER_DAY.get(str(c[0]))
        return SigFrequency(per_day, per_day, str(c[0]).upper()) if per_day else ("unread", str(c[0]))

    def daily(self, c: list[Token]) -> SigFrequency:
        return SigFrequency(1.0, 1.0, str(c[0]))

    def every(self, c: list[Any]) -> SigFrequency | tuple:
        amount, days = c[-2], c[-1]
        if amount is None:
            return ("unread", "a number medval cannot use")
        shown = number_text(amount[0]) if amount[0] == amount[1] else f"{number_text(amount[0])}-{number_text(amount[1])}"
        return SigFrequency(1 / (amount[1] * days), 1 / (amount[0] * days), f"every {shown} {_unit_name(days)}")

    def every_one(self, c: list[Any]) -> SigFrequency:
        return SigFrequency(1 / c[-1], 1 / c[-1], f"every {_unit_name(c[-1])}")

    def every_other(self, c: list[Any]) -> SigFrequency:
        return SigFrequency(1 / (2 * c[-1]), 1 / (2 * c[-1]), f"every other {_unit_name(c[-1])}")

    def period_only(self, c: list[Any]) -> SigFrequency:
        return SigFrequency(1 / c[-1], 1 / c[-1], f"per {_unit_name(c[-1])}")

    def rate(self, c: list[Any]) -> tuple:
        return ("unread", "an infusion rate")

    def over(self, c: list[Any]) -> tuple:
        return ("over",)

    def time_of_day(self, c: list[Token]) -> tuple:
        last = c[-1]
        return ("time_of_day", 3.0 if last.type == "MEALS" else 1.0, " ".join(str(t) for t in c))

    def every_time_of_day(self, c: list[Token]) -> tuple:
        return ("time_of_day", 1.0, " ".join(str(t) for t in c))

    def frequency(self, c: list[Any]) -> Any:
        return c[0]

    # ---- route, as needed, duration, maximum ----
    def oral(self, c: list[Token]) -> tuple:
        return ("route", "oral", " ".join(c))

    def tube(self, c: list[Any]) -> tuple:
        return ("route", "enteral-tube", " ".join(str(t) for t in c if isinstance(t, Token)))

    def intrathecal(self, c: list[Token]) -> tuple:
        return ("route", "intrathecal", str(c[0]))

    def other_route(self, c: list[Token]) -> tuple:
        return ("route", _ROUTE_NAMES.get(str(c[0]), str(c[0])), str(c[0]))

    def route(self, c: list[Any]) -> Any:
        return c[0]

    def reason(self, c: list[Token]) -> str:
        words = [str(t) for t in c]
        while words and words[-1] in ("and", "or", "of", "the"):
            words.pop()
        return " ".join(words)

    def as_needed(self, c: list[Any]) -> tuple:
        reason = c[-1] if isinstance(c[-1], str) and not isinstance(c[-1], Token) else None
        return ("prn", reason)

    def as_needed_for_time(self, c: list[Any]) -> list[tuple]:
        amount, days = c[-2], c[-1]
        return [("prn", None), ("duration", amount[1] * days)] if amount else [("prn", None)]

    def for_reason(self, c: list[Any]) -> tuple:
        return ("reason", c[-1])

    def duration(self, c: list[Any]) -> tuple:
        amount, days = c[-2], c[-1]
        return ("duration", amount[1] * days) if amount else ("unread", "a duration medval cannot use")

    def course_count(self, c: list[Any]) -> tuple:
        amount = next((a for a in c if isinstance(a, tuple) or a is None), None)
        return ("course_count", amount[1]) if amount else ("unread", "a count medval cannot use")

    def max_period(self, c: list[Any]) -> float | None:
        if len(c) == 1:  # a period: the longest span it names
            return c[0][1] if c[0] else None
        amount, days = c[-2], c[-1]
        return amount[1] * days if amount else None

    def maximum(self, c: list[Any]) -> tuple:
        amount = next((a for a in c if isinstance(a, tuple) and len(a) == 2), None)
        if amount is None:
            return ("unread", "a maximum medval cannot use")
        kind, name, factor = next((u for u in c if isinstance(u, tuple) and len(u) == 3), (None, None, 1.0))
        per_days = next((p for p in c if isinstance(p, float)), None)
        if per_days is None and any(isinstance(t, Token) and t.type == "DAILY" for t in c):
            per_days = 1.0
        return ("maximum", SigMaximum(SigAmount(amount[0] * factor, amount[1] * factor, name, kind), per_days))

    def maximum_times(self, c: list[Any]) -> SigFrequency | tuple:
        """ "up to 3 times a day": the most administrations a day, which is what a frequency's upper end says."""
        amount = next((a for a in c if isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], float)), None)
        period = self._period_of([p for p in c if p is not amount])
        if amount is None or period is None:
            return ("unread", "a maximum medval cannot use")
        return self._per(amount[1], amount[1], period, f"up to {number_text(amount[1])} times {_days_text(period)}")

    def step(self, c: list[Token]) -> tuple:
        return ("step",)

    def weekday(self, c: list[Token]) -> tuple:
        days = [str(t)[:3] for t in c if isinstance(t, Token) and t.type == "WEEKDAY"]
        if len(days) == 2:  # "monday through friday": every day from the first to the last, across the weekend if need be
            first, last = _WEEKDAYS.index(days[0]), _WEEKDAYS.index(days[1])
            days = [_WEEKDAYS[(first + i) % 7] for i in range((last - first) % 7 + 1)]
        return ("weekday", tuple(days), " ".join(str(t) for t in c if isinstance(t, Token)))

    def span(self, c: list[Any]) -> tuple:
        return ("over",)  # a time beside the dose ("30 minutes before meals", "for 90 days" without "for")

    def percent(self, c: list[Any]) -> tuple:
        return ("over",)

    def dispense(self, c: list[Any]) -> tuple:
        return ("over",)

    def one_time(self, c: list[Token]) -> tuple:
        if c[0].type == "NUMBER" and float(c[0]) != 1:
            return ("course_count", float(c[0]))
        return ("one_time",)

    def divided(self, c: list[Any]) -> tuple:
        amount = next((a for a in c if isinstance(a, tuple)), None)
        return ("divided", amount[1] if amount else None)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def number_text(value: float) -> str:
    return f"{value:g}"


def _unit_name(days: float) -> str:
    return {1 / 24: "hours", 1.0: "day", 7.0: "week", 30.4375: "month", 1 / 1440: "minutes"}.get(days, f"{days:g} days")


def _days_text(period: tuple[float, float] | None) -> str:
    if period is None or period == (1.0, 1.0):
        return "a day"
    low, high = (number_text(p) for p in period)
    return f"every {low} days" if low == high else f"every {low}-{high} days"


TRANSFORMER = SigTransformer()
