"""A Bundle's entries: references resolved by fullUrl and type/id, and the patient context they hold."""

from __future__ import annotations

from typing import Any

from ..parse import parse_resource
from . import ContextUnavailable, PatientContext

CONTEXT_TYPES = ("Patient", "Condition", "AllergyIntolerance", "Observation", "MedicationRequest", "MedicationStatement", "Medication")
RECORD_TYPES = ("Patient", "Condition", "AllergyIntolerance", "Observation", "MedicationStatement")  # orders report their own errors


class BundleIndex:
    """Entries by fullUrl and by Type/id; models parsed lazily, once, and only when asked for."""

    def __init__(self, entries: list[Any], version: str, source: str = "bundle") -> None:
        self._version = version
        self.source = source
        self._raw: dict[str, tuple[int, dict[str, Any]]] = {}
        self._models: dict[int, Any] = {}
        self.by_type: dict[str, list[int]] = {}
        self._entries: dict[int, dict[str, Any]] = {}
        self._context: PatientContext | None | bool = False  # False: not built yet
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            resource = entry["resource"]
            kind = resource.get("resourceType")
            if not isinstance(kind, str):
                continue
            self._entries[i] = resource
            self.by_type.setdefault(kind, []).append(i)
            if isinstance(entry.get("fullUrl"), str):
                self._raw[entry["fullUrl"]] = (i, resource)
            if isinstance(resource.get("id"), str):
                self._raw[f"{kind}/{resource['id']}"] = (i, resource)

    def model(self, index: int) -> Any | None:
        if index not in self._models:
            model, _ = parse_resource(self._entries[index], self._version)
            self._models[index] = model
        return self._models[index]

    def resolve(self, reference: str) -> Any | None:
        found = self._raw.get(reference)
        if found is None and "/" in reference:
            tail = "/".join(reference.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
            found = self._raw.get(tail)
        return self.model(found[0]) if found is not None else None

    def context(self) -> PatientContext | ContextUnavailable | None:
        """The patient context the Bundle carries (built once), or None when it carries none.

        Its medications include every order in the Bundle; a rule skips the order it judges by identity.
        """
        if self._context is not False:
            return self._context
        kinds = {k: [self.model(i) for i in idx] for k, idx in self.by_type.items() if k in CONTEXT_TYPES}
        # A record entry that is not valid FHIR is a source that failed, never a silent gap (its checks did not run).
        failures = [
            f"{kind} entry[{i}]: not valid FHIR, left out"
            for kind, idx in self.by_type.items()
            if kind in RECORD_TYPES
            for i in idx
            if self.model(i) is None
        ]
        patients = [p for p in kinds.get("Patient", []) if p is not None]
        distinct = {getattr(p, "id", None) or id(p) for p in patients}
        if len(distinct) > 1:  # records cannot be attributed to one patient: judge none of them against the order
            self._context = ContextUnavailable(
                f"the Bundle holds {len(distinct)} different Patient resources, so its records cannot be attributed to the order's patient",
                configured=True,
            )
            return self._context
        # what the patient has and is: a MedicationStatement is history, not the record the patient checks read
        others = [m for k in ("Condition", "AllergyIntolerance", "Observation") for m in kinds.get(k, []) if m]
        orders = [m for m in kinds.get("MedicationRequest", []) if m is not None]
        statements = [m for m in kinds.get("MedicationStatement", []) if m is not None]
        has_record = bool(patients or others)
        if not has_record and not failures and len(orders) + len(statements) < 2:
            self._context = None
            return None
        self._context = PatientContext(
            source=self.source,
            patient=patients[0] if patients else None,
            conditions=[m for m in kinds.get("Condition", []) if m is not None],
            allergies=[m for m in kinds.get("AllergyIntolerance", []) if m is not None],
            observations=[m for m in kinds.get("Observation", []) if m is not None],
            medications=orders + statements,
            has_record=has_record,
            resolve=self.resolve,
            failures=failures,
        )
        return self._context


def context_from_resources(
    resources: list[dict[str, Any]], version: str = "4.0", source: str = "prefetch", failures: list[str] | None = None
) -> PatientContext | ContextUnavailable | None:
    """The patient context held by loose resources (CDS Hooks prefetch, FHIR server search results).

    Searchset Bundles among them are unpacked; references resolve by Type/id and by fullUrl when given.
    Returns None when the resources hold nothing usable and nothing failed.
    """
    entries: list[dict[str, Any]] = []
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "Bundle":
            entries += [e for e in resource.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        else:
            entries.append({"resource": resource})
    context = BundleIndex(entries, version, source).context()
    if isinstance(context, ContextUnavailable):
        return context
    if context is None and failures:
        context = PatientContext(source=source, has_record=False)
    if context is not None and failures:
        context.failures = list(failures) + context.failures
    return context


def contained_resolver(resource: Any, fallback: Any = None) -> Any:
    """Resolve '#id' against the order's contained resources, anything else through `fallback`."""
    contained = {c.id: c for c in getattr(resource, "contained", None) or [] if getattr(c, "id", None)}

    def resolve(reference: str) -> Any | None:
        if reference.startswith("#"):
            return contained.get(reference[1:])
        return fallback(reference) if fallback is not None else None

    return resolve
