"""Bounds on the work one request can cause: free text medval reads, and a CPU budget per document.

    notes = cap_free_text(document)       # drops (in place) text, display and unit strings over MAX_FREE_TEXT_CHARS
    deadline = Deadline(budget_s=10.0)    # deadline.passed: this thread has used its CPU budget

Free text longer than the limit is not read at all (a cut text could read as something it does not say);
each dropped value becomes a `text-not-read` finding naming where it was, so a skip is never silent.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .findings import Finding, Location
from .messages import say

BOUNDED_WORK_SOURCE = "medval: bounded work per request"

# A drug name, route phrase, display or unit is tens of characters; SNOMED CT's longest displays are a few hundred.
MAX_FREE_TEXT_CHARS = 2_000
_FREE_TEXT_KEYS = frozenset({"text", "display", "unit"})
_NOT_READ = frozenset({"note"})  # Annotation.text: no normaliser reads it, so its length costs nothing


@dataclass(frozen=True, slots=True)
class CappedText:
    location: Location  # from the document root: ("dosageInstruction", 0, "route", "text"), ("entry", 3, "resource", "code", "text")
    length: int

    def finding(self, location: Location | None = None) -> Finding:
        """The `text-not-read` finding, at `location` (default: where the text was, from the document root)."""
        where = self.location if location is None else location
        return say("input.text-not-read", where, BOUNDED_WORK_SOURCE, length=f"{self.length:,}", limit=f"{MAX_FREE_TEXT_CHARS:,}")


# A JSON string literal of more than MAX_FREE_TEXT_CHARS units (a unit: one character, or one backslash escape);
# its decoded text can only be shorter, so no match means no string in the document is over the limit.
# The two alternatives start differently: one way to match, no backtracking.
_LONG_STRING = f'"(?:[^"\\\\]|\\\\.){{{MAX_FREE_TEXT_CHARS + 1},}}'
_LONG_STRING_BYTES = re.compile(_LONG_STRING.encode(), re.S)
_LONG_STRING_TEXT = re.compile(_LONG_STRING, re.S)


def may_hold_long_text(data: object) -> bool:
    """False when the raw JSON provably holds no string over the limit, so the walk can be skipped (a C-speed scan)."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        return len(raw) > MAX_FREE_TEXT_CHARS and _LONG_STRING_BYTES.search(raw) is not None
    if isinstance(data, str):
        return len(data) > MAX_FREE_TEXT_CHARS and _LONG_STRING_TEXT.search(data) is not None
    return True  # a dict: walk it


def cap_free_text(document: dict) -> list[CappedText]:
    """Remove over-long free-text strings from `document` in place; where each was. One pass over the JSON."""
    capped: list[CappedText] = []
    stack: list[tuple[object, Location]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in list(node.items()):
                where = (*path, key)
                if isinstance(value, str):
                    if key in _FREE_TEXT_KEYS and len(value) > MAX_FREE_TEXT_CHARS:
                        del node[key]
                        capped.append(CappedText(where, len(value)))
                elif isinstance(value, dict | list) and key not in _NOT_READ:
                    stack.append((value, where))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((value, (*path, i)))
    capped.sort(key=lambda c: tuple(str(step) for step in c.location))
    return capped


class Deadline:
    """A CPU budget for one document, read between orders: the thread's CPU time, so a busy machine does not cut it short."""

    def __init__(self, budget_s: float | None) -> None:
        self.budget_s = budget_s
        self._ends = None if budget_s is None else time.thread_time() + budget_s

    @property
    def passed(self) -> bool:
        return self._ends is not None and time.thread_time() > self._ends
