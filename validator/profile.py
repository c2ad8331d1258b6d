"""Load drug profiles (validator/profiles/*.json), check them against the JSON Schema, compile lookups once.

The profiles ship inside the package (read with importlib.resources, so a wheel install works);
MEDVAL_PROFILE_DIR (or `medval --profiles DIR`) names a folder whose profiles are added, or replace
a packaged profile with the same id: the edges read it (ProfileSettings, in the settings tree and the CLI) and
pass the profiles down; the library itself reads no environment. A profile that breaks the schema stops the program with a
ProfileError naming the file and the field. Nothing in this module knows any particular drug.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import orjson
from pydantic_settings import BaseSettings, SettingsConfigDict

from .disk_cache import cache_file
from .lazy_module import lazy_module
from .profile_therapy import AdjustmentLimits, AgeBandLimit, AnswerList, ScreeningSequence, compile_answer_lists, compile_therapy_dosing
from .profile_values import Limit, ProfileError, Range
from .textmatch import PhraseIndex
from .units import UnitKind, mass_factor, parse_unit

# jsonschema (~15 % of start-up) is loaded only when a profile is checked that the cache has not seen pass.
jsonschema = lazy_module("jsonschema")

PACKAGED_PROFILES: Traversable = files("validator") / "profiles"
SCHEMA_FILE = "profile.schema.json"
PROFILE_DIR_VARIABLE = "MEDVAL_PROFILE_DIR"


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    display: str
    permitted: bool
    source: str
    reason: str = ""
    verifiable: bool = True  # False: the sources mention the route but give nothing to check an order against
    unverifiable_reason: str = ""
    codings: tuple[tuple[str, str, str], ...] = ()  # (system, code, display) as the profile lists them

    def coding(self, prefer_systems: list[str]) -> dict[str, str] | None:
        """A FHIR Coding for this route, in the first of `prefer_systems` the profile has a code in."""
        ranked = sorted(self.codings, key=lambda c: prefer_systems.index(c[0]) if c[0] in prefer_systems else len(prefer_systems))
        if not ranked:
            return None
        system, code, display = ranked[0]
        return {"system": system, "code": code, **({"display": display} if display else {})}


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    display: str
    routes: tuple[str, ...]
    presentation: str  # "unit" (counted: tablet, packet) or "liquid" (measured by volume)
    source: str


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    form: str
    display: str  # "10 mg/20 mL"
    mg_per_unit: float | None  # countable forms
    mg_per_ml: float | None  # liquids
    source: str


@dataclass(slots=True)
class RouteDosing:
    unit: str  # the unit doses on this route are written and reported in ("mg", "ug")
    maximum_daily: Limit | None = None
    usual_daily: Range | None = None
    usual_daily_by_origin: dict[str, Range] = field(default_factory=dict)
    plausible_daily: Range | None = None
    starting_single: Limit | None = None
    starting_times_per_day: float | None = None
    titration_interval_days: Limit | None = None
    screening_bolus: Limit | None = None
    maintenance_from_screening_factor: Limit | None = None
    adjustment_percent_by_origin: dict[str, Range] = field(default_factory=dict)
    discontinuation_warning: str = ""
    discontinuation_source: str = ""
    discontinuation_severity: str = ""  # "error" for a boxed warning; empty: the catalogue floor
    # therapy over time (validator/profile_therapy.py); masses in mg like every other dose here
    titration_max_step_daily: Limit | None = None  # largest labelled increase of the daily dose per titration interval
    maximum_single: Limit | None = None  # of the labelled maximum regimen
    maximum_times_per_day: float | None = None
    taper_minimum_days: Limit | None = None  # shortest taper from a running dose to zero
    maximum_daily_by_age: tuple[AgeBandLimit, ...] = ()
    screening: ScreeningSequence | None = None
    implant_same_dose_if_effect_over_hours: Limit | None = None
    implant_no_increase_first_hours: Limit | None = None
    maintenance_adjustment_percent_by_origin: dict[str, AdjustmentLimits] = field(default_factory=dict)


SNOMED_SYSTEM = "http://snomed.info/sct"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC_SYSTEM = "http://loinc.org"


@dataclass(frozen=True, slots=True)
class CodeGroup:
    """A clinical concept as real systems code it: SNOMED CT / RxNorm / LOINC codes, ICD-10-CM prefixes, names."""

    id: str
    display: str
    codes: frozenset[tuple[str, str]]  # (system, code)
    icd10cm_prefixes: tuple[str, ...]  # upper case, without the dot ("G35" matches G35, G35.A, G35D)
    names: re.Pattern[str] | None  # whole-word, case-insensitive
    source: str

    def matches_coding(self, system: str, code: str) -> bool:
        if (system, code) in self.codes:
            return True
        return system == ICD10CM_SYSTEM and code.replace(".", "").upper().startswith(self.icd10cm_prefixes)

    def matches_text(self, text: str) -> bool:
        return self.names is not None and bool(self.names.search(text))


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A context rule: fires when one of its groups is found (condition, reason, medication...)."""

    rule: str
    groups: tuple[CodeGroup, ...]
    text: str
    source: str
    order_routes: tuple[str, ...] = ()  # only for orders on these routes (empty: any)
    medication_routes: tuple[str, ...] = ()  # only for other medications given on these routes
    condition_groups: tuple[CodeGroup, ...] = ()  # also fires on these conditions (e.g. alcohol use)


