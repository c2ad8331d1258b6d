"""The sig reader: a written instruction ("Take 2 tablets (40 mg) by mouth 4 times daily") -> a SigReading.

The grammar is `sig.lark`, parsed LALR(1); the parser is built once per process, on first use. Text is
first lower-cased and spaced (`_prepare`); a first pass over parser states finds the tokens that make whole
phrases (a phrase that breaks off falls back to the last whole reading, its words reported unread), and the
kept tokens are parsed afresh. The reader is linear in the text, never raises, and never makes up a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError
from lark.lexer import Lexer, LexerThread

from ..disk_cache import cache_file
from .sig_transform import TRANSFORMER, number_text
from .sig_types import Location, SigAmount, SigFrequency, SigPart, SigReading

MAX_CHARS = 500  # longer texts are read up to here; the rest is reported unread


@lru_cache(maxsize=1)
def sig_parser() -> Lark:
    """The LALR parser, built once per process on first use: a process that reads no text does not pay for it.
    Building its tables costs ~200 ms per process start, so they are kept in the user's private cache folder
    (validator/disk_cache.py; Lark checks the grammar's and its own version's hash before using them), never
    in Lark's default shared temporary folder, which anyone could write a pickle into."""
    cached = cache_file("sig-parser.lark")
    return Lark(
        Path(__file__).with_name("sig.lark").read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        start="start",
        cache=str(cached) if cached is not None else False,
    )


@lru_cache(maxsize=1)
def _sig_lexer() -> Lexer:
    """The lexer the parser itself uses, built once. Lark.lex() builds a fresh lexer (and its regular expressions)
    on every call when a parser is attached: that was a fifth of the cost of validating an order (issue 16)."""
    return sig_parser().parser.lexer


def _lex(text: str) -> Iterator[Token]:
    """The tokens Lark.lex(text) gives (no post-lexer; %ignore'd ones dropped), from the one lexer."""
    return LexerThread.from_text(_sig_lexer(), text).lex(None)


_VULGAR = {"½": " 1/2", "⅓": " 1/3", "⅔": " 2/3", "¼": " 1/4", "¾": " 3/4", "⅛": " 1/8"}
_WORD_NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b")
# Epic-style "every 4 (four) hours", "1 one tablet": a number spelled out again (in parentheses or not) is read once
_SPELLED_AGAIN = re.compile(r"\b(\d+)\s*(\(?)(" + "|".join(_WORD_NUMBERS) + r")\b(\)?)(?![\-/])")
_HALF = re.compile(r"\b(?:one|a)[\s\-]half\b|\bhalf\b")
_DOTTED = re.compile(r"\b[a-z]\.(?:[a-z]\.)*[a-z]\b\.?")  # b.i.d. p.o q.h.s.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
# "10mg" -> "10 mg", "q4h" -> "q 4 h", "x5" -> "x 5"; a code such as "d5w" or "b12" stays one word
_NUMBER_THEN_WORD = re.compile(r"\b(\d+(?:[.,/]\d+)*)(?=[a-z])")
_Q_OR_X_NUMBER = re.compile(r"\b([qx])(?=\d)")
_CLOCK_MINUTES = re.compile(r"(?<=\d):\d\d\b")
_UNSPELLABLE = re.compile(r"[^a-z0-9./\- ,;:()]")
# Fields some prescribing systems run together once punctuation is stripped: "bidx30 daysprnanxiety",
# "dailyinstrdo not crush", "tidprnas needed"; each keyword is parted from the words it touches.
_GLUED_X = re.compile(r"(?<=[a-z])(?<!ma)x(?=\d)")
_GLUED_PRN = re.compile(r"(?<=[a-z])(?=prn)|(?<=\bprn)(?=[a-z])|(?<=[a-z]prn)(?=[a-z])")
_GLUED_INSTR = re.compile(r"(?<=[a-z])(?=instr(?!uct|ument))|(?<=instr)(?!uct|ument)(?=[a-z])")
_RESTATED = ((re.compile(r"\bbed time\b"), "bedtime"), (re.compile(r"\band than\b"), "and then"))

