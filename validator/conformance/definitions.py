"""The generated core definitions (data/), compiled once per process into lookups the walker reads.

data/r4.json.gz and data/r5.json.gz come from tools/generate_conformance.py (official packages
hl7.fhir.r4.examples@4.0.1 and hl7.fhir.r5.core@5.0.0); nothing is fetched at run time.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")
INLINE = ("BackboneElement", "Element")  # elements defined in place, their children under the same type
QUANTITY_TYPES = frozenset({"Quantity", "SimpleQuantity", "Duration", "Age", "Distance", "Count", "MoneyQuantity"})


@dataclass(frozen=True, slots=True)
class Binding:
    strength: str
    url: str
    codes: frozenset[str] | None  # None: the value set cannot be expanded from the package (e.g. BCP-13 mime types)


@dataclass(slots=True)
class ElementInfo:
    name: str  # the JSON property, e.g. "asNeededBoolean"
    path: str  # the definition path inside its type, e.g. "dosageInstruction" or "repeat.periodUnit"
    type_code: str
    many: bool
    min: int
    binding: Binding | None = None
    constraints: tuple[str, ...] = ()


@dataclass(slots=True)
class TypeInfo:
    name: str
    kind: str
    # definition path -> JSON property -> element; "" is the type's root
    children: dict[str, dict[str, ElementInfo]] = field(default_factory=dict)
    # definition path -> [(element name as defined, the JSON properties that satisfy it)] for min >= 1
    required: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    # definition path -> [(choice element, its JSON properties)]: at most one of them may be present
    choices: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    root_constraints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str
    best_practice: bool


@dataclass(slots=True)
class Definitions:
    version: str
    types: dict[str, TypeInfo]
    constraints: dict[str, Constraint]  # "Type:key"
    primitives: dict[str, re.Pattern[str] | None]


def _choice_name(base: str, type_code: str) -> str:
    return base + type_code[0].upper() + type_code[1:]


def _compile_type(name: str, raw: dict[str, Any], valuesets: dict[str, Any]) -> TypeInfo:
    info = TypeInfo(name, raw["kind"])
    elements = raw["elements"]
    for path, element in elements.items():
        if not path:
            info.root_constraints = tuple(element.get("c", ()))
            continue
        parent, _, own = path.rpartition(".")
        codes = element["t"] or ["BackboneElement"]  # a contentReference element is defined in place elsewhere
        binding = None
        if "b" in element:
            strength, url = element["b"]
            expanded = valuesets.get(url)
            binding = Binding(strength, url, frozenset(code for _system, code in expanded) if expanded is not None else None)
        kids = info.children.setdefault(parent, {})
        names = []
        for code in codes:
            json_name = _choice_name(own[:-3], "Quantity" if code == "SimpleQuantity" else code) if own.endswith("[x]") else own
            type_code = "id" if (path == "id" and raw["kind"] == "resource") else code
            kids[json_name] = ElementInfo(
                json_name,
                element.get("ref", path),
                type_code,
                element["max"] != "1" and element["max"] != "0",
                element["min"],
                binding,
                tuple(element.get("c", ())),
            )
            names.append(json_name)
        if element["min"] >= 1:
            info.required.setdefault(parent, []).append((own, tuple(names)))
        if own.endswith("[x]") and len(names) > 1:
            info.choices.setdefault(parent, []).append((own, tuple(names)))
    return info


@lru_cache(maxsize=2)
def definitions(version: str) -> Definitions:
    """Compiled once per process and version ("4.0" or "5.0")."""
    label = "r5" if version.startswith("5") else "r4"
    raw = json.loads(gzip.decompress((DATA / f"{label}.json.gz").read_bytes()))
    types = {name: _compile_type(name, t, raw["valuesets"]) for name, t in raw["types"].items()}
    constraints = {k: Constraint(**v) for k, v in raw["constraints"].items()}
    primitives = {name: (re.compile(rx) if rx else None) for name, rx in raw["primitives"].items()}
    return Definitions(label, types, constraints, primitives)


def known_types(version: str) -> frozenset[str]:
    return frozenset(definitions(version).types)
