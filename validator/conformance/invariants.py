"""The core definitions' FHIRPath invariants, compiled once per process with fhirpathpy, run where their element is.

Skipped, on purpose:
- best-practice invariants (dom-6 "A resource should have narrative"): the HL7 validator reports them only at its
  best-practice level, and a CPOE order rarely carries narrative, so every order would get the same noise;
- ele-1 (every element has a value or children): checked by the walker natively, on every element, for free.
R4's dom-3 reads `descendants().as(canonical)`, which errors in a strict engine on more than one descendant;
R5 corrected it to `ofType(canonical)`, and that reading is used for R4 too (the meaning is unchanged).
An invariant whose evaluation fails is reported as not evaluated (information), never as passed or failed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from .definitions import Constraint, definitions


def _has_value(inputs: list[Any]) -> list[bool]:
    """FHIRPath hasValue() (fhirpathpy 2.2 lacks it): one item that is a primitive with a value."""
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)]


_OPTIONS = {
    "traceFn": lambda *_args: None,  # dom-3 calls trace(); the default prints to stdout
    "userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}},
}


def _range_ordered(node: dict[str, Any]) -> bool | None:
    """rng-2 "low <= high": fhirpathpy does not compare Quantities held as JSON; same-unit values are compared here."""
    low, high = node.get("low"), node.get("high")
    if not isinstance(low, dict) or not isinstance(high, dict):
        return True
    a, b = low.get("value"), high.get("value")
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return True
    if (low.get("code"), low.get("unit")) != (high.get("code"), high.get("unit")) and low.get("code") != high.get("code"):
        return None  # different units: would need conversion
    return a <= b


# Invariants evaluated natively because the engine cannot (the meaning is the definition's, not ours).
NATIVE = {"rng-2": _range_ordered}


@lru_cache(maxsize=512)
def _compiled(version: str, qualified_key: str) -> Callable[..., list[Any]] | None:
    constraint = definitions(version).constraints[qualified_key]
    expression = constraint.expression.replace("descendants().as(", "descendants().ofType(")
    try:
        return fhirpathpy.compile(expression, models["r5" if version.startswith("5") else "r4"], _OPTIONS)
    except Exception:  # an expression fhirpathpy cannot parse: reported as not evaluated when it applies
        return None


def applicable(version: str, type_name: str, keys: tuple[str, ...]) -> list[tuple[str, Constraint]]:
    table = definitions(version).constraints
    out = []
    for key in keys:
        qualified = f"{type_name}:{key}"
        constraint = table.get(qualified)
        if constraint is not None and not constraint.best_practice:
            out.append((qualified, constraint))
    return out


def evaluate(version: str, qualified_key: str, node: Any, fhir_type: str, resource: dict[str, Any]) -> bool | None:
    """True when the invariant holds on node, False when it fails, None when it could not be evaluated."""
    native = NATIVE.get(qualified_key.rsplit(":", 1)[-1])
    if native is not None:
        return native(node)
    compiled = _compiled(version, qualified_key)
    if compiled is None:
        return None
    try:
        result = compiled(ResourceNode.create_node(node, fhir_type), {"resource": resource, "rootResource": resource})
    except Exception:
        return None
    if result == [] or result == [True]:
        return True  # an empty result is not a failure (FHIRPath: constraints fail only on false)
    return False if result == [False] else None


def compile_all(version: str) -> int:
    """Compile every invariant now (startup or benchmark warm-up); returns how many compiled."""
    return sum(_compiled(version, key) is not None for key in definitions(version).constraints)
