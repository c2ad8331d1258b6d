"""The core definitions' FHIRPath invariants, compiled once per process with fhirpathpy, run where their element is.

Skipped, on purpose:
- best-practice invariants (dom-6 "A resource should have narrative"): the HL7 validator reports them only at its
  best-practice level, and a CPOE order rarely carries narrative, so every order would get the same noise;
- ele-1 (every element has a value or children): checked by the walker natively, on every element, for free.
R4's dom-3 reads `descendants().as(canonical)`, which errors in a strict engine on more than one descendant;
R5 corrected it to `ofType(canonical)`, and that reading is used for R4 too (the meaning is unchanged); dom-3,
ref-1 and rng-2 are evaluated natively (see NATIVE), every other one by fhirpathpy.
An invariant whose evaluation fails is reported as not evaluated (information), never as passed or failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import fhirpathpy
import orjson
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


def _contained_referenced(node: dict[str, Any]) -> bool | None:
    """dom-3, natively (fhirpathpy takes ~6 ms on it): every contained resource is referenced as "#id" from somewhere
    in the resource (a Reference, canonical, uri or url value), or itself refers to its container with "#"."""
    contained = node.get("contained")
    if not isinstance(contained, list):
        return True
    local = set()
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        for value in current.values() if isinstance(current, dict) else current:
            if isinstance(value, str):
                if value.startswith("#"):
                    local.add(value)
            elif isinstance(value, dict | list):
                stack.append(value)
    for resource in contained:
        if not isinstance(resource, dict):
            continue
        if f"#{resource.get('id')}" not in local and not _refers_to_container(resource):
            return False
    return True


def _refers_to_container(resource: dict[str, Any]) -> bool:
    stack: list[Any] = [resource]
    while stack:
        current = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current)
        for key, value in items:
            if value == "#" and key == "reference":
                return True
            if isinstance(value, dict | list):
                stack.append(value)
    return False


def _local_reference_resolves(node: dict[str, Any], resource: dict[str, Any]) -> bool | None:
    """ref-1 natively (it reads %rootResource, so no memo applies): a "#id" reference names a contained resource."""
    reference = node.get("reference")
    if not isinstance(reference, str) or not reference.startswith("#") or reference == "#":
        return True
    contained = resource.get("contained")
    # a malformed id (a list, an object) is unhashable and can never equal the reference's text: skipped, not crashed on
    ids = {c["id"] for c in contained if isinstance(c, dict) and isinstance(c.get("id"), str)} if isinstance(contained, list) else set()
    return reference[1:] in ids


# Invariants evaluated natively: rng-2 because the engine cannot compare Quantities held as JSON; dom-3 and
# ref-1 because they walk the whole resource each time (the meaning is the definition's, not ours).
NATIVE: dict[str, Callable[[dict[str, Any]], bool | None]] = {"rng-2": _range_ordered, "dom-3": _contained_referenced}
NATIVE_WITH_RESOURCE = {"ref-1": _local_reference_resolves}

# A verdict depends only on the properties its expression names, when it reads nothing outside the node
# (no %resource, descendants(), children()): so it is kept per projection of the node on those properties.
# Orders repeat their shapes (a Timing.repeat without duration, a Quantity in mg), so most evaluations are
# dictionary look-ups. Bounded; cleared when full.
_MEMO: dict[tuple[Any, ...], tuple[bool | None, ...]] = {}
MEMO_LIMIT = 1 << 14
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STEM = re.compile(r"_?([a-z][a-z0-9]*|)")


@lru_cache(maxsize=1024)
def _projection_names(version: str, qualified_key: str, at_root: bool = False) -> frozenset[str] | None:
    expression = definitions(version).constraints[qualified_key].expression
    # %ucum is a constant; at a resource's root, %resource is the node itself (its reads are among the names)
    outside = set(re.findall(r"%`?([A-Za-z][\w-]*)", expression)) - ({"ucum", "resource", "rootResource"} if at_root else {"ucum"})
    if outside or any(marker in expression for marker in ("descendants", "children", "resolve", "repeat(")):
        return None
    return frozenset(_WORDS.findall(expression))


def _projection(node: dict[str, Any], names: frozenset[str]) -> bytes | None:
    # a choice property (valueQuantity) is kept by its lower-case stem (value); keeping too much is only a larger key
    kept = {key: value for key, value in node.items() if key.lstrip("_") in names or _STEM.match(key).group(1) in names}
    try:
        text = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return text if len(text) <= 16384 else None


def clear_memo() -> None:
    _MEMO.clear()


@lru_cache(maxsize=512)
def _compiled(version: str, qualified_key: str) -> Callable[..., list[Any]] | None:
    constraint = definitions(version).constraints[qualified_key]
    expression = constraint.expression.replace("descendants().as(", "descendants().ofType(")
    try:
        return fhirpathpy.compile(expression, models["r5" if version.startswith("5") else "r4"], _OPTIONS)
    except Exception:  # an expression fhirpathpy cannot parse: reported as not evaluated when it applies
        return None


@lru_cache(maxsize=1024)
def applicable(version: str, type_name: str, keys: tuple[str, ...]) -> tuple[tuple[str, Constraint], ...]:
    table = definitions(version).constraints
    out = []
    for key in keys:
        qualified = f"{type_name}:{key}"
        constraint = table.get(qualified)
        if constraint is not None and not constraint.best_practice:
            out.append((qualified, constraint))
    return tuple(out)


@lru_cache(maxsize=1024)
def _plan(version: str, type_name: str, keys: tuple[str, ...], at_root: bool) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """The node's invariants split into those whose verdicts can be kept (with the properties they read) and the rest."""
    kept, fresh, names = [], [], set()
    for qualified, _constraint in applicable(version, type_name, keys):
        key = qualified.rsplit(":", 1)[-1]
        words = None if key in NATIVE or key in NATIVE_WITH_RESOURCE else _projection_names(version, qualified, at_root)
        if words is None:
            fresh.append(qualified)
        else:
            kept.append(qualified)
            names |= words
    return tuple(kept), tuple(fresh), frozenset(names)


