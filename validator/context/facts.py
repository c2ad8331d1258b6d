"""Pure functions that turn parsed context resources into the facts rules compare.

Statuses (active, resolved, refuted, entered-in-error), dates (the most recent Observation wins),
units (eGFR in mL/min/1.73 m2 or mL/s), the codes a medication carries (its own code, its
ingredients, a referenced Medication's). No rule logic and no drug knowledge: that comes from the compiled
profile. What a drug's rules derive from these (its history, the origin of the treated condition) is in
validator.therapy.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..normalise.medication import concept_texts, names_drug
from ..normalise.route import normalise_route
from ..profile import ICD10CM_SYSTEM, SNOMED_SYSTEM, CodeGroup, Profile
from ..units import UCUM_ANNOTATION, UREG

# ---------------------------------------------------------------- codes and text


def codings(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in getattr(concept, "coding", None) or [] if c.code]


texts = concept_texts  # one reading of a concept's words, shared with the normalisers


def describe(concept: Any) -> str:
    """What the record calls it: its text, else a display, else system|code."""
    found = texts(concept)
    if found:
        return found[0]
    coded = codings(concept)
    return f"{coded[0][1]}" if coded else "unnamed"


CLINICAL_SYSTEMS = frozenset({SNOMED_SYSTEM, ICD10CM_SYSTEM})


def concept_matches(concept: Any, group: CodeGroup, names: str = "fallback") -> bool:
    """A code in the group, or one of its names in the text.

    names="fallback" (conditions, reasons): names count only when the concept carries no SNOMED CT or
    ICD-10-CM code, so a coded 'heat stroke' is never read as a stroke. names="always" (medications:
    product codes are not ingredient codes, 'oxycodone 5 MG Oral Tablet' is still oxycodone).
    names="never" (coded values such as a pregnancy status, where 'Not pregnant' is text too).
    """
    return Readable(concept).matches(group, names)


class Readable:
    """A concept's codings and texts, read once however many groups it is compared with (first_match takes these too)."""

    __slots__ = ("coded", "_concept", "_texts")

    def __init__(self, concept: Any) -> None:
        self.coded = codings(concept)
        self._concept = concept
        self._texts: list[str] | None = None

    def matches(self, group: CodeGroup, names: str) -> bool:
        return any(group.matches_coding(s, c) for s, c in self.coded) or self.matches_names(group, names)

    def may_use_names(self, names: str) -> bool:
        return names == "always" or (names == "fallback" and not any(s in CLINICAL_SYSTEMS for s, _ in self.coded))

    def matches_names(self, group: CodeGroup, names: str) -> bool:
        if group.names is None or not self.may_use_names(names):
            return False
        if self._texts is None:
            self._texts = texts(self._concept)
        return any(group.matches_text(t) for t in self._texts)


class _GroupIndex:
    """Codes and ICD-10-CM prefixes of a list of groups, by position: one lookup per coding, not one per group."""

    __slots__ = ("groups", "by_code", "by_prefix", "longest_prefix")

    def __init__(self, groups: tuple[CodeGroup, ...]) -> None:
        self.groups = groups
        self.by_code: dict[tuple[str, str], int] = {}
        self.by_prefix: dict[str, int] = {}
        for position, group in enumerate(groups):
            for code in group.codes:
                self.by_code.setdefault(code, position)
            for prefix in group.icd10cm_prefixes:
                self.by_prefix.setdefault(prefix, position)
        self.longest_prefix = max((len(p) for p in self.by_prefix), default=0)

    def first_coded(self, readable: list[Readable]) -> int | None:
        best: int | None = None
        for r in readable:
            for system, code in r.coded:
                hit = self.by_code.get((system, code))
                if hit is None and system == ICD10CM_SYSTEM and self.by_prefix:
                    plain = code.replace(".", "").upper()
                    hits = (self.by_prefix.get(plain[:k]) for k in range(1, min(len(plain), self.longest_prefix) + 1))
                    hit = min((h for h in hits if h is not None), default=None)
                if hit is not None and (best is None or hit < best):
                    best = hit
        return best


_INDEXES: dict[int, _GroupIndex] = {}  # by id() of a profile's group tuple: compiled profiles live as long as the process


