"""The CapabilityStatement (FHIR R4) and the OperationDefinitions of the two $validate operations."""

from __future__ import annotations

from typing import Any

CANONICAL_BASE = "https://medval.dev/fhir"
RELEASE_DATE = "2026-11-24"  # a fixed date: the statement describes this software version, not the moment it was asked


def _validate_definition(resource_type: str, summary: str) -> dict[str, Any]:
    op_id = f"{resource_type}-validate"
    return {
        "resourceType": "OperationDefinition",
        "id": op_id,
        "url": f"{CANONICAL_BASE}/OperationDefinition/{op_id}",
        "version": "0.1.0",
        "name": f"{resource_type}Validate",
        "title": f"Validate a {resource_type} against medval's drug profiles",
        "status": "active",
        "kind": "operation",
        "date": RELEASE_DATE,
        "publisher": "medval",
        "description": summary,
        "affectsState": False,
        "code": "validate",
        "base": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
        "resource": [resource_type],
        "system": False,
        "type": True,
        "instance": False,
        "parameter": [
            {
                "name": "resource",
                "use": "in",
                "min": 0,
                "max": "1",
                "documentation": f"The {resource_type} to validate (or send the {resource_type} itself as the body).",
                "type": "Resource",
            },
            {
                "name": "mode",
                "use": "in",
                "min": 0,
                "max": "1",
                "documentation": "create, update, delete or profile (any other value is an error); the same checks run in every mode.",
                "type": "code",
                "binding": {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/resource-validation-mode|4.0.1"},
            },
            {
                "name": "profile",
                "use": "in",
                "min": 0,
                "max": "1",
                "documentation": "A medval drug profile (id or canonical URL); any other is an error (400) naming the known ones.",
                "type": "uri",
            },
            {
                "name": "return",
                "use": "out",
                "min": 1,
                "max": "1",
                "documentation": "The verdict: one issue per finding, each with a medval rule code.",
                "type": "OperationOutcome",
            },
        ],
    }


OPERATION_DEFINITIONS: dict[str, dict[str, Any]] = {
    d["id"]: d
    for d in (
        _validate_definition("MedicationRequest", "Checks one medication order: route, product, dose, frequency and patient context."),
        _validate_definition(
            "Bundle",
            "Checks every MedicationRequest in a Bundle, using the other entries (Patient, Condition, AllergyIntolerance, "
            "Observation, MedicationRequest, MedicationStatement, Medication) as patient context.",
        ),
    )
}


# GET /fhir/AuditEvent (validator/http/audit_events.py): the audit trail, searched by these parameters only.
_AUDIT_EVENT: dict[str, Any] = {
    "type": "AuditEvent",
    "interaction": [{"code": "search-type"}],
    "searchParam": [
        {"name": "date", "type": "date"},
        {"name": "patient", "type": "reference"},
        {"name": "outcome", "type": "token"},
        {"name": "_count", "type": "number"},
    ],
}


def _resource(resource_type: str) -> dict[str, Any]:
    definition = OPERATION_DEFINITIONS[f"{resource_type}-validate"]
    return {"type": resource_type, "operation": [{"name": "validate", "definition": definition["url"]}]}


def capability_statement(version: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "medval",
        "url": f"{CANONICAL_BASE}/CapabilityStatement/medval",
        "version": version,
        "name": "Medval",
        "title": "medval medication-order validator",
        "status": "active",
        "date": RELEASE_DATE,
        "publisher": "medval",
        "description": "Validates FHIR MedicationRequest orders, alone or in Bundles, against drug knowledge profiles.",
        "kind": "instance",
        "software": {"name": "medval", "version": version},
        "implementation": {"description": "medval HTTP service"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "rest": [{"mode": "server", "resource": [_resource("MedicationRequest"), _resource("Bundle"), _AUDIT_EVENT]}],
    }