# Misspelt core words ("tabet", "3 tiems a dya", "maximim"): a word one slip away from one of these is read as it.
# A slip is two neighbouring letters swapped, or, in words of five letters and more, one letter left out or put in,
# or (six and more) one letter changed; so a real word such as "dairy" or "yours" is never taken for "daily", "hours".
_CORE_WORDS = (  # noqa: SIM905
    "tablet tablets capsule capsules times day days week weeks month months hour hours daily every twice take maximum needed mouth"
).split()


def _slips(word: str) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    if len(word) >= 6:
        found |= {word[:i] + word[i + 1 :] for i in range(len(word))}
        found |= {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in letters}
    if len(word) >= 5:
        found |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    return found


@lru_cache(maxsize=1)
def _misspellings() -> dict[str, str]:
    known = set(_CORE_WORDS) | _HARMLESS | {"table", "tables", "moths", "mouths", "heeded", "does", "dose", "doses", "then", "than", "them"}
    table: dict[str, str] = {}
    for correct in _CORE_WORDS:
        for slip in _slips(correct):
            if slip not in known and len(slip) >= 3:
                table.setdefault(slip, correct)
    return table


_WORD_RE = re.compile(r"[a-z]+")

# Words an instruction may hold that change nothing medval reads; any other word no phrase takes is reported unread.
_HARMLESS = frozenset(
    """
    take takes taking give administer inject instill apply use swallow chew crush dissolve mix sprinkle shake
    measure an the with without food water milk meal meals full glass whole on onto over
    soft applesauce pudding yogurt juice please pt patient be is are as directed instructed prescribed
    solution suspension liquid granules contents oral syringe cup spoon provided dosing
    device well before using continuous continuously pump infusion empty stomach into through via tablet tablets capsule
    mouth orally usual flush follow and of to by at in a for each every day
    it your mls total affected area areas skin instr int
    """.split()  # noqa: SIM905
)


def _spelled_again(match: re.Match[str]) -> str:
    number, opening, word, closing = match.groups()
    if number.isdigit() and int(number) == _WORD_NUMBERS.index(word) + 1 and bool(opening) == bool(closing):
        return number
    return match.group(0)


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
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text).replace("%", " percent ")
    text = _GLUED_INSTR.sub(" ", _GLUED_PRN.sub(" ", _GLUED_X.sub(" x", text)))
    for pattern, plain in _RESTATED:
        text = pattern.sub(plain, text)
    misspellings = _misspellings()
    text = _WORD_RE.sub(lambda m: misspellings.get(m.group(0), m.group(0)), text)
    text = _SPELLED_AGAIN.sub(_spelled_again, text)
    text = _NUMBER_WORD.sub(lambda m: str(_WORD_NUMBERS.index(m.group(1)) + 1), _HALF.sub("1/2", text))
    text = _THOUSANDS.sub("", _CLOCK_MINUTES.sub("", text))
    text = _Q_OR_X_NUMBER.sub(r"\1 ", _NUMBER_THEN_WORD.sub(r"\1 ", text))
    return _UNSPELLABLE.sub(" ", text), cut


# Why a phrase broke off, told by lark's match_examples: the error's parser state is compared with the state at
# which each example fails. Each example is also given after a first word, since the parser's stack is one
# deeper once any item has been read.
_BROKEN_OFF = {
    "an interval without its time unit ('every 8 ...')": ["every 8 tablets", "q 6 tablets"],
    "a duration or count without its unit ('for 5 ...')": ["for 5 tablets", "x 5 tablets"],
    "a route phrase broken off ('via ...')": ["via 5", "by 5"],
    "a maximum without its amount ('not to exceed ...')": ["not to exceed daily", "no more than daily"],
    "a range broken off ('1 to ...')": ["1 to daily", "1 - daily"],
    "a period without its time unit ('per ...')": ["1 tablet per tablet", "1 tablet every other tablet"],
}
_BROKEN_OFF = {label: examples + [f"take {e}" for e in examples] for label, examples in _BROKEN_OFF.items()}
_MAX_EXPLAINED = 3  # each explanation re-parses the examples; a few are enough to say what went wrong


