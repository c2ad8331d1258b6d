"""Profiles named by $validate's `profile`: StructureDefinitions from a FHIR package folder (MEDVAL_FHIR_PACKAGES).

The folder holds unpacked npm packages (each with package/*.json) or loose JSON StructureDefinitions and
ValueSets; it is read once per process. From a profile's snapshot this checks cardinality, fixed[x] and
pattern[x] values, required bindings whose value set the folder (or the core) expands, and reports
must-support elements the instance leaves out (information). Slicing and type profiles on references are
not evaluated (reported once, as information, when the profile has slices).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from .definitions import definitions
from .walker import Location, StructuralIssue

CORE = "http://hl7.org/fhir/StructureDefinition/"
ENV = "MEDVAL_FHIR_PACKAGES"


@lru_cache(maxsize=4)
def _load(folder: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    structures: dict[str, dict[str, Any]] = {}
    value_sets: dict[str, dict[str, Any]] = {}
    if not folder or not Path(folder).is_dir():
        return structures, value_sets
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # package.json, .index.json and the like are no resources; an unreadable file is skipped
        if not isinstance(resource, dict) or not isinstance(resource.get("url"), str):
            continue
        if resource.get("resourceType") == "StructureDefinition" and resource.get("snapshot"):
            structures[resource["url"]] = resource
        elif resource.get("resourceType") == "ValueSet":
            value_sets[resource["url"]] = resource
    return structures, value_sets


def known_structure_definitions(folder: str | None = None) -> dict[str, str]:
    """Canonical URL -> resource type of every profile $validate can check: the folder's and the core types'."""
    structures, _ = _load(folder if folder is not None else os.environ.get(ENV, ""))
    known = {f"{CORE}{name}": name for name in ("MedicationRequest", "Medication", "Bundle", "Parameters")}
    known.update({url: sd.get("type", "") for url, sd in structures.items()})
    return known


def check_profile(resource: dict[str, Any], url: str, version: str = "4.0", folder: str | None = None) -> list[StructuralIssue]:
    """Issues of `resource` against the profile `url` (locations from the resource root). An unknown profile is an error."""
    structures, value_sets = _load(folder if folder is not None else os.environ.get(ENV, ""))
    canonical = url.split("|")[0]
    if canonical.startswith(CORE) and canonical.removeprefix(CORE) == resource.get("resourceType"):
        return []  # the core definition: the core check already ran
    profile = structures.get(canonical)
    if profile is None:
        return [StructuralIssue((), "error", "not-found", f"the profile {url!r} is not known to this server (not in {ENV})")]
    if profile.get("type") != resource.get("resourceType"):
        return [
            StructuralIssue(
                (), "error", "structure", f"the profile {url!r} is for {profile.get('type')}, not {resource.get('resourceType')}"
            )
        ]
    issues: list[StructuralIssue] = []
    sliced = False
    for element in profile["snapshot"]["element"]:
        if "sliceName" in element or ":" in element.get("id", ""):
            sliced = True
            continue
        steps = element["path"].split(".")[1:]
        if not steps:
            continue
        parents = _values(resource, steps[:-1], ())
        for parent_location, parent in parents:
            if not isinstance(parent, dict):
                continue
            found = _values(parent, steps[-1:], parent_location)
            _cardinality(element, steps[-1], found, parent_location, issues)
            for location, value in found:
                _fixed_and_pattern(element, value, location, issues)
                _binding(element, value, location, value_sets, version, issues)
        if (
            element.get("mustSupport")
            and not _values(resource, steps, ())
            and all(_values(resource, steps[:i], ()) for i in range(len(steps)))
        ):
            issues.append(
                StructuralIssue(tuple(steps), "information", "informational", f"{element['path']} is must-support in {url} and not given")
            )
    if sliced:
        issues.append(
            StructuralIssue((), "information", "not-supported", f"the slices of {url} were not checked (medval does not evaluate slicing)")
        )
    return issues


def _values(node: Any, steps: list[str], location: Location) -> list[tuple[Location, Any]]:
    current: list[tuple[Location, Any]] = [(location, node)]
    for step in steps:
        nxt: list[tuple[Location, Any]] = []
        for where, value in current:
            if not isinstance(value, dict):
                continue
            keys = (
                [k for k in value if k.startswith(step[:-3]) and k[len(step) - 3 : len(step) - 2].isupper()]
                if step.endswith("[x]")
                else [step]
            )
            for key in keys:
                if key not in value:
                    continue
                item = value[key]
                if isinstance(item, list):
                    nxt += [(where + (key, i), v) for i, v in enumerate(item)]
                else:
                    nxt.append((where + (key,), item))
        current = nxt
    return current


def _cardinality(element: dict[str, Any], name: str, found: list[Any], parent: Location, issues: list[StructuralIssue]) -> None:
    low, high = element.get("min", 0), element.get("max", "*")
    if len(found) < low:
        issues.append(
            StructuralIssue(
                parent + (name.removesuffix("[x]"),),
                "error",
                "required",
                f"{element['path']}: minimum required = {low}, but only found {len(found)}",
            )
        )
    if high != "*" and len(found) > int(high):
        issues.append(
            StructuralIssue(
                parent + (name.removesuffix("[x]"),),
                "error",
                "structure",
                f"{element['path']}: maximum allowed = {high}, but found {len(found)}",
            )
        )


def _fixed_and_pattern(element: dict[str, Any], value: Any, location: Location, issues: list[StructuralIssue]) -> None:
    for key, expected in element.items():
        if key.startswith("fixed") and value != expected:
            issues.append(
                StructuralIssue(location, "error", "value", f"{element['path']}: the value must be exactly {json.dumps(expected)}")
            )
        elif key.startswith("pattern") and not _matches(value, expected):
            issues.append(
                StructuralIssue(location, "error", "value", f"{element['path']}: the value must match the pattern {json.dumps(expected)}")
            )


def _matches(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(value.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches(item, p) for item in value) for p in pattern)
    return value == pattern


def _binding(
    element: dict[str, Any], value: Any, location: Location, value_sets: dict[str, Any], version: str, issues: list[StructuralIssue]
) -> None:
    binding = element.get("binding") or {}
    if binding.get("strength") != "required" or not binding.get("valueSet"):
        return
    codes = _codes(binding["valueSet"].split("|")[0], value_sets, version)
    if codes is None:
        return
    given = [value] if isinstance(value, str) else [c.get("code") for c in value.get("coding", [])] if isinstance(value, dict) else []
    if isinstance(value, dict) and "code" in value and "coding" not in value:
        given = [value.get("code")]
    if given and not any(code in codes for code in given):
        issues.append(
            StructuralIssue(
                location, "error", "code-invalid", f"{element['path']}: {given[0]!r} is not in the required value set {binding['valueSet']}"
            )
        )


def _codes(url: str, value_sets: dict[str, Any], version: str) -> frozenset[str] | None:
    value_set = value_sets.get(url)
    if value_set is not None:
        includes = value_set.get("compose", {}).get("include", [])
        if includes and all(inc.get("concept") and not inc.get("filter") for inc in includes):
            return frozenset(c["code"] for inc in includes for c in inc["concept"])
        return None
    for info in definitions(version).types.values():  # a core value set the core definitions already expanded
        for kids in info.children.values():
            for element in kids.values():
                if element.binding and element.binding.url == url:
                    return element.binding.codes
    return None
