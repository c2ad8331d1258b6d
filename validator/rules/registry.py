"""How a rule declares itself: the codes it may emit (`@emits(...)`) and its documentation (its docstring, in fixed parts).

A rule's docstring has five parts, each starting a line:

    What it checks: ...
    Why: ... (with its source)
    Example that fires: examples/...
    Example that does not fire: examples/...
    Fix: ...

The README's rule section is generated from them (`python -m validator.rules`), and tests/test_rule_declarations.py
runs every example to check that a rule emits only the codes it declares and that its examples do what they say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..findings import RULE_CATALOGUE, Finding

if TYPE_CHECKING:
    from ..context import RuleContext
    from ..normalise import NormalisedOrder
    from ..profile import Profile

    RuleFunction = Callable[[NormalisedOrder, RuleContext, Profile], Iterator[Finding]]

PARTS = ("What it checks", "Why", "Example that fires", "Example that does not fire", "Fix")


def emits(*codes: str) -> Callable[[Any], Any]:
    """Declare the rule codes a rule function may emit (an unknown code fails at import)."""
    unknown = [c for c in codes if c not in RULE_CATALOGUE]
    if unknown or not codes:
        raise ValueError(f"a rule declares catalogue codes, not {unknown or 'nothing'}")

    def declare(function: Any) -> Any:
        function.codes = codes
        return function

    return declare


def codes_of(function: Any) -> tuple[str, ...]:
    return getattr(function, "codes", ())


@dataclass(frozen=True, slots=True)
class RuleDoc:
    name: str  # module.function
    codes: tuple[str, ...]
    what: str
    why: str
    fires: tuple[str, ...]  # example paths, relative to the repository
    quiet: tuple[str, ...]
    fix: str


def doc_of(function: Any) -> RuleDoc:
    """The five parts of a rule's docstring; a missing part raises ValueError naming the rule."""
    name = f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"
    parts: dict[str, list[str]] = {}
    current = None
    for line in (function.__doc__ or "").splitlines():
        stripped = line.strip()
        header = next((p for p in PARTS if stripped.startswith(p + ":")), None)
        if header is not None:
            current = header
            parts[current] = [stripped[len(header) + 1 :].strip()]
        elif current is not None and stripped:
            parts[current].append(stripped)
    missing = [p for p in PARTS if not parts.get(p) or not " ".join(parts[p]).strip()]
    if missing:
        raise ValueError(f"rule {name}: its docstring lacks {', '.join(missing)}")
    text = {p: " ".join(parts[p]) for p in PARTS}
    return RuleDoc(
        name,
        codes_of(function),
        text["What it checks"],
        text["Why"],
        tuple(text["Example that fires"].replace(",", " ").split()),
        tuple(text["Example that does not fire"].replace(",", " ").split()),
        text["Fix"],
    )