def _why(error: LarkError) -> str:
    try:
        label = error.match_examples(sig_parser().parse, _BROKEN_OFF, use_accepts=False)  # type: ignore[attr-defined]
    except Exception:  # an explanation is a courtesy; it must never stop the reading
        label = None
    return label or "words that fit no phrase"


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


def _kept_tokens(tokens: list[Token]) -> tuple[list[Token], list[str], list[str]]:
    """First pass, on parser states only: which tokens make whole phrases. A phrase that breaks off falls back
    to the last whole reading and its words are unread. Values built here are thrown away (shallow copies share
    them), so the second pass parses the kept tokens afresh."""
    unread: list[int] = []
    why: list[str] = []
    parser = sig_parser().parse_interactive()
    whole = parser.copy(deepcopy_values=False)
    pending: list[int] = []
    for index, token in enumerate(tokens):
        for attempt in (0, 1):
            try:
                parser.feed_token(token)
                pending.append(index)
                break
            except LarkError as error:
                if pending and len(why) < _MAX_EXPLAINED:  # a phrase broke off: say what kind
                    why.append(_why(error))
                unread.extend(pending)
                parser, pending = whole.copy(deepcopy_values=False), []
                if attempt:
                    unread.append(index)
        if _completes(parser):
            whole, pending = parser.copy(deepcopy_values=False), []
    if pending:  # a phrase still open at the end
        why.append("a phrase left unfinished at the end")
    unread.extend(pending)
    dropped = set(unread)
    return [t for i, t in enumerate(tokens) if i not in dropped], [str(tokens[i]) for i in sorted(dropped)], why


def _whole_reading(tokens: list[Token]) -> Any | None:
    """The parse of all the tokens when they make one whole reading, else None. Most instructions do, and then
    _kept_tokens would keep every token (an LALR parser never accepts a token no valid reading continues with,
    and the end is accepted), so its per-token parser copies (a third of validating an order) are skipped."""
    parser = sig_parser().parse_interactive()
    try:
        for token in tokens:
            parser.feed_token(token)
        return parser.feed_eof()
    except LarkError:
        return None


def _parse(text: str) -> tuple[list[Any], list[str], list[str]]:
    """Typed items of the text, and the words that could not be placed. Linear in the text; never raises."""
    try:
        tokens = list(_lex(text))
    except LarkError:  # _prepare leaves only characters the lexer reads; this is the fail-safe behind it
        return [], [text.strip()] if text.strip() else [], []
    tree = _whole_reading(tokens)
    unread: list[str] = []
    why: list[str] = []
    if tree is None:  # some words fit no phrase: find the whole phrases, then parse those
        kept, unread, why = _kept_tokens(tokens)
        parser = sig_parser().parse_interactive()
        try:
            for token in kept:
                parser.feed_token(token)
            tree = parser.feed_eof()
        except LarkError:  # the first pass accepted these tokens; if the second does not, nothing is trusted
            return [], [str(t) for t in tokens], why
    return _flatten(TRANSFORMER.transform(tree).children if isinstance(tree, Tree) else []), unread, why


