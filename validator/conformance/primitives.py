"""FHIR JSON primitives on the raw JSON: the JSON type FHIR requires, no empty strings, the type's regex.

Each check returns None when the value is valid, else (IssueType, message). Nothing is coerced:
"4" is not an integer and "true" not a boolean, as in FHIR's JSON format (R4 and R5, section 2.6.2).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

INT32 = 2**31
_NUMBER_TYPES = ("integer", "positiveInt", "unsignedInt", "decimal")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
# FHIR references (R4/R5 Reference.reference and 3.1.3 "Resource references"): a local "#id", a relative
# "Type/id" (with an optional _history version), or an absolute URL / URN of the same shape.
_RELATIVE_REFERENCE = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?")
_ABSOLUTE_REFERENCE = re.compile(r"(https?://\S+/)?[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?")


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def check_primitive(value: Any, type_code: str, pattern: re.Pattern[str] | None) -> tuple[str, str] | None:
    if type_code == "boolean":
        return (
            None
            if isinstance(value, bool)
            else ("structure", f"must be a JSON boolean (true or false), not {json_kind(value)} {_show(value)}")
        )
    if type_code in _NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ("structure", f"must be a JSON number, not {json_kind(value)} {_show(value)}")
        if type_code == "decimal":
            return None
        if isinstance(value, float) and not value.is_integer():
            return ("value", f"must be a whole number for {type_code}, not {value}")
        number = int(value)
        if type_code == "positiveInt" and number < 1:
            return ("value", f"must be at least 1 (positiveInt), not {number}")
        if type_code == "unsignedInt" and number < 0:
            return ("value", f"must not be negative (unsignedInt), not {number}")
        if not -INT32 <= number < INT32:
            return ("value", f"{number} is outside the 32-bit range of {type_code}")
        return None
    if not isinstance(value, str):
        return ("structure", f"must be a JSON string ({type_code}), not {json_kind(value)} {_show(value)}")
    if not value.strip():
        return ("value", "must not be empty or only whitespace" if value else "must not be an empty string")
    if type_code == "xhtml":
        return None
    if pattern is not None and not pattern.fullmatch(value):
        return ("value", f"{value!r} is not a valid {type_code}")
    if type_code in ("date", "dateTime", "instant") and len(value) >= 10 and not _real_date(value[:10]):
        return ("value", f"{value!r} is not a valid {type_code}: no such day")
    return None


def check_reference(value: str) -> str | None:
    """A message when Reference.reference is not a reference FHIR can resolve, else None."""
    if value.startswith("#") or value.startswith(("urn:uuid:", "urn:oid:")):
        return None if " " not in value else f"the reference {value!r} contains a space"
    if _RELATIVE_REFERENCE.fullmatch(value) or _ABSOLUTE_REFERENCE.fullmatch(value):
        return None
    if _ABSOLUTE_URI.fullmatch(value):  # another absolute URL (a logical or canonical one): allowed, not resolvable here
        return None
    return f"the reference {value!r} is neither a relative reference (Type/id), an absolute URL, nor a local '#id'"


def check_absolute_uri(value: str) -> str | None:
    return None if _ABSOLUTE_URI.fullmatch(value) else f"{value!r} is not an absolute URI (a code system is named by its URI)"


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else ""
    return text if len(text) <= 40 else text[:37] + "..."
