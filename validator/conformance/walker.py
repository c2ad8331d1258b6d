"""One walk over the raw JSON of a resource, guided by the compiled core definitions.

At each element: is it defined here, is it an array exactly when it may repeat, is its JSON the primitive
FHIR requires, is a required binding kept, are its type's invariants true; at each object: are the
required elements there. Values found meaningless are recorded as untrusted (the clinical layer then
treats them as absent). Only what is present is visited, so a small order costs a small walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import invariants
from .definitions import INLINE, QUANTITY_TYPES, Definitions, ElementInfo, TypeInfo, definitions
from .primitives import check_absolute_uri, check_primitive, check_reference
from .ucum import UcumError, atoms_of

Location = tuple[str | int, ...]
UCUM = "http://unitsofmeasure.org"
# Elements the clinical layer reads as an amount of drug: their UCUM units must name one.
DOSE_PATHS = frozenset({"doseAndRate.dose[x]", "maxDosePerAdministration", "maxDosePerLifetime", "doseAndRate.rate[x]", "maxDosePerPeriod"})
# "length" for doses per body surface area (mg/m2)
DOSE_PROPERTIES = frozenset(
    {"mass", "volume", "amount of substance", "number", "fraction", "arbitrary", "catalytic activity", "time", "length", ""}
)


# Code systems FHIR names for medication data (FHIR R4/R5 "Using Codes", terminologies-systems.html), and the
# HL7 namespaces. A coding medval reads (route, dose form, dose unit) from another system gets a
# warning, as the HL7 validator warns that it cannot validate a code from a code system it does not know.
KNOWN_SYSTEMS = frozenset(
    {
        "http://snomed.info/sct",
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "http://hl7.org/fhir/sid/ndc",
        "http://unitsofmeasure.org",
        "http://standardterms.edqm.eu",
        "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
        "http://www.whocc.no/atc",
        "https://dmd.nhs.uk",
        "http://loinc.org",
    }
)
KNOWN_SYSTEM_PREFIXES = ("http://terminology.hl7.org/CodeSystem/", "http://hl7.org/fhir/", "urn:oid:")
READ_CONCEPTS = frozenset({("Dosage", "route"), ("Medication", "form"), ("Medication", "doseForm")})  # route and dose form


@dataclass(frozen=True, slots=True)
class StructuralIssue:
    location: Location  # steps from the checked resource's root, e.g. ("dosageInstruction", 0, "route")
    severity: str  # error | warning | information
    issue_type: str  # FHIR IssueType: structure, code-invalid, invariant, value, required
    message: str
    key: str = ""  # the invariant key, when an invariant failed


@dataclass(slots=True)
class Walk:
    defs: Definitions
    root: dict[str, Any]
    issues: list[StructuralIssue] = field(default_factory=list)
    untrusted: set[Location] = field(default_factory=set)
    unchecked: list[Location] = field(default_factory=list)  # resources of a type with no loaded definition
    envelope_only: bool = False  # a Parameters checked without the resources it carries (they are checked on their own)
    root_view: dict[str, Any] | None = None  # the Bundle root as its invariants read it: built once, not once per entry

    def report(self, location: Location, issue_type: str, message: str, severity: str = "error", *, untrust: bool = True) -> None:
        self.issues.append(StructuralIssue(location, severity, issue_type, message))
        if untrust and severity == "error":
            self.untrusted.add(location)

    # -- resources and objects ---------------------------------------------------------------------------

    def resource(self, node: Any, location: Location) -> None:
        if not isinstance(node, dict):
            self.report(location, "structure", "must be a JSON object holding a resource")
            return
        kind = node.get("resourceType")
        info = self.defs.types.get(kind) if isinstance(kind, str) else None
        if info is None or info.kind != "resource":
            if not isinstance(kind, str):
                self.report(location, "structure", "a resource needs a resourceType")
            else:
                self.unchecked.append(location)
            return
        self.object(node, info, "", location, node, kind)

    def object(self, node: dict[str, Any], info: TypeInfo, path: str, location: Location, resource: dict[str, Any], fhir_type: str) -> None:
        children = info.children.get(path, {})
        if not node or (len(node) == 1 and "resourceType" in node):
            self.report(location, "structure", "ele-1: All FHIR elements must have a @value or children (the object is empty)")
            return
        for key, value in node.items():
            if key == "resourceType" and not path and info.kind == "resource":
                continue
            if key.startswith("_") and key[1:] in children:
                self.primitive_extension(value, children[key[1:]], node.get(key[1:]), location + (key,), resource)
                continue
            element = children.get(key)
            if element is None:
                self.report(location + (key,), "structure", f"unrecognised property {key!r}" + _defined_here(children))
                continue
            self.element(value, element, info, location + (key,), resource, node.get("_" + key))
        for defined, names in info.choices.get(path, ()):
            given = [name for name in names if name in node]
            if len(given) > 1:
                self.report(location + (given[1],), "structure", f"{defined} takes one type only, but {', '.join(given)} are all given")
        for defined, names in info.required.get(path, ()):
            if not any(name in node or "_" + name in node for name in names):
                self.report(
                    location + (defined.removesuffix("[x]"),), "required", f"{defined} is required (minimum 1) but missing", untrust=False
                )
        keys = info.root_constraints if not path else ()
        if keys:
            self.invariants(node, info.name, keys, location, resource, fhir_type)

    def element(
        self, value: Any, element: ElementInfo, owner: TypeInfo, location: Location, resource: dict[str, Any], companion: Any
    ) -> None:
        if element.many:
            if not isinstance(value, list):
                self.report(location, "structure", "must be a JSON array (the element may repeat)")
                return
            if not value:
                self.report(location, "structure", "an array must not be empty (leave the property out instead)")
                return
            for i, item in enumerate(value):
                if item is None:
                    extended = isinstance(companion, list) and i < len(companion) and isinstance(companion[i], dict)
                    if not extended or element.type_code[0].isupper():
                        self.report(location + (i,), "structure", "null is not allowed in an array (outside the _element pattern)")
                    continue
                self.value(item, element, owner, location + (i,), resource)
        elif isinstance(value, list):
            self.report(location, "structure", "must not be an array (the element does not repeat)")
        elif value is None:
            self.report(location, "structure", "must not be null (leave the property out instead)")
        else:
            self.value(value, element, owner, location, resource)

    def value(self, value: Any, element: ElementInfo, owner: TypeInfo, location: Location, resource: dict[str, Any]) -> None:
        code = element.type_code
        if code in self.defs.primitives:
            problem = check_primitive(value, code, self.defs.primitives[code])
            if problem:
                self.report(location, problem[0], problem[1])
                return
            self.binding(value, element, location)
            if element.path == "reference" and owner.name == "Reference":
                message = check_reference(value)
                if message:
                    self.report(location, "value", message)
            elif element.path == "system" and (owner.name in ("Coding", "Identifier") or owner.name in QUANTITY_TYPES):
                message = check_absolute_uri(value)
                if message:
                    self.report(location, "value", message)
            elif element.path == "entry.fullUrl" and owner.name == "Bundle" and check_absolute_uri(value):
                self.report(location, "value", f"the fullUrl must be an absolute URL, not {value!r}")
            return
        if not isinstance(value, dict):
            self.report(location, "structure", f"must be a JSON object ({code}), not a JSON {type(value).__name__}")
            return
        if code == "Resource":
            if not (self.envelope_only and owner.name == "Parameters"):
                self.resource(value, location)
        elif code in INLINE:
            self.object(value, owner, element.path, location, resource, f"{owner.name}.{element.path}")
            constraints = element.constraints
            if constraints:
                self.invariants(value, owner.name, constraints, location, resource, f"{owner.name}.{element.path}")
        elif code in self.defs.types:
            self.object(value, self.defs.types[code], "", location, resource, code)
            if code == "CodeableConcept" and (owner.name, element.path) in READ_CONCEPTS:
                codings = value.get("coding")
                for i, coding in enumerate(codings if isinstance(codings, list) else []):
                    if isinstance(coding, dict):
                        self.known_system(coding.get("system"), location + ("coding", i, "system"))
            if code in QUANTITY_TYPES:
                self.ucum(value, location, dose=owner.name == "Dosage" and element.path in DOSE_PATHS)
        # a datatype with no definition loaded (none among the types medval accepts) is left to the parser

    def primitive_extension(self, value: Any, element: ElementInfo, primitive: Any, location: Location, resource: dict[str, Any]) -> None:
        element_type = self.defs.types.get("Extension")
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) != element.many or (isinstance(primitive, list) and len(primitive) != len(items)):
            self.report(
                location, "structure", "the _element companion must match its primitive (an object, or an array of the same length)"
            )
            return
        for i, item in enumerate(items):
            where = location + (i,) if element.many else location
            if item is None:
                continue
            if not isinstance(item, dict):
                self.report(where, "structure", "must be a JSON object holding id and extension")
                continue
            for key in item:
                if key not in ("id", "extension"):
                    self.report(where + (key,), "structure", f"unrecognised property {key!r} (an _element holds only id and extension)")
            extensions = item.get("extension")
            if element_type is not None and isinstance(extensions, list):
                for j, extension in enumerate(extensions):
                    if isinstance(extension, dict):
                        self.object(extension, element_type, "", where + ("extension", j), resource, "Extension")

    # -- bindings, units, invariants -----------------------------------------------------------------------

    def binding(self, value: str, element: ElementInfo, location: Location) -> None:
        binding = element.binding
        if binding is None or binding.codes is None or binding.strength != "required" or value in binding.codes:
            return
        allowed = ", ".join(sorted(binding.codes)) if len(binding.codes) <= 30 else f"{len(binding.codes)} codes"
        self.report(location, "code-invalid", f"{value!r} is not in the required value set {binding.url} (allowed: {allowed})")

    def known_system(self, system: Any, location: Location) -> None:
        if isinstance(system, str) and system.strip() and system not in KNOWN_SYSTEMS and not system.startswith(KNOWN_SYSTEM_PREFIXES):
            message = f"the code system {system!r} is not one medval knows, so the code cannot be validated or read"
            self.report(location, "code-invalid", message, "warning")

    def ucum(self, quantity: dict[str, Any], location: Location, dose: bool) -> None:
        code, system = quantity.get("code"), quantity.get("system")
        if dose:
            self.known_system(system, location + ("system",))
        if system != UCUM or not isinstance(code, str) or not code.strip():
            return
        try:
            properties = atoms_of(code)
        except UcumError as exc:
            # a warning, as the R4 examples need (HL7's own write mcg, mEq, tbl under UCUM): reported, never silent,
            # while the clinical layer still reads the amount from the unit's spelling where it can (units.py)
            message = f"{code!r} is not a valid UCUM code: {exc}; medval reads the unit by its spelling where it can"
            self.report(location + ("code",), "code-invalid", message, "warning")
            return
        if dose:
            odd = sorted({p for p in properties if p not in DOSE_PROPERTIES})
            if odd:
                self.report(
                    location + ("code",),
                    "code-invalid",
                    f"the UCUM code {code!r} is a unit of {', '.join(odd)}, not an amount of a medicine",
                    "warning",  # as for an invalid code: reported, and the spelling is read where it can be (MG as mg)
                )

    def invariants(
        self, node: dict[str, Any], type_name: str, keys: tuple[str, ...], location: Location, resource: dict[str, Any], fhir_type: str
    ) -> None:
        if type_name == "Bundle":
            at_root = node is resource
            node = _bundle_view(node)
            if at_root:
                resource = node
            else:  # every entry's invariants read the same root: one view of it per walk (it was quadratic in entries)
                if self.root_view is None or resource is not self.root:
                    self.root_view = _bundle_view(resource) if resource is self.root else None
                resource = self.root_view if self.root_view is not None else _bundle_view(resource)
        if not node.get("contained"):  # dom-2..dom-5 are all about contained resources: true when there are none
            keys = tuple(k for k in keys if k not in ("dom-2", "dom-3", "dom-4", "dom-5"))
        for constraint, verdict in invariants.evaluate_node(self.defs.version, type_name, keys, node, fhir_type, resource):
            if verdict is False:
                severity = "error" if constraint.severity == "error" else "warning"
                message = f"{constraint.key}: {constraint.human}"
                self.issues.append(StructuralIssue(location, severity, "invariant", message, constraint.key))
            elif verdict is None:
                message = f"{constraint.key} could not be evaluated here"
                self.issues.append(StructuralIssue(location, "information", "invariant", message, constraint.key))


def _resource_stub(resource: Any) -> Any:
    if not isinstance(resource, dict):
        return resource
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    stub = {"resourceType": resource.get("resourceType"), "id": resource.get("id")}
    return stub | {"meta": {"versionId": version}} if version is not None else stub


def _bundle_view(node: dict[str, Any]) -> dict[str, Any]:
    """The Bundle (or entry) as its invariants read it: each entry's resource reduced to its type, id and meta.versionId.

    The bdl-* invariants of R4 and R5 read no more of an entry's resource (is(), exists(), meta.versionId); the
    resources themselves are walked on their own. Without this each Bundle invariant walked every resource, and
    no verdict could be reused.
    """
    if "resource" in node and "resourceType" not in node:  # an entry
        return node | {"resource": _resource_stub(node["resource"])}
    entries = node.get("entry")
    if node.get("resourceType") != "Bundle" or not isinstance(entries, list):
        return node
    return node | {
        "entry": [e | {"resource": _resource_stub(e["resource"])} if isinstance(e, dict) and "resource" in e else e for e in entries]
    }


def _defined_here(children: dict[str, ElementInfo]) -> str:
    return "" if len(children) > 40 else f" (expected one of: {', '.join(sorted(children))})"


def walk(resource: dict[str, Any], version: str, envelope_only: bool = False) -> Walk:
    run = Walk(definitions(version), resource, envelope_only=envelope_only)
    run.resource(resource, ())
    return run