@dataclass(frozen=True, slots=True)
class FunctionTest:
    groups: tuple[CodeGroup, ...]
    below: float  # in `unit`
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class ContextKnowledge:
    groups: dict[str, CodeGroup]
    renal_conditions: GroupRule | None
    renal_tests: tuple[FunctionTest, ...]
    pregnancy: GroupRule | None
    lactation: GroupRule | None
    hypersensitivity: GroupRule | None  # groups empty: the drug's own codes and names
    conditions: tuple[GroupRule, ...]
    indications: tuple[GroupRule, ...]
    interactions: tuple[GroupRule, ...]
    origin: dict[str, tuple[CodeGroup, ...]]  # origin kind (the profile's own names) -> condition groups
    origin_label: str  # what the origin is of, for sentences ("spasticity")
    origin_source: str
    answer_lists: dict[str, AnswerList] = field(default_factory=dict)  # coded observation answers by meaning

    @property
    def observation_codes(self) -> list[str]:
        """Every LOINC code the rules read from Observations (for server searches)."""
        return sorted({c for g in self.groups.values() for s, c in g.codes if s == LOINC_SYSTEM and not c.startswith("LA")})


EMPTY_CONTEXT = ContextKnowledge({}, None, (), None, None, None, (), (), (), {}, "", "")


def _names_pattern(names: list[str]) -> re.Pattern[str] | None:
    if not names:
        return None
    ordered = sorted({n.lower() for n in names}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in ordered) + r")(?![\w-])", re.I)


def _compile_group(group_id: str, node: dict[str, Any]) -> CodeGroup:
    codes = {(SNOMED_SYSTEM, e["code"]) for e in node.get("snomed", [])}
    codes |= {(RXNORM_SYSTEM, e["code"]) for e in node.get("rxnorm_ingredients", [])}
    codes |= {(LOINC_SYSTEM, e["code"]) for e in node.get("loinc", [])}
    prefixes = tuple(e["prefix"].replace(".", "").upper() for e in node.get("icd10cm_prefixes", []))
    return CodeGroup(group_id, node["display"], frozenset(codes), prefixes, _names_pattern(node.get("names", [])), _source(node))