def evaluate_node(
    version: str, type_name: str, keys: tuple[str, ...], node: dict[str, Any], fhir_type: str, resource: dict[str, Any]
) -> list[tuple[Constraint, bool | None]]:
    """Every applicable invariant's verdict on node: True holds, False fails, None could not be evaluated."""
    kept, fresh, names = _plan(version, type_name, keys, node is resource)
    table = definitions(version).constraints
    verdicts = [(table[q], evaluate(version, q, node, fhir_type, resource)) for q in fresh]
    if kept:
        projection = _projection(node, names)
        memo_key = (version, type_name, keys, projection) if projection is not None else None
        cached = _MEMO.get(memo_key) if memo_key is not None else None
        if cached is None:
            cached = tuple(_evaluate(version, q, node, fhir_type, resource) for q in kept)
            if memo_key is not None:
                if len(_MEMO) >= MEMO_LIMIT:
                    _MEMO.clear()
                _MEMO[memo_key] = cached
        verdicts += [(table[q], verdict) for q, verdict in zip(kept, cached, strict=True)]
    return verdicts


def evaluate(version: str, qualified_key: str, node: Any, fhir_type: str, resource: dict[str, Any]) -> bool | None:
    """One invariant's verdict on node, without keeping it: True holds, False fails, None could not be evaluated."""
    key = qualified_key.rsplit(":", 1)[-1]
    if key in NATIVE:
        return NATIVE[key](node)
    if key in NATIVE_WITH_RESOURCE:
        return NATIVE_WITH_RESOURCE[key](node, resource)
    return _evaluate(version, qualified_key, node, fhir_type, resource)


def _evaluate(version: str, qualified_key: str, node: Any, fhir_type: str, resource: dict[str, Any]) -> bool | None:
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