def first_match(concepts: Iterable[Any], groups: Iterable[CodeGroup], names: str = "fallback") -> CodeGroup | None:
    """The first of `groups` (in profile order) that any concept matches, by code or (per `names`) by name."""
    readable = [c if isinstance(c, Readable) else Readable(c) for c in concepts if c is not None]
    if not readable:
        return None
    if isinstance(groups, tuple):  # the profile's own tuples: index them once
        index = _INDEXES.get(id(groups))
        if index is None or index.groups is not groups:
            index = _INDEXES[id(groups)] = _GroupIndex(groups)
    else:  # a passing list: never cached, so nothing outlives the call
        groups = tuple(groups)
        index = _GroupIndex(groups)
    coded = index.first_coded(readable)
    if any(r.may_use_names(names) for r in readable):
        for group in groups[: coded if coded is not None else len(groups)]:  # an earlier group matched by name wins
            if any(r.matches_names(group, names) for r in readable):
                return group
    return groups[coded] if coded is not None else None


def status_code(concept: Any) -> str:
    """The code of a status CodeableConcept (R4 clinicalStatus / verificationStatus), or a plain code string."""
    if concept is None:
        return ""
    if isinstance(concept, str):
        return concept
    coded = codings(concept)
    # the HL7 status code system decides; a local coding listed first must not hide it
    hl7 = [c for system, c in coded if system.startswith(("http://terminology.hl7.org/CodeSystem/", "http://hl7.org/fhir/"))]
    return next(iter(hl7 or [c for _, c in coded]), "")


