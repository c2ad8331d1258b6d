"""Whole-word phrase lookup in free text in one pass: linear in the text, whatever the number of phrases.

    index = PhraseIndex([("intrathecal", "intrathecal"), ("by mouth", "oral")])   # (phrase, value), in priority order
    index.best("baclofen intrathecal via pump")   # -> "intrathecal"

A phrase matches where it is not preceded or followed by a letter a-z (the text is lower-cased by the caller),
as `(?<![a-z])phrase(?![a-z])` would. Of the phrases found, the one listed first wins, as if each were searched
in turn. One regex search per phrase cost phrases x text (148 route phrases over a 48 kB text: 0.2 s);
this walks the text once and looks candidate phrases up by their first characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

_KEY = 3  # phrases are indexed by their first three characters (route phrases have four or more)


def _is_letter(char: str) -> bool:
    return "a" <= char <= "z"


class PhraseIndex:
    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        self._by_key: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self._short: list[tuple[int, str, str]] = []
        for rank, (phrase, value) in enumerate(phrases):
            entry = (rank, phrase, value)
            (self._by_key[phrase[:_KEY]] if len(phrase) >= _KEY else self._short).append(entry)

    def best(self, text: str) -> str | None:
        """The value of the highest-priority phrase found in `text` as whole words, or None."""
        found: tuple[int, str] | None = None
        by_key = self._by_key
        length = len(text)
        previous_letter = False
        for start in range(length):
            char = text[start]
            if not previous_letter:
                for rank, phrase, value in by_key.get(text[start : start + _KEY], ()):
                    if found is not None and rank >= found[0]:
                        continue
                    end = start + len(phrase)
                    if text.startswith(phrase, start) and (end >= length or not _is_letter(text[end])):
                        found = (rank, value)
                for rank, phrase, value in self._short:
                    end = start + len(phrase)
                    if (
                        (found is None or rank < found[0])
                        and text.startswith(phrase, start)
                        and (end >= length or not _is_letter(text[end]))
                    ):
                        found = (rank, value)
                if found is not None and found[0] == 0:
                    break
            previous_letter = _is_letter(char)
        return found[1] if found is not None else None
