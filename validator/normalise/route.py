"""Dosage.route (any coding or text) -> one of the profile's routes, inferred from the form, or unknown."""

from __future__ import annotations

from typing import Any

from ..profile import Profile
from .types import RouteFacts

# Code systems whose every code is a route of administration: a code from one of these that
# the profile does not list is a real route the drug is not given by, not an unreadable one.
ROUTE_SYSTEMS = frozenset(
    {
        "http://snomed.info/sct",
        "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
        "urn:oid:2.16.840.1.113883.5.112",
        "http://standardterms.edqm.eu",
    }
)

# The same code systems under their OIDs (HL7 v2/CDA-derived feeds send these): read as the canonical URL.
SYSTEM_ALIASES = {
    "urn:oid:2.16.840.1.113883.5.112": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
    "urn:oid:2.16.840.1.113883.6.96": "http://snomed.info/sct",
}


def _phrase_match(text: str, profile: Profile) -> str | None:
    lowered = " ".join(text.lower().split())
    if lowered in profile.route_by_text:
        return profile.route_by_text[lowered]
    if profile.route_phrase_index is not None:  # longer phrases inside free text ("intrathecal via pump"), in one pass
        return profile.route_phrase_index.best(lowered)
    for pattern, route in profile.route_phrases:
        if pattern.search(lowered):
            return route
    return None


def normalise_route(concept: Any, form: str | None, profile: Profile, expression: str) -> RouteFacts:
    where = f"{expression}.route"
    if concept is not None:
        written = concept.text or ""
        unlisted = False
        for coding in concept.coding or []:
            written = written or coding.display or coding.code or ""
            system = SYSTEM_ALIASES.get(coding.system or "", coding.system or "")
            key = (system, coding.code or "")
            if key in profile.route_by_code:
                return RouteFacts(profile.route_by_code[key], written, False, False, where)
            if system in ROUTE_SYSTEMS and coding.code:
                unlisted = True
            elif coding.code and not coding.system and coding.code.lower() in profile.route_by_text:
                return RouteFacts(profile.route_by_text[coding.code.lower()], written, False, False, where)
        for text in [concept.text] + [c.display for c in concept.coding or []]:
            if text and (route := _phrase_match(text, profile)):
                return RouteFacts(route, written, False, False, where)
        if unlisted or written:
            return RouteFacts(None, written, False, unlisted, where)
    if form is not None:
        routes = profile.forms[form].routes
        if len(routes) == 1:
            return RouteFacts(routes[0], "", True, False, expression)
    return RouteFacts(None, "", False, False, where if concept is not None else expression)
