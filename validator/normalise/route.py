"""Dosage.route (any coding or text) -> one of the profile's routes, inferred from the form, or unknown."""

from __future__ import annotations

from typing import Any

from ..profile import Profile
from .sig import read_sig
from .types import Location, RouteFacts

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


def normalise_route(concept: Any, form: str | None, profile: Profile, expression: Location) -> RouteFacts:
    where = (*expression, "route")
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
            elif coding.code and system not in ROUTE_SYSTEMS and coding.code.lower() in profile.route_by_text:
                # no system, or a vendor's own: its code is only meaningful as the word it is ("PO", "IT")
                return RouteFacts(profile.route_by_text[coding.code.lower()], written, False, False, where)
        texts = [t for t in [concept.text] + [c.display for c in concept.coding or []] if t]
        for text in texts:
            if route := _phrase_match(text, profile):
                return RouteFacts(route, written, False, False, where)
        for text in texts:  # "per G-tube", "via PEG": the sig reader's route words, when the profile has that route
            read = read_sig(text).route
            if read is not None and read in profile.routes:
                return RouteFacts(read, written, False, False, where)
        if unlisted or written:
            return RouteFacts(None, written, False, unlisted, where)
    if form is not None:
        routes = profile.forms[form].routes
        if len(routes) == 1:
            return RouteFacts(routes[0], "", True, False, expression)
    return RouteFacts(None, "", False, False, where if concept is not None else expression)
