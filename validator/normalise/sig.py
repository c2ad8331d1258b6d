"""The sig reader: a written instruction ("Take 2 tablets (40 mg) by mouth 4 times daily") -> a SigReading.

The grammar is `sig.lark`, parsed LALR(1) once per process. Text is first lower-cased and spaced
(`_prepare`); the parser is then fed token by token, and a phrase that breaks off is dropped back to
the last whole reading, its words reported as unread: the reader is linear in the text, never raises,
and never guesses a number it did not read.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError

from .sig_types import Location, SigAmount, SigFrequency, SigMaximum, SigPart, SigReading

MAX_CHARS = 500  # longer texts are read up to here; the rest is reported unread
_MAX_VALUE = 1e6  # no instruction doses a million of anything: a longer number is a misread

_PARSER = Lark(Path(__file__).with_name("sig.lark").read_text(encoding="utf-8"), parser="lalr", lexer="basic", start="start")

_VULGAR = {"½": " 1/2", "⅓": " 1/3", "⅔": " 2/3", "¼": " 1/4", "¾": " 3/4", "⅛": " 1/8"}
_WORD_NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b")
# Epic-style "every 4 (four) hours": the number spelled out again in parentheses is read once
_SPELLED_AGAIN = re.compile(r"(\d+)\s*\((?:" + "|".join(_WORD_NUMBERS) + r")\)")
_HALF = re.compile(r"\b(?:one|a)[\s\-]half\b|\bhalf\b")
_DOTTED = re.compile(r"\b[a-z]\.(?:[a-z]\.)*[a-z]\b\.?")  # b.i.d. p.o q.h.s.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
# "10mg" -> "10 mg", "q4h" -> "q 4 h", "x5" -> "x 5"; a code such as "d5w" or "b12" stays one word
_NUMBER_THEN_WORD = re.compile(r"\b(\d+(?:[.,/]\d+)*)(?=[a-z])")
_Q_OR_X_NUMBER = re.compile(r"\b([qx])(?=\d)")
_CLOCK_MINUTES = re.compile(r"(?<=\d):\d\d\b")
_UNSPELLABLE = re.compile(r"[^a-z0-9./\- ,;:()]")

_TIME_UNIT_DAYS = {"HOUR": 1 / 24, "DAY": 1.0, "WEEK": 7.0, "MONTH": 30.4375, "MINUTE": 1 / 1440}
_ABBREVIATION_PER_DAY = {"bid": 2.0, "tid": 3.0, "qid": 4.0, "qod": 0.5, "eod": 0.5, "weekly": 1 / 7, "monthly": 12 / 365.25}
_PERIOD_ABBREVIATION_DAYS = {"weekly": 7.0, "monthly": 30.4375}
_UNIT_NAMES = {
    "mass": {"mg": "mg", "mgs": "mg", "milligram": "mg", "milligramme": "mg", "mcg": "mcg", "mcgs": "mcg", "microgram": "mcg"}
    | {"ug": "mcg", "g": "g", "gm": "g", "gms": "g", "gram": "g"},
    "volume": {"ml": "mL", "mls": "mL", "milliliter": "mL", "millilitre": "mL", "cc": "mL"},
}
_COUNT_NAMES = {"tab": "tablet", "tbl": "tablet", "cap": "capsule", "patche": "patch", "sachet": "packet", "dose": "dose"}
_COUNT_NAMES |= {"suppositorie": "suppository", "meq": "mEq"}
# Other routes in the words of the profile's route ids (intravenous, subcutaneous ...), so a later phase can compare them
_ROUTE_NAMES = {"topically": "topical", "rectally": "rectal", "pr": "rectal", "vaginally": "vaginal"}
_ROUTE_NAMES |= {"subcutaneously": "subcutaneous", "subcut": "subcutaneous", "sc": "subcutaneous", "sq": "subcutaneous"}
_ROUTE_NAMES |= {"intramuscularly": "intramuscular", "im": "intramuscular", "intravenously": "intravenous", "iv": "intravenous"}
_ROUTE_NAMES |= {"inhaled": "inhalation", "epidurally": "epidural", "transdermally": "transdermal"}
_ROUTE_NAMES |= {"sublingually": "sublingual", "sub-lingual": "sublingual", "sl": "sublingual"}
_SPOON_ML = {"tsp": 5.0, "teaspoon": 5.0, "teaspoonful": 5.0, "tbsp": 15.0, "tablespoon": 15.0, "tablespoonful": 15.0}

# Words an instruction may hold that change nothing medval reads; any other word no phrase takes is reported unread.
_HARMLESS = frozenset(
    """
    take takes taking give administer inject instill apply use swallow chew crush dissolve mix sprinkle shake
    measure an the with without food water milk meal meals full glass whole on onto over
    soft applesauce pudding yogurt juice please pt patient be is are as directed instructed prescribed
    solution suspension liquid granules contents oral syringe cup spoon provided dosing
    device well before using continuous continuously pump infusion empty stomach into through via tablet tablets capsule
    mouth orally usual flush follow and of to by at in a for each every day
    it your mls total affected area areas skin
    """.split()  # noqa: SIM905
)


def _prepare(text: str) -> tuple[str, str | None]:
    """Lower-case, spell numbers as digits and part digits from letters; also what was cut from a long text."""
    cut = None
    if len(text) > MAX_CHARS:
        text, cut = text[:MAX_CHARS], text[MAX_CHARS:]
    for char, spelled in _VULGAR.items():
        text = text.replace(char, spelled)
    text = unicodedata.normalize("NFKC", text).replace("\u2044", "/").replace("μg", "mcg")
    text = re.sub(r"\bIT\b", "intrathecal", text)  # upper-case IT is intrathecal; "it" is a pronoun
    text = text.lower().replace("&", " and ").replace("w/", "with ")
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _SPELLED_AGAIN.sub(r"\1", text)
    text = _NUMBER_WORD.sub(lambda m: str(_WORD_NUMBERS.index(m.group(1)) + 1), _HALF.sub("1/2", text))
    text = _THOUSANDS.sub("", _CLOCK_MINUTES.sub("", text))
    text = _Q_OR_X_NUMBER.sub(r"\1 ", _NUMBER_THEN_WORD.sub(r"\1 ", text))
    return _UNSPELLABLE.sub(" ", text), cut


def _number(value: float) -> float | None:
    return value if math.isfinite(value) and 0 < value <= _MAX_VALUE else None


class _SigTransformer(Transformer):
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
            return ("one_time",) if high == 1 else ("unread", f"{_n(high)} times with no period")
        shown = f"{_n(low)}-{_n(high)}" if low != high else _n(low)
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
        shown = _n(amount[0]) if amount[0] == amount[1] else f"{_n(amount[0])}-{_n(amount[1])}"
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

    def one_time(self, c: list[Token]) -> tuple:
        if c[0].type == "NUMBER" and float(c[0]) != 1:
            return ("course_count", float(c[0]))
        return ("one_time",)

    def divided(self, c: list[Any]) -> tuple:
        amount = next((a for a in c if isinstance(a, tuple)), None)
        return ("divided", amount[1] if amount else None)


def _n(value: float) -> str:
    return f"{value:g}"


def _unit_name(days: float) -> str:
    return {1 / 24: "hours", 1.0: "day", 7.0: "week", 30.4375: "month", 1 / 1440: "minutes"}.get(days, f"{days:g} days")


def _days_text(period: tuple[float, float] | None) -> str:
    if period is None or period == (1.0, 1.0):
        return "a day"
    return f"every {_n(period[0])} days" if period[0] == period[1] else f"every {_n(period[0])}-{_n(period[1])} days"


_TRANSFORMER = _SigTransformer()


def _completes(parser: Any) -> bool:
    """The tokens fed so far are a whole reading: the end of input is accepted here (checked, not just looked up,
    because an LALR table may list an end-of-input reduction that then fails)."""
    if "$END" not in parser.choices():
        return False
    try:
        parser.copy(deepcopy_values=False).feed_eof()
    except LarkError:
        return False
    return True


def _kept_tokens(tokens: list[Token]) -> tuple[list[Token], list[str]]:
    """First pass, on parser states only: which tokens make whole phrases. A phrase that breaks off falls back
    to the last whole reading and its words are unread. Values built here are thrown away (shallow copies share
    them), so the second pass parses the kept tokens afresh."""
    unread: list[int] = []
    parser = _PARSER.parse_interactive()
    whole = parser.copy(deepcopy_values=False)
    pending: list[int] = []
    for index, token in enumerate(tokens):
        for attempt in (0, 1):
            try:
                parser.feed_token(token)
                pending.append(index)
                break
            except LarkError:
                unread.extend(pending)
                parser, pending = whole.copy(deepcopy_values=False), []
                if attempt:
                    unread.append(index)
        if _completes(parser):
            whole, pending = parser.copy(deepcopy_values=False), []
    unread.extend(pending)  # a phrase still open at the end
    dropped = set(unread)
    return [t for i, t in enumerate(tokens) if i not in dropped], [str(tokens[i]) for i in sorted(dropped)]


def _parse(text: str) -> tuple[list[Any], list[str]]:
    """Typed items of the text, and the words that could not be placed. Linear in the text; never raises."""
    try:
        tokens = list(_PARSER.lex(text))
    except LarkError:  # _prepare leaves only characters the lexer reads; this is the fail-safe behind it
        return [], [text.strip()] if text.strip() else []
    kept, unread = _kept_tokens(tokens)
    parser = _PARSER.parse_interactive()
    try:
        for token in kept:
            parser.feed_token(token)
        tree = parser.feed_eof()
    except LarkError:  # the first pass accepted these tokens; if the second does not, nothing is trusted
        return [], [str(t) for t in tokens]
    return _flatten(_TRANSFORMER.transform(tree).children if isinstance(tree, Tree) else []), unread


def _flatten(items: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


class _PartBuilder:
    def __init__(self) -> None:
        self.parts: list[SigPart] = []
        self.dose: SigAmount | None = None
        self.equivalent: SigAmount | None = None
        self.frequency: SigFrequency | None = None
        self.times_of_day: list[tuple] = []
        self.daily_total = False

    def started(self) -> bool:
        return self.dose is not None or self.frequency is not None or bool(self.times_of_day)

    def close(self) -> None:
        if not self.started():
            return
        frequency = self.frequency
        if frequency is None and self.times_of_day:
            count = sum(t[1] for t in self.times_of_day)
            frequency = SigFrequency(count, count, " and ".join(t[2] for t in self.times_of_day))
        self.parts.append(SigPart(self.dose, self.equivalent, frequency, self.daily_total))
        self.dose = self.equivalent = self.frequency = None
        self.times_of_day, self.daily_total = [], False


def _assemble(text: str, location: Location, items: list[Any], unread: list[str], names: frozenset[str]) -> SigReading:
    builder = _PartBuilder()
    fields: dict[str, Any] = {}
    for item in items:
        if isinstance(item, SigAmount):
            if item.unit is None and builder.dose is not None and builder.dose.unit is not None:
                if builder.frequency is None and not builder.times_of_day:
                    unread.append(item.describe())  # a bare number beside a dose: not placed, not guessed
                    continue
                # "1 tablet in the morning and 2 at bedtime": the second dose is in the first one's unit
                item = SigAmount(item.low, item.high, builder.dose.unit, builder.dose.kind, builder.dose.per_kg, builder.dose.per_m2)
            if builder.dose is None:
                builder.dose = item
            elif builder.equivalent is None and item.kind != builder.dose.kind and builder.frequency is None and not builder.times_of_day:
                builder.equivalent = item
            else:
                builder.close()
                builder.dose = item
        elif isinstance(item, SigFrequency):
            if builder.frequency is None or builder.frequency.text.startswith("per "):
                builder.frequency = item
                builder.daily_total = builder.daily_total or item.text.startswith("per ") and item.per_day_high == 1.0
            elif builder.frequency != item:
                unread.append(item.text)  # two frequencies for one dose: neither is trusted over the other
                builder.frequency = None
        elif isinstance(item, Token):
            if (
                str(item) not in _HARMLESS
                and str(item) not in names
                and item.type not in ("A", "AT", "IN", "THE", "WITH", "AND", "OF", "TO", "BY")
            ):
                unread.append(str(item))
        elif item[0] == "time_of_day":
            builder.times_of_day.append(item)
        elif item[0] == "divided":
            builder.daily_total = True
            if item[1]:
                builder.frequency = SigFrequency(item[1], item[1], f"in {_n(item[1])} divided doses")
        elif item[0] == "route":
            if fields.get("route") not in (None, item[1]):
                unread.append(item[2])  # two different routes: neither is trusted
                fields["route"] = fields["route_text"] = None
            elif "route" not in fields:
                fields["route"], fields["route_text"] = item[1], item[2]
        elif item[0] == "prn":
            fields["as_needed"] = True
            fields["as_needed_reason"] = item[1] or fields.get("as_needed_reason")
        elif item[0] == "reason":
            fields["indication"] = item[1]
        elif item[0] in ("duration", "course_count"):
            fields[f"{item[0]}_days" if item[0] == "duration" else "course_count"] = item[1]
        elif item[0] == "maximum":
            fields["maximum"] = item[1]
        elif item[0] == "one_time":
            fields["one_time"] = True
        elif item[0] == "over":
            pass  # how long one administration takes changes neither dose nor frequency
        elif item[0] == "unread":
            unread.append(item[1])
    builder.close()
    if fields.get("as_needed") and fields.get("indication") and not fields.get("as_needed_reason"):
        fields["as_needed_reason"] = fields["indication"]
    if fields.get("course_count") == 1 and not any(p.frequency for p in builder.parts):
        fields["one_time"] = True
    return SigReading(text, location, tuple(builder.parts), unread=tuple(unread), **fields)


@lru_cache(maxsize=4096)
def read_sig(text: str, location: Location = (), names: frozenset[str] = frozenset()) -> SigReading:
    """Read one instruction text. Never raises; what it cannot place is in `unread`.

    `names` are lower-case words the caller knows are harmless here (the drug's names and brands from its profile).
    """
    if not isinstance(text, str):
        return SigReading("", location, unread=(type(text).__name__,))
    prepared, cut = _prepare(text)
    items, unread = _parse(prepared)
    if cut:
        unread.append(f"text beyond {MAX_CHARS} characters")
    return _assemble(text, location, items, unread, names)