def _compile_context(node: dict[str, Any] | None) -> ContextKnowledge:
    if not node:
        return EMPTY_CONTEXT
    groups = {k: _compile_group(k, v) for k, v in node["groups"].items()}

    def pick(ids: list[str], where: str) -> tuple[CodeGroup, ...]:
        missing = [i for i in ids if i not in groups]
        if missing:
            raise ProfileError(f"{where}: unknown group {missing[0]!r}")
        return tuple(groups[i] for i in ids)

    def group_rule(entry: dict[str, Any] | None, rule: str, where: str) -> GroupRule | None:
        if entry is None:
            return None
        return GroupRule(
            entry.get("rule", rule),
            pick(entry.get("groups", []), f"{where}.groups"),
            entry["text"],
            _source(entry),
            tuple(entry.get("order_routes", [])),
            tuple(entry.get("medication_routes", [])),
            pick(entry.get("condition_groups", []), f"{where}.condition_groups"),
        )

    renal = node.get("renal")
    renal_rule = None
    tests: list[FunctionTest] = []
    if renal is not None:
        renal_rule = GroupRule(
            "renal-impairment", pick(renal.get("condition_groups", []), "context.renal.condition_groups"), renal["text"], _source(renal)
        )
        for i, t in enumerate(renal.get("function_tests", [])):
            below = t["below"]
            tests.append(
                FunctionTest(
                    pick(t["groups"], f"context.renal.function_tests[{i}].groups"), float(below["value"]), below["unit"], _source(below)
                )
            )
    origin = node.get("origin", {})
    return ContextKnowledge(
        groups=groups,
        renal_conditions=renal_rule,
        renal_tests=tuple(tests),
        pregnancy=group_rule(node.get("pregnancy"), "pregnancy", "context.pregnancy"),
        lactation=group_rule(node.get("lactation"), "lactation", "context.lactation"),
        hypersensitivity=group_rule(node.get("hypersensitivity"), "hypersensitivity", "context.hypersensitivity"),
        conditions=tuple(group_rule(e, "", f"context.conditions[{i}]") for i, e in enumerate(node.get("conditions", []))),
        indications=tuple(group_rule(e, "", f"context.indications[{i}]") for i, e in enumerate(node.get("indications", []))),
        interactions=tuple(group_rule(e, "", f"context.interactions[{i}]") for i, e in enumerate(node.get("interactions", []))),
        origin={k: pick(v, f"context.origin.kinds.{k}") for k, v in origin.get("kinds", {}).items()},
        origin_label=origin.get("label", ""),
        origin_source=_source(origin),
        answer_lists=compile_answer_lists(node.get("answer_lists")),
    )


@dataclass(slots=True)
class Profile:
    id: str
    version: str
    title: str
    path: Path
    raw: dict[str, Any]
    drug_display: str
    routes: dict[str, Route]
    forms: dict[str, Form]
    products: list[Product]
    dosing: dict[str, RouteDosing]
    severity: dict[str, str]
    minimum_age: Limit | None
    # compiled lookups
    drug_codes: frozenset[tuple[str, str]]
    product_by_code: dict[tuple[str, str], Product]
    name_pattern: re.Pattern[str]
    route_by_code: dict[tuple[str, str], str]
    route_by_text: dict[str, str]
    form_by_code: dict[tuple[str, str], str]
    form_text: list[tuple[re.Pattern[str], str]]  # (whole-word phrase, form id), longest phrase first
    route_phrases: list[tuple[re.Pattern[str], str]]  # route phrases of 4+ letters, for free text; longest first
    count_units: frozenset[str]
    context: ContextKnowledge = EMPTY_CONTEXT
    minimum_age_by_route: dict[str, Limit] = field(default_factory=dict)
    route_phrase_index: PhraseIndex | None = None  # route_phrases in one pass over the text (linear: issue 13)

    @property
    def label(self) -> str:
        return f"medval {self.id} profile {self.version}"

    def minimum_age_for(self, route: str | None) -> Limit | None:
        """The route's own minimum age when the profile gives one, else the profile-wide one."""
        return self.minimum_age_by_route.get(route or "", self.minimum_age)


def _whole_words(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])")


def _source(node: dict[str, Any]) -> str:
    return node.get("source", "")


def _mass_mg(quantity: dict[str, Any], where: str) -> float:
    try:
        return float(quantity["value"]) * mass_factor(quantity["unit"])
    except (KeyError, ValueError) as exc:
        raise ProfileError(f"{where}: {exc}") from None


def _range(node: dict[str, Any] | None, unit: str) -> Range | None:
    if node is None:
        return None
    factor = mass_factor(unit)
    return Range(node["low"] * factor, node["high"] * factor, _source(node))


