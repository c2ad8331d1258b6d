"""bytes | str | dict -> fhir.resources model (R4B for R4, R5), structural errors -> findings.

Nothing here raises on bad input: every problem comes back as a ParseFailure or as
input-invalid findings carrying the FHIRPath of the bad element.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from pydantic import ValidationError

from .findings import Finding, Location, Unavailable, fhirpath
from .messages import say

MAX_DEPTH = 64
R4, R5 = "4.0", "5.0"
ACCEPTED_TYPES = ("MedicationRequest", "Bundle", "Parameters")


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Input that is not a FHIR resource at all (HTTP answers 4xx for these)."""

    message: str
    status: int = 400


def load_json(data: bytes | str | dict[str, Any]) -> dict[str, Any] | ParseFailure:
    """The JSON object, never the caller's own dict when it will need cleaning (see strip_non_finite)."""
    return load_document(data)[0]


def load_document(data: bytes | str | dict[str, Any]) -> tuple[dict[str, Any] | ParseFailure, bool]:
    """load_json, and whether the object may hold NaN or Infinity (False: strip_non_finite has nothing to do).

    orjson refuses NaN and Infinity, so a body it reads is known clean without walking it again.
    """
    non_finite = False
    if isinstance(data, dict):
        non_finite = _has_non_finite(data)
        document: Any = copy.deepcopy(data) if non_finite else data
    else:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
        if not raw.strip():
            return ParseFailure("The body is empty."), False
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # orjson refuses NaN and Infinity; FHIR forbids them too, but they are reported, not refused.
            try:
                document = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                return ParseFailure("The body is not valid UTF-8."), False
            except RecursionError:
                return ParseFailure(f"The JSON is nested deeper than {MAX_DEPTH} levels."), False
            except ValueError as exc:
                return ParseFailure(f"The body is not valid JSON: {exc.args[0] if exc.args else exc}."), False
            non_finite = True  # read by the lenient parser: may hold NaN or Infinity
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "null"
        return ParseFailure(f"The body is a JSON {kind}, not a FHIR resource."), False
    if not _shallow_text(data) and _depth(document) > MAX_DEPTH:
        return ParseFailure(f"The JSON is nested deeper than {MAX_DEPTH} levels."), False
    if not isinstance(document.get("resourceType"), str):
        return ParseFailure("The JSON object has no resourceType, so it is not a FHIR resource."), False
    return document, non_finite


def _shallow_text(data: Any) -> bool:
    """JSON text with no more brackets than MAX_DEPTH cannot nest deeper (one C-speed count instead of a walk)."""
    if isinstance(data, str):
        return data.count("{") + data.count("[") <= MAX_DEPTH
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data) if isinstance(data, memoryview) else data
        return raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH
    return False


def _has_non_finite(node: Any) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        values = current.values() if isinstance(current, dict) else current
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                return True
            if isinstance(value, dict | list):
                stack.append(value)
    return False


def _depth(node: Any, level: int = 1) -> int:
    """Nesting depth of a JSON value, counting stops soon after MAX_DEPTH (a recursive walk: 3x faster than a stack)."""
    deepest = level
    for value in node.values() if isinstance(node, dict) else node:
        if isinstance(value, (dict, list)):  # noqa: UP038 (the tuple form is the faster check)
            if level > MAX_DEPTH:
                return level + 1
            below = _depth(value, level + 1)
            if below > deepest:
                deepest = below
                if deepest > MAX_DEPTH:
                    return deepest
    return deepest


# The check a NaN or Infinity defeats, by the element it sits under; anywhere else it is plain invalid input.
NON_FINITE_DEFEATS = {
    "doseAndRate": "dose-unverified",
    "maxDosePerPeriod": "dose-unverified",
    "maxDosePerAdministration": "dose-unverified",
    "maxDosePerLifetime": "dose-unverified",
    "timing": "frequency-unverified",
}


def strip_non_finite(node: Any, path: Location = ()) -> list[Unavailable]:
    """Remove NaN and +/-Infinity numbers in place; say where each was, as the check it defeats."""
    notes: list[Unavailable] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        where = (*path, key)
        if isinstance(value, float) and not math.isfinite(value):
            if isinstance(node, list):
                node[key] = None
            else:
                del node[key]
            rule = next((NON_FINITE_DEFEATS[step] for step in where if step in NON_FINITE_DEFEATS), "input-invalid")
            notes.append(Unavailable(rule, f"{value} is not a number medval can use", where))
        elif isinstance(value, dict | list):
            notes += strip_non_finite(value, where)
    return notes


def detect_version(resource: dict[str, Any], requested: str | None) -> str:
    if requested:
        return R5 if str(requested).startswith("5") else R4
    if resource.get("resourceType") == "Bundle":
        entries = resource.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner, dict) and inner.get("resourceType") == "MedicationRequest":
                return detect_version(inner, None)
        return R4
    medication = resource.get("medication")
    if isinstance(medication, dict) and ("concept" in medication or "reference" in medication):
        return R5
    return R4


@lru_cache(maxsize=256)
def model_class(resource_type: str, version: str) -> type | None:
    try:
        if version == R5:
            from fhir.resources import get_fhir_model_class
        else:
            from fhir.resources.R4B import get_fhir_model_class
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None


def _steps(loc: tuple[Any, ...]) -> Location:
    """pydantic's error location as FHIR steps (its validator names, such as 'function-after[...]', dropped)."""
    return tuple(part for part in loc if isinstance(part, int) or (isinstance(part, str) and part.replace("_", "").isalnum()))


def parse_resource(resource: dict[str, Any], version: str, location: Location = ()) -> tuple[Any | None, list[Finding]]:
    """Model of one resource, or None with input-invalid findings naming each bad element (under `location`)."""
    cls = model_class(resource.get("resourceType", ""), version)
    if cls is None:
        return None, [say("input.unknown-type", location, kind=resource.get("resourceType"))]
    try:
        return cls.model_validate(resource), []
    except ValidationError as exc:
        findings = []
        for error in exc.errors(include_url=False)[:50]:
            steps = _steps(tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            findings.append(say("input.invalid-element", (*location, *steps), where=fhirpath(steps) or "The resource", problem=message))
        return None, findings
    except KeyError as exc:  # fhir.resources looks a contained resource's type up by name: 'Foo' is no type
        return None, [say("input.unparseable", location, error=f"unknown resource type {exc.args[0] if exc.args else ''}")]
    except (ValueError, TypeError, RecursionError) as exc:
        return None, [say("input.unparseable", location, error=exc)]
