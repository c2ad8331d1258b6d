"""Generate validator/conformance/data/ from the official FHIR packages and the UCUM essence (run at dev time only).

    npm pack hl7.fhir.r4.examples@4.0.1   # carries the R4 core StructureDefinitions, ValueSets, CodeSystems
    npm pack hl7.fhir.r5.core@5.0.0
    (unpack each: tar xzf ... ; the files sit in package/)
    ucum-essence.xml from https://github.com/ucum-org/ucum (release 2.2)

    python tools/generate_conformance.py --r4 R4_PACKAGE_DIR --r5 R5_PACKAGE_DIR --ucum ucum-essence.xml

Writes, per FHIR version, one gzipped JSON (`r4.json.gz`, `r5.json.gz`) holding, for the resources medval accepts
(MedicationRequest, Medication, Bundle, Parameters) and every datatype they reach: each element's types,
cardinality, binding and the invariants declared there; the required (and the read extensible) value sets
expanded to code lists; the primitive types' regexes. And `ucum.json`: UCUM prefixes and unit atoms
(case-sensitive codes, with whether each is metric). Nothing here runs in medval itself.
"""

from __future__ import annotations

import argparse
import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOTS = ("MedicationRequest", "Medication", "Bundle", "Parameters")
OUT = Path(__file__).resolve().parents[1] / "validator" / "conformance" / "data"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
BEST_PRACTICE_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
# Non-required bindings worth expanding: the ones medval's clinical layer reads (dose form, route, units).
READ_BINDINGS = ("Medication.form", "Medication.doseForm", "Dosage.route")
# Core profiles of datatypes that elements use by name (Dosage.doseAndRate.doseQuantity is a SimpleQuantity).
PROFILED_TYPES = ("SimpleQuantity",)
CORE = "http://hl7.org/fhir/StructureDefinition/"