def _limit_mass(node: dict[str, Any] | None, unit: str) -> Limit | None:
    if node is None:
        return None
    return Limit(node["value"] * mass_factor(unit), _source(node))


def _plain_limit(node: dict[str, Any] | None) -> Limit | None:
    return None if node is None else Limit(float(node["value"]), _source(node))


def _compile_product(entry: dict[str, Any], forms: dict[str, Form], count_units: frozenset[str], where: str) -> Product:
    form = forms.get(entry["form"])
    if form is None:
        raise ProfileError(f"{where}.form: unknown form {entry['form']!r}")
    mg = _mass_mg(entry["strength"], f"{where}.strength")
    per = entry["per"]
    per_unit = parse_unit(per["unit"], count_units)
    if per_unit is None:
        raise ProfileError(f"{where}.per.unit: unknown unit {per['unit']!r}")
    amount = float(per["value"]) * per_unit.factor
    if per_unit.kind is UnitKind.VOLUME:
        mg_per_unit, mg_per_ml = None, mg / amount
    elif per_unit.kind is UnitKind.COUNT:
        mg_per_unit, mg_per_ml = mg / amount, None
    else:
        raise ProfileError(f"{where}.per.unit: {per['unit']!r} is neither a volume nor a unit of presentation")
    return Product(entry["id"], form.id, entry["display"], mg_per_unit, mg_per_ml, _source(entry))


def _schema() -> dict[str, Any]:
    return orjson.loads((PACKAGED_PROFILES / SCHEMA_FILE).read_bytes())