def _flatten(items: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


# Times of day that name the same moment ("every night at bedtime" is one dose); other words count on their own.
_MOMENT = {"night": "bedtime", "nightly": "bedtime", "hs": "bedtime", "qhs": "bedtime", "qn": "bedtime"}
_MOMENT |= {"mornings": "morning", "qam": "morning", "breakfast": "morning", "lunch": "noon"}
_MOMENT |= {"evenings": "evening", "qpm": "evening", "dinner": "evening", "supper": "evening"}
_NEGATING = frozenset({"except", "skip", "not", "no", "but"})  # "daily except sundays": the days are not read
_CARRIED = frozenset({"and", "or", "on", "the", "take"})  # "do not take on saturday or sunday"


class _PartBuilder:
    def __init__(self) -> None:
        self.parts: list[SigPart] = []
        self.dose: SigAmount | None = None
        self.equivalent: SigAmount | None = None
        self.frequency: SigFrequency | None = None
        self.times_of_day: list[tuple] = []
        self.weekdays: set[str] = set()
        self.daily_total = False
        self.step = 0
        # "then": the next dose or frequency begins the course's next step; "duration" ("x 3 days"): the next dose does
        self.next_step: str | None = None

    def started(self) -> bool:
        return self.dose is not None or self.frequency is not None or bool(self.times_of_day) or bool(self.weekdays)

    def begin_step_if_due(self) -> None:
        if self.next_step:
            self.close()
            if self.parts and self.parts[-1].step == self.step:
                self.step += 1
            self.next_step = None

    def close(self) -> None:
        if not self.started():
            return
        frequency = self.frequency
        if frequency is None and self.times_of_day:
            moments = {_MOMENT.get(t[2].split()[-1], t[2]): t for t in self.times_of_day}
            count = sum(t[1] for t in moments.values())
            frequency = SigFrequency(count, count, " and ".join(t[2] for t in moments.values()))
        if frequency is None and self.weekdays:  # "on monday, wednesday and friday": so many days a week
            per_day = len(self.weekdays) / 7
            frequency = SigFrequency(per_day, per_day, "on " + ", ".join(sorted(self.weekdays)))
        self.parts.append(SigPart(self.dose, self.equivalent, frequency, self.daily_total, self.step))
        self.dose = self.equivalent = self.frequency = None
        self.times_of_day, self.weekdays, self.daily_total = [], set(), False

    def add_frequency(self, item: SigFrequency, unread: list[str]) -> None:
        current = self.frequency
        if current is None or current.text.startswith("per "):
            self.frequency = item
            self.daily_total = self.daily_total or item.text.startswith("per ") and item.per_day_high == 1.0
        elif (current.per_day_low, current.per_day_high) == (item.per_day_low, item.per_day_high):
            pass  # the same frequency said twice: "bid twice a day", "qd every day"
        else:
            unread.append(item.text)  # two frequencies for one dose: neither is trusted over the other
            self.frequency = None


def _assemble(text: str, location: Location, items: list[Any], unread: list[str], names: frozenset[str]) -> SigReading:
    builder = _PartBuilder()
    fields: dict[str, Any] = {}
    negated = False  # a weekday after "except", "not" ...
    for item in items:
        if isinstance(item, Token) or (isinstance(item, tuple) and item[0] == "weekday"):
            negated = negated if isinstance(item, tuple) or str(item) in _CARRIED else str(item) in _NEGATING
        else:
            negated = False
        if isinstance(item, SigAmount):
            builder.begin_step_if_due()
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
            if builder.next_step == "then":
                builder.begin_step_if_due()
            builder.add_frequency(item, unread)
        elif isinstance(item, Token):
            if (
                str(item) not in _HARMLESS
                and str(item) not in names
                and item.type not in ("A", "AT", "IN", "THE", "WITH", "AND", "OF", "TO", "BY")
            ):
                unread.append(str(item))
        elif item[0] == "time_of_day":
            if builder.next_step == "then":
                builder.begin_step_if_due()
            builder.times_of_day.append(item)
        elif item[0] == "weekday":
            if builder.next_step == "then":
                builder.begin_step_if_due()
            if negated:
                unread.append(item[2])
            else:
                builder.weekdays.update(item[1])
        elif item[0] == "step":
            if builder.started() or builder.parts:
                builder.next_step = "then"
        elif item[0] == "divided":
            builder.daily_total = True
            if item[1]:
                builder.frequency = SigFrequency(item[1], item[1], f"in {number_text(item[1])} divided doses")
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
            if item[0] == "duration" and builder.started() and builder.next_step is None:
                builder.next_step = "duration"
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
    items, unread, why = _parse(prepared)
    if cut:
        unread.append(f"text beyond {MAX_CHARS} characters")
    reading = _assemble(text, location, items, unread, names)
    return replace(reading, unread_why=tuple(why)) if why else reading