def _load_package(folder: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    structures, value_sets, code_systems = {}, {}, {}
    for path in folder.glob("*.json"):
        name = path.name
        if not name.startswith(("StructureDefinition-", "ValueSet-", "CodeSystem-")):
            continue
        resource = json.loads(path.read_text(encoding="utf-8"))
        kind = resource.get("resourceType")
        if kind == "StructureDefinition" and resource.get("kind") != "logical":
            if resource.get("derivation") != "constraint" or resource["id"] in PROFILED_TYPES:
                structures[resource["id"]] = resource
        elif kind == "ValueSet":
            value_sets[resource["url"]] = resource
        elif kind == "CodeSystem":
            code_systems[resource["url"]] = resource
    return structures, value_sets, code_systems


def _codes(concepts: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for concept in concepts:
        out.append(concept["code"])
        out += _codes(concept.get("concept", []))
    return out


def _expand(url: str, value_sets: dict[str, Any], code_systems: dict[str, Any], depth: int = 0) -> list[list[str]] | None:
    """[[system, code], ...] or None when the value set cannot be expanded from the package alone (filters, external)."""
    value_set = value_sets.get(url.split("|")[0])
    if value_set is None or depth > 5:
        return None
    pairs: list[list[str]] = []
    for include in value_set.get("compose", {}).get("include", []):
        if include.get("filter"):
            return None
        system = include.get("system")
        if include.get("concept"):
            pairs += [[system, c["code"]] for c in include["concept"]]
        elif system:
            code_system = code_systems.get(system)
            if code_system is None or code_system.get("content") not in ("complete", None):
                return None
            pairs += [[system, code] for code in _codes(code_system.get("concept", []))]
        for nested in include.get("valueSet", []):
            inner = _expand(nested, value_sets, code_systems, depth + 1)
            if inner is None:
                return None
            pairs += inner
    excluded = {(e.get("system"), c["code"]) for e in value_set.get("compose", {}).get("exclude", []) for c in e.get("concept", [])}
    return [p for p in pairs if tuple(p) not in excluded]


def _type_codes(element: dict[str, Any]) -> list[str]:
    codes = []
    for t in element.get("type", []):
        code = t["code"]
        profiled = [p.rsplit("/", 1)[-1] for p in t.get("profile", []) if p.rsplit("/", 1)[-1] in PROFILED_TYPES]
        if profiled:
            code = profiled[0]
        if code.startswith("http://hl7.org/fhirpath/System."):
            fhir_type = next((e.get("valueUrl") or e.get("valueUri") for e in t.get("extension", []) if e["url"] == FHIR_TYPE_EXT), None)
            code = fhir_type or "string"
        codes.append(code)
    return codes


def _compact_version(folder: Path) -> dict[str, Any]:
    structures, value_sets, code_systems = _load_package(folder)
    types: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    bindings: dict[str, Any] = {}
    primitives: dict[str, str | None] = {}
    pending, seen = list(ROOTS), set()
    while pending:
        name = pending.pop()
        if name in seen or name not in structures:
            continue
        seen.add(name)
        sd = structures[name]
        if sd["kind"] == "primitive-type":
            value = next((e for e in sd["snapshot"]["element"] if e["path"].endswith(".value")), {})
            regex = next((x["valueString"] for t in value.get("type", []) for x in t.get("extension", []) if x["url"] == REGEX_EXT), None)
            primitives[name] = regex
            continue
        elements: dict[str, Any] = {}
        chain, base = {sd["url"]}, sd
        while base.get("baseDefinition"):  # the root also carries the invariants of its bases (dom-*, qty-3 on SimpleQuantity)
            chain.add(base["baseDefinition"])
            base = structures.get(base["baseDefinition"].removeprefix(CORE), {})
        for element in sd["snapshot"]["element"]:
            path = element["path"]
            relative = path.partition(".")[2]
            codes = _type_codes(element)
            pending += [c for c in codes if c not in ("Element", "BackboneElement", "Resource")]
            entry: dict[str, Any] = {"t": codes, "min": element.get("min", 0), "max": element.get("max", "*")}
            if element.get("contentReference"):
                entry["ref"] = element["contentReference"].split("#")[-1].partition(".")[2]
            binding = element.get("binding") or {}
            if binding.get("valueSet") and (binding.get("strength") == "required" or f"{name}.{relative}" in READ_BINDINGS):
                url = binding["valueSet"].split("|")[0]
                entry["b"] = [binding["strength"], url]
                if url not in bindings:
                    bindings[url] = _expand(url, value_sets, code_systems)
            keys = []
            for constraint in element.get("constraint", []):
                source = constraint.get("source", sd["url"])
                if (
                    source not in (chain if not relative else {sd["url"]})
                    or constraint["key"] == "ele-1"
                    or not constraint.get("expression")
                ):
                    continue  # declared on another type (evaluated there) or ele-1 (checked natively, see walker)
                best = any(x["url"] == BEST_PRACTICE_EXT and x.get("valueBoolean") for x in constraint.get("extension", []))
                constraints[f"{name}:{constraint['key']}"] = {
                    "key": constraint["key"],
                    "severity": constraint["severity"],
                    "human": constraint["human"],
                    "expression": constraint["expression"],
                    "best_practice": best,
                }
                keys.append(constraint["key"])
            if keys:
                entry["c"] = keys
            elements[relative] = entry
        types[name] = {"kind": sd["kind"], "base": (sd.get("baseDefinition") or "").rsplit("/", 1)[-1], "elements": elements}
    return {"types": types, "constraints": constraints, "valuesets": bindings, "primitives": primitives}


def _ucum(path: Path) -> dict[str, Any]:
    root = ET.parse(path).getroot()
    strip = lambda tag: tag.rsplit("}", 1)[-1]  # noqa: E731
    prefixes = sorted(el.get("Code") for el in root if strip(el.tag) == "prefix")
    units = {}
    for el in root:
        if strip(el.tag) in ("base-unit", "unit"):
            metric = strip(el.tag) == "base-unit" or el.get("isMetric") == "yes"
            prop = next((strip(p.tag) == "property" and (p.text or "").strip() for p in el if strip(p.tag) == "property"), "")
            units[el.get("Code")] = [metric, prop]
    return {"source": f"ucum-essence.xml version {root.get('version')} ({root.get('revision-date')})", "prefixes": prefixes, "units": units}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--r4", type=Path, required=True, help="unpacked hl7.fhir.r4.examples@4.0.1 package/ folder")
    parser.add_argument("--r5", type=Path, required=True, help="unpacked hl7.fhir.r5.core@5.0.0 package/ folder")
    parser.add_argument("--ucum", type=Path, required=True, help="ucum-essence.xml")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for label, folder, source in (("r4", args.r4, "hl7.fhir.r4.examples@4.0.1"), ("r5", args.r5, "hl7.fhir.r5.core@5.0.0")):
        compact = {"source": source, **_compact_version(folder)}
        text = json.dumps(compact, sort_keys=True, separators=(",", ":")).encode()
        (OUT / f"{label}.json.gz").write_bytes(gzip.compress(text, mtime=0))
        print(f"{label}: {len(compact['types'])} types, {len(compact['constraints'])} invariants, {len(compact['valuesets'])} bindings")
    (OUT / "ucum.json").write_text(json.dumps(_ucum(args.ucum), sort_keys=True, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