def _schema_checked_marker(data: Any, schema: dict[str, Any]) -> Path | None:
    """Where a passed schema check of exactly this profile against exactly this schema is remembered: checking
    costs ~100 ms per process start, and the profile files rarely change (keyed by the content's hash)."""
    digest = hashlib.sha256(orjson.dumps([schema, data], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return cache_file(f"profile-schema-ok-{digest}")


def _check_schema(data: Any, path: Path, schema: dict[str, Any]) -> None:
    marker = _schema_checked_marker(data, schema)
    if marker is not None and marker.is_file():
        return
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ProfileError(f"{path.name}: {where}: {first.message}{more}")
    if marker is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs the next start the check
            marker.touch()


def compile_profile(data: dict[str, Any], path: Path, schema: dict[str, Any] | None = None) -> Profile:
    """Check one profile document against the schema and build its lookups."""
    _check_schema(data, path, schema or _schema())
    try:
        return _compile(data, path)
    except ProfileError as exc:
        raise ProfileError(f"{path.name}: {exc}") from None


def _compile(data: dict[str, Any], path: Path) -> Profile:
    drug = data["drug"]
    codes = {(c["system"], c["code"]) for c in drug["codes"]}
    names = [n.lower() for n in drug["names"] + drug.get("brands", [])]
    name_pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b", re.I)

    routes: dict[str, Route] = {}
    route_by_code: dict[tuple[str, str], str] = {}
    route_by_text: dict[str, str] = {}
    for i, r in enumerate(data["routes"]):
        if r["id"] in routes:
            raise ProfileError(f"routes[{i}].id: duplicate route {r['id']!r}")
        codings = tuple((c["system"], c["code"], c.get("display", "")) for c in r.get("codes", []) if c.get("system") and c.get("code"))
        routes[r["id"]] = Route(
            r["id"],
            r["display"],
            r["permitted"],
            _source(r),
            r.get("reason", ""),
            r.get("verifiable", True),
            r.get("unverifiable_reason", ""),
            codings,
        )
        for c in r.get("codes", []):
            route_by_code[(c["system"], c["code"])] = r["id"]
            route_by_text.setdefault(c["code"].lower(), r["id"])
            if c.get("display"):
                route_by_text.setdefault(c["display"].lower(), r["id"])
        for t in r.get("text", []):
            route_by_text[t.lower()] = r["id"]

    forms: dict[str, Form] = {}
    form_by_code: dict[tuple[str, str], str] = {}
    form_text: list[tuple[str, str]] = []
    for i, f in enumerate(data["forms"]):
        unknown = [r for r in f["routes"] if r not in routes]
        if unknown:
            raise ProfileError(f"forms[{i}].routes: unknown route {unknown[0]!r}")
        forms[f["id"]] = Form(f["id"], f["display"], tuple(f["routes"]), f["presentation"], _source(f))
        for c in f.get("codes", []):
            form_by_code[(c["system"], c["code"])] = f["id"]
        form_text += [(t.lower(), f["id"]) for t in f.get("text", [])]
    form_text.sort(key=lambda pair: len(pair[0]), reverse=True)
    # short codes like "IT" or "PO" only ever match a whole text; longer phrases also inside free text
    phrase_items = [(t, r) for t, r in sorted(route_by_text.items(), key=lambda kv: -len(kv[0])) if len(t) >= 4]
    route_phrases = [(_whole_words(t), r) for t, r in phrase_items]
    count_units = frozenset(u.lower() for f in data["forms"] for u in f.get("unit_names", []))

    products = [_compile_product(p, forms, count_units, f"catalogue[{i}]") for i, p in enumerate(data["catalogue"])]
    product_by_code: dict[tuple[str, str], Product] = {}
    for entry, product in zip(data["catalogue"], products, strict=True):
        for c in entry.get("codes", []):
            product_by_code[(c["system"], c["code"])] = product
            codes.add((c["system"], c["code"]))

    dosing: dict[str, RouteDosing] = {}
    blocks = data.get("dosing", {})
    for route_id, d in sorted(blocks.items(), key=lambda kv: "same_as" in kv[1]):
        if route_id not in routes:
            raise ProfileError(f"dosing.{route_id}: unknown route")
        if "same_as" in d:
            if d["same_as"] not in dosing:
                raise ProfileError(f"dosing.{route_id}.same_as: {d['same_as']!r} has no dosing of its own")
            dosing[route_id] = dosing[d["same_as"]]
            continue
        unit = d["unit"]
        try:
            mass_factor(unit)
        except ValueError:
            raise ProfileError(f"dosing.{route_id}.unit: {unit!r} is not a mass unit") from None
        starting = d.get("starting")
        titration = d.get("titration")
        discontinuation = d.get("discontinuation", {})
        dosing[route_id] = RouteDosing(
            unit=unit,
            maximum_daily=_limit_mass(d.get("maximum_daily"), unit),
            usual_daily=_range(d.get("usual_daily"), unit),
            usual_daily_by_origin={k: _range(v, unit) for k, v in d.get("usual_daily_by_origin", {}).items()},
            plausible_daily=_range(d.get("plausible_daily"), unit),
            starting_single=_limit_mass(starting and {"value": starting["single"], "source": _source(starting)}, unit),
            starting_times_per_day=starting and float(starting["times_per_day"]),
            titration_interval_days=_plain_limit(titration and {"value": titration["interval_days"], "source": _source(titration)}),
            screening_bolus=_limit_mass(d.get("screening_bolus"), unit),
            maintenance_from_screening_factor=_plain_limit(d.get("maintenance_from_screening_factor")),
            adjustment_percent_by_origin={
                k: Range(float(v["low"]), float(v["high"]), _source(v)) for k, v in d.get("daily_adjustment_percent_by_origin", {}).items()
            },
            discontinuation_warning=discontinuation.get("warning", ""),
            discontinuation_source=_source(discontinuation),
            discontinuation_severity=discontinuation.get("severity", ""),
            **compile_therapy_dosing(d, unit, f"dosing.{route_id}"),
        )

    population = data.get("population", {})
    ages_by_route = population.get("minimum_age_by_route", {})
    unknown_routes = [r for r in ages_by_route if r not in routes]
    if unknown_routes:
        raise ProfileError(f"population.minimum_age_by_route.{unknown_routes[0]}: unknown route")
    return Profile(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        path=path,
        raw=data,
        drug_display=drug["names"][0],
        routes=routes,
        forms=forms,
        products=products,
        dosing=dosing,
        severity=dict(data.get("severity", {})),
        minimum_age=_plain_limit(population.get("minimum_age_years")),
        drug_codes=frozenset(codes),
        product_by_code=product_by_code,
        name_pattern=name_pattern,
        route_by_code=route_by_code,
        route_by_text=route_by_text,
        form_by_code=form_by_code,
        form_text=[(_whole_words(phrase), form) for phrase, form in form_text],
        route_phrases=route_phrases,
        route_phrase_index=PhraseIndex(phrase_items),
        count_units=count_units,
        context=_compile_context(data.get("context")),
        minimum_age_by_route={r: _plain_limit(v) for r, v in ages_by_route.items()},
    )


@dataclass(slots=True)
class ProfileSet:
    """Every loaded profile, with the cross-profile lookups used to pick one for an order."""

    profiles: list[Profile]

    def by_code(self, system: str | None, code: str | None) -> Profile | None:
        for p in self.profiles:
            if (system or "", code or "") in p.drug_codes:
                return p
        return None

    def by_text(self, text: str | None) -> Profile | None:
        if not text:
            return None
        for p in self.profiles:
            if p.name_pattern.search(text):
                return p
        return None


def _read_folder(folder: Traversable) -> list[Profile]:
    """Every profile in one folder, each checked against the folder's own schema file or else the packaged one."""
    schema_file = folder / SCHEMA_FILE
    schema = orjson.loads(schema_file.read_bytes()) if schema_file.is_file() else _schema()
    profiles = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name == SCHEMA_FILE or not entry.is_file():
            continue
        try:
            data = orjson.loads(entry.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ProfileError(f"{entry.name}: not valid JSON: {exc}") from None
        profiles.append(compile_profile(data, Path(str(entry)), schema))
    return profiles


def load_profiles(directory: Path | str | None = None) -> ProfileSet:
    """The profiles of one folder only (default: the packaged ones)."""
    folder: Traversable = Path(directory) if directory else PACKAGED_PROFILES
    profiles = _read_folder(folder)
    if not profiles:
        raise ProfileError(f"no profiles found in {folder}")
    return ProfileSet(profiles)


def load_profiles_with_overrides(extra_dirs: str | None) -> ProfileSet:
    """The packaged profiles, then each folder of `extra_dirs` (os.pathsep-separated): same id replaces, new id adds."""
    by_id = {p.id: p for p in _read_folder(PACKAGED_PROFILES)}
    for name in (extra_dirs or "").split(os.pathsep):
        if not name.strip():
            continue
        folder = Path(name.strip())
        if not folder.is_dir():
            raise ProfileError(f"{PROFILE_DIR_VARIABLE}: {folder} is not a folder")
        added = _read_folder(folder)
        if not added:
            raise ProfileError(f"no profiles found in {folder} ({PROFILE_DIR_VARIABLE})")
        by_id.update((p.id, p) for p in added)
    if not by_id:
        raise ProfileError("no profiles found")
    return ProfileSet(list(by_id.values()))


@lru_cache(maxsize=8)
def _cached_profiles(directory: str | None, extra_dirs: str | None) -> ProfileSet:
    return load_profiles(directory) if directory else load_profiles_with_overrides(extra_dirs)


def default_profiles(directory: str | None = None, extra_dirs: str | None = None) -> ProfileSet:
    """Profiles loaded and compiled once per process: one folder's, else the packaged ones with those of
    `extra_dirs` (os.pathsep-separated) added or replacing. Reads no environment (ProfileSettings does, at the edge)."""
    return _cached_profiles(directory, None if directory else extra_dirs)


class ProfileSettings(BaseSettings):
    """Which profiles the edges load: MEDVAL_PROFILE_DIR, read when an edge builds Settings (or the CLI starts)."""

    model_config = SettingsConfigDict(env_prefix="MEDVAL_", extra="ignore")

    profile_dir: str | None = None  # os.pathsep-separated folders, added to or replacing the packaged profiles

    def load(self) -> ProfileSet:
        return default_profiles(extra_dirs=self.profile_dir or None)
