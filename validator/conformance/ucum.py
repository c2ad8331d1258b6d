"""UCUM syntax: is a code a well-formed UCUM expression over the official atoms (case-sensitive, c/s form)?

The atoms and prefixes are data/ucum.json, generated from ucum-essence.xml (UCUM 2.2, Regenstrief
Institute, https://github.com/ucum-org/ucum) by tools/generate_conformance.py. The grammar is the
UCUM specification's (section 2, "Syntax rules"): a term of components joined by "." and "/", a
leading "/", parentheses, integer factors, exponents, and {annotations}. Only metric atoms take a
prefix. This module knows no drug and does not convert units (validator/units.py does that).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

_EXPONENT = re.compile(r"[+-]?[0-9]+")
_FACTOR = re.compile(r"[0-9]+")
_ANNOTATION = re.compile(r"\{[!-z|~ ]*\}")  # printable ASCII without curly braces


class UcumError(ValueError):
    pass


@lru_cache(maxsize=1)
def _symbols() -> tuple[dict[str, str], int]:
    """Every unit symbol medval accepts (atom or prefix+metric atom) -> the atom's property, and the longest symbol's length."""
    data = json.loads(Path(__file__).with_name("data").joinpath("ucum.json").read_text(encoding="utf-8"))
    symbols: dict[str, str] = {}
    for atom, (metric, prop) in data["units"].items():
        symbols[atom] = prop
        if metric:
            for prefix in data["prefixes"]:
                symbols.setdefault(prefix + atom, prop)
    return symbols, max(map(len, symbols))


def atoms_of(code: str) -> list[str]:
    """The properties (e.g. "mass", "volume") of the unit atoms in a valid UCUM code; raises UcumError when invalid."""
    if not code:
        raise UcumError("the code is empty")
    parser = _Parser(code)
    parser.term()
    if parser.pos != len(code):
        raise UcumError(f"unexpected {code[parser.pos]!r} at position {parser.pos + 1}")
    return parser.properties


def is_valid(code: str) -> bool:
    try:
        atoms_of(code)
    except UcumError:
        return False
    return True


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.properties = text, 0, []

    def term(self) -> None:
        if self._peek() == "/":
            self.pos += 1
        self.component()
        while self._peek() in (".", "/"):
            self.pos += 1
            self.component()

    def component(self) -> None:
        char = self._peek()
        if char == "(":
            self.pos += 1
            self.term()
            if self._peek() != ")":
                raise UcumError("an opening parenthesis is not closed")
            self.pos += 1
        elif char == "{":
            self._annotation(required=True)
            return
        elif not self._simple_unit():
            factor = _FACTOR.match(self.text, self.pos)
            if not factor:
                found = self.text[self.pos :] or "nothing"
                raise UcumError(f"{found!r} does not start with a UCUM unit")
            self.pos = factor.end()
            return
        self._annotation(required=False)

    def _simple_unit(self) -> bool:
        symbols, longest = _symbols()
        for length in range(min(longest, len(self.text) - self.pos), 0, -1):
            candidate = self.text[self.pos : self.pos + length]
            if candidate in symbols:
                self.pos += length
                self.properties.append(symbols[candidate])
                exponent = _EXPONENT.match(self.text, self.pos)
                if exponent:
                    self.pos = exponent.end()
                return True
        return False

    def _annotation(self, required: bool) -> None:
        match = _ANNOTATION.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        elif required or self._peek() == "{":
            raise UcumError("an annotation is not closed, or holds a character UCUM does not allow")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""