# ---------------------------------------------------------------- dates

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def to_datetime(value: Any) -> datetime | None:
    """Any FHIR date/dateTime/instant value (date, datetime, or a partial 'YYYY[-MM]' string) as an aware UTC datetime.

    None for what cannot be placed in time, including dates at the edge of the calendar (9999-12-31T23:00-05:00).
    """
    try:
        return _to_datetime(value)
    except (OverflowError, ValueError):
        return None


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    match = _PARTIAL.match(str(value).strip())
    if match:
        return datetime(int(match[1]), int(match[2] or 1), int(match[3] or 1), tzinfo=UTC)
    try:
        return to_datetime(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def latest_birth_date(birth_date: Any) -> date | None:
    """The latest day a (possibly partial) birth date can mean: '2014' -> 2014-12-31, so an age is never overstated."""
    match = _PARTIAL.match(str(birth_date).strip()) if birth_date is not None else None
    if match and not match[3]:
        year, month = int(match[1]), int(match[2] or 12)
        return date(year, month, calendar.monthrange(year, month)[1])
    born = to_datetime(birth_date)
    return born.date() if born is not None else None


def age_years(birth_date: Any, on: datetime) -> int | None:
    """Whole years on `on`, or None when there is no usable birth date or it falls after `on`."""
    born = latest_birth_date(birth_date)
    if born is None:
        return None
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return years if years >= 0 else None


def observation_time(observation: Any) -> datetime | None:
    """When the observation applies: effective[x] (the end of a period), else when it was issued."""
    period = getattr(observation, "effectivePeriod", None)
    for value in (
        getattr(observation, "effectiveDateTime", None),
        getattr(observation, "effectiveInstant", None),
        getattr(period, "end", None) if period is not None else None,
        getattr(period, "start", None) if period is not None else None,
        getattr(observation, "issued", None),
    ):
        when = to_datetime(value)
        if when is not None:
            return when
    return None


def order_time(resource: Any) -> datetime | None:
    """When an order was written, or a statement's use began (MedicationStatement)."""
    period = getattr(resource, "effectivePeriod", None)
    for value in (
        getattr(resource, "authoredOn", None),
        getattr(resource, "effectiveDateTime", None),
        getattr(period, "start", None) if period is not None else None,
        getattr(resource, "dateAsserted", None),
    ):
        when = to_datetime(value)
        if when is not None:
            return when
    return None


# ---------------------------------------------------------------- statuses

NOT_REAL = frozenset({"refuted", "entered-in-error"})
OBSERVATION_USABLE = frozenset({"final", "amended", "corrected", "preliminary", "registered"})
MEDICATION_ACTIVE = frozenset({"active", "on-hold", "draft", "intended", "recorded"})
MEDICATION_HISTORY = frozenset({"active", "on-hold", "completed", "stopped", "draft", "intended", "recorded"})


# The clinical-status codes that end a condition or an allergy (HL7 condition-clinical, allergyintolerance-clinical).
CONDITION_OVER = frozenset({"inactive", "remission", "resolved"})
ALLERGY_OVER = frozenset({"inactive", "resolved"})


def condition_active(condition: Any) -> bool:
    """Clinically active (or no status and no abatement) and not refuted or entered in error."""
    if status_code(getattr(condition, "verificationStatus", None)) in NOT_REAL:
        return False
    status = status_code(getattr(condition, "clinicalStatus", None))
    if status:
        # fail safe: only a status that says the condition is over ends it; an unknown code ("Active") counts as active
        return status not in CONDITION_OVER
    abated = any(
        getattr(condition, f, None) is not None for f in ("abatementDateTime", "abatementPeriod", "abatementAge", "abatementString")
    )
    return not abated and not getattr(condition, "abatementBoolean", False)


def allergy_active(allergy: Any) -> bool:
    if status_code(getattr(allergy, "verificationStatus", None)) in NOT_REAL:
        return False
    status = status_code(getattr(allergy, "clinicalStatus", None))
    # fail safe: only inactive or resolved ends an allergy; an unknown code ("Active", a local code) counts as active
    return status not in ALLERGY_OVER


def observation_usable(observation: Any) -> bool:
    return status_code(getattr(observation, "status", None)) in OBSERVATION_USABLE


def medication_active(resource: Any) -> bool:
    return status_code(getattr(resource, "status", None)) in MEDICATION_ACTIVE


# ---------------------------------------------------------------- units

# per 1.73 m2 of body surface, however written: {1.73_m2}, [1.73_m2], 1.73 m2, 1.73m^2, 1.73 m²
_BSA = re.compile(r"/\s*[\[{]?1\.73[ _]?m(?:2|\^2|²)[\]}]?", re.I)


def convert(value: float, unit: str | None, target: str) -> float | None:
    """value in `unit` as `target`; body-surface normalisations (/1.73 m2) and UCUM annotations are set aside."""
    if value is None:
        return None
    if not unit:
        return None

    def clean(u: str) -> str:
        u = _BSA.sub("", u)
        u = UCUM_ANNOTATION.sub("", u).replace("mL", "milliliter").replace("ml", "milliliter").replace("min", "minute")
        return u.strip().rstrip("/")

    try:
        return float((float(value) * UREG.parse_units(clean(unit))).to(UREG.parse_units(clean(target))).magnitude)
    except Exception:  # pint raises several unrelated types for nonsense units
        return None


# ---------------------------------------------------------------- conditions and observations


def active_conditions(context: Any) -> list[Any]:
    return [c for c in getattr(context, "conditions", None) or [] if condition_active(c)]


def _per_context(context: Any, kind: str, groups: tuple[CodeGroup, ...], extra: str, compute: Callable[[], Any]) -> Any:
    """`compute()` once per patient context, not once per order and rule (issue 16: a Bundle's orders share one
    record). Kept in the context's own `derived` memo, so it lives exactly as long as the context; the groups are
    kept beside the answer and compared by identity, and the record's lists by identity and length, so a different
    profile's groups or a record changed after the fact never get a stale answer."""
    memo = getattr(context, "derived", None)
    if not isinstance(memo, dict):
        return compute()
    record = getattr(context, "observations" if kind != "conditions" else "conditions", None)
    key = f"facts:{kind}:{id(groups)}:{extra}"
    held = memo.get(key)
    if held is not None and held[0] is groups and held[1] is record and held[2] == len(record or ()):
        return held[3]
    answer = compute()
    memo[key] = (groups, record, len(record or ()), answer)
    return answer


def matching_conditions(context: Any, groups: Iterable[CodeGroup]) -> list[tuple[Any, CodeGroup]]:
    """Active conditions, each with the first group it belongs to."""
    groups = tuple(groups)  # the profile's own tuple passes through unchanged, so first_match keeps its index
    return list(_per_context(context, "conditions", groups, "", lambda: _matching_conditions(context, groups)))


def _matching_conditions(context: Any, groups: tuple[CodeGroup, ...]) -> tuple[tuple[Any, CodeGroup], ...]:
    found = []
    for condition in active_conditions(context):
        group = first_match([getattr(condition, "code", None)], groups)
        if group is not None:
            found.append((condition, group))
    return tuple(found)


def matching_observations(context: Any, groups: Iterable[CodeGroup]) -> list[tuple[Any, CodeGroup]]:
    """Usable observations whose coded value (e.g. pregnancy status: pregnant) belongs to a group."""
    groups = tuple(groups)  # the profile's own tuple passes through unchanged, so first_match keeps its index
    return list(_per_context(context, "observations", groups, "", lambda: _matching_observations(context, groups)))


def _matching_observations(context: Any, groups: tuple[CodeGroup, ...]) -> tuple[tuple[Any, CodeGroup], ...]:
    found = []
    for observation in getattr(context, "observations", None) or []:
        if not observation_usable(observation):
            continue
        group = first_match([getattr(observation, "valueCodeableConcept", None)], groups, names="never")
        if group is not None:
            found.append((observation, group))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Measurement:
    observation: Any
    group: CodeGroup
    value: float | None  # in the unit asked for; None when the newest value's unit cannot be converted
    when: datetime | None
    unit: str = ""  # as recorded


def latest_measurement(context: Any, groups: Iterable[CodeGroup], unit: str) -> Measurement | None:
    """The most recent usable numeric observation coded in any of the groups, converted to `unit`.

    The newest one decides: when its unit cannot be converted, its value is None (the check did not
    run), never an older value in its place.
    """
    groups = tuple(groups)  # the profile's own tuple passes through unchanged, so first_match keeps its index
    return _per_context(context, "measurement", groups, unit, lambda: _latest_measurement(context, groups, unit))


def _latest_measurement(context: Any, groups: tuple[CodeGroup, ...], unit: str) -> Measurement | None:
    best: Measurement | None = None
    for observation in getattr(context, "observations", None) or []:
        if not observation_usable(observation):
            continue
        group = first_match([getattr(observation, "code", None)], groups, names="fallback")
        quantity = getattr(observation, "valueQuantity", None)
        if group is None or quantity is None or quantity.value is None:
            continue
        when = observation_time(observation)
        if best is None or (when or datetime.min.replace(tzinfo=UTC)) > (best.when or datetime.min.replace(tzinfo=UTC)):
            recorded = quantity.code or quantity.unit or ""
            best = Measurement(observation, group, convert(float(quantity.value), recorded, unit), when, recorded)
    return best


# ---------------------------------------------------------------- medications


def medication_concepts(resource: Any, resolve: Callable[[str], Any] | None) -> list[Any]:
    """The medication's own concept, a referenced (contained or bundled) Medication's code and ingredients."""
    concept = getattr(resource, "medicationCodeableConcept", None)
    reference = getattr(resource, "medicationReference", None)
    r5 = getattr(resource, "medication", None)
    if r5 is not None:
        concept, reference = getattr(r5, "concept", None), getattr(r5, "reference", None)
    concepts = [concept]
    target = getattr(reference, "reference", None) if reference is not None else None
    medication = None
    if target:
        contained = {c.id: c for c in getattr(resource, "contained", None) or [] if getattr(c, "id", None)}
        medication = contained.get(target[1:]) if target.startswith("#") else (resolve(target) if resolve else None)
    if reference is not None and getattr(reference, "display", None):
        concepts.append(_TextConcept(reference.display))
    if medication is not None:
        concepts.append(getattr(medication, "code", None))
        for ingredient in getattr(medication, "ingredient", None) or []:
            item = getattr(ingredient, "item", None)
            concepts.append(getattr(ingredient, "itemCodeableConcept", None) or getattr(item, "concept", None))
    return [c for c in concepts if c is not None]


@dataclass(frozen=True, slots=True)
class _TextConcept:
    text: str
    coding: tuple[()] = ()


def dosages(resource: Any) -> list[Any]:
    return list(getattr(resource, "dosageInstruction", None) or getattr(resource, "dosage", None) or [])


def medication_routes(resource: Any, profile: Profile) -> set[str]:
    """Profile route ids the medication is given by, read as an order's own route is (codes, OID systems, free text)."""
    routes = set()
    for dosage in dosages(resource):
        route = getattr(dosage, "route", None)
        if route is not None and (found := normalise_route(route, None, profile, ()).route) is not None:
            routes.add(found)
    return routes


def is_profile_drug(resource: Any, profile: Profile, resolve: Callable[[str], Any] | None) -> bool:
    return any(names_drug(concept, profile) for concept in medication_concepts(resource, resolve) if concept is not None)


def order_date(order: Any) -> datetime:
    """When the order applies: its authoredOn, else now."""
    return order_time(order.resource) or datetime.now(UTC)
