"""Realistic inputs for the benchmarks: a ~2 KB baclofen order, Bundles with patient context, NDJSON files."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import orjson

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _medication(med_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": med_id,
        "code": {
            "coding": [{"system": RXNORM, "code": "197391", "display": "baclofen 10 MG Oral Tablet"}],
            "text": "Baclofen 10 mg oral tablet",
        },
        "status": "active",
        "form": {"coding": [{"system": SNOMED, "code": "421026006", "display": "Oral tablet"}], "text": "tablet"},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}]},
                "isActive": True,
                "strength": {
                    "numerator": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                    "denominator": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                },
            }
        ],
    }


def realistic_order(n: int = 0, *, contained: bool = True, medication_ref: str = "#med") -> dict[str, Any]:
    """An R4 oral baclofen order as an EHR sends it: contained Medication, full dosage, ~2 KB of JSON."""
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"baclofen-{n}",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.1.7.1", "value": f"ORD-{100000 + n}"}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]}],
        "medicationReference": {"reference": medication_ref, "display": "Baclofen 10 mg oral tablet"},
        "subject": {"reference": "Patient/p1", "display": "Alex Example"},
        "authoredOn": "2026-11-20T09:14:00Z",
        "requester": {"reference": "Practitioner/dr-1", "display": "Dr Sam Neuro"},
        "reasonCode": [{"coding": [{"system": SNOMED, "code": "221360009", "display": "Spasticity"}], "text": "Spasticity"}],
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": "Take 1 tablet (10 mg) by mouth three times a day",
                "patientInstruction": "Take with food. Do not stop suddenly.",
                "timing": {
                    "repeat": {
                        "frequency": 3,
                        "period": 1,
                        "periodUnit": "d",
                        "boundsDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"},
                    },
                },
                "asNeededBoolean": False,
                "route": {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}], "text": "by mouth"},
                "doseAndRate": [
                    {
                        "type": {
                            "coding": [
                                {"system": "http://terminology.hl7.org/CodeSystem/dose-rate-type", "code": "ordered", "display": "Ordered"}
                            ]
                        },
                        "doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                    }
                ],
                "maxDosePerPeriod": {
                    "numerator": {"value": 30, "unit": "mg", "system": UCUM, "code": "mg"},
                    "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"},
                },
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 2,
            "quantity": {"value": 90, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        },
    }
    if contained:
        order["contained"] = [_medication("med")]
    return order


def order_bytes(n: int = 0) -> bytes:
    return orjson.dumps(realistic_order(n))


def _patient_context() -> list[dict[str, Any]]:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Example", "given": ["Alex"]}],
        "gender": "female",
        "birthDate": "1971-04-02",
    }
    conditions = [
        ("G80.1", "Spastic diplegic cerebral palsy"),
        ("G35", "Multiple sclerosis"),
        ("I10", "Essential hypertension"),
    ]
    resources: list[dict[str, Any]] = [patient]
    for i, (code, display) in enumerate(conditions):
        resources.append(
            {
                "resourceType": "Condition",
                "id": f"c{i}",
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                "code": {"coding": [{"system": ICD10, "code": code, "display": display}], "text": display},
                "subject": {"reference": "Patient/p1"},
            }
        )
    for i, (code, display, value, unit) in enumerate([("33914-3", "eGFR", 85, "mL/min/{1.73_m2}"), ("2160-0", "Creatinine", 0.9, "mg/dL")]):
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"o{i}",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": "2026-11-01",
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            }
        )
    return resources


def bundle(n_orders: int) -> dict[str, Any]:
    """A Bundle: a Patient, three Conditions, two Observations, a Medication, and n orders referencing it by urn:uuid."""
    entries: list[dict[str, Any]] = []
    for resource in _patient_context():
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource})
    med_url = f"urn:uuid:{uuid.uuid4()}"
    entries.append({"fullUrl": med_url, "resource": _medication("med-shared")})
    template = realistic_order(0, contained=False, medication_ref=med_url)
    for n in range(n_orders):
        order = copy.deepcopy(template)
        order["id"] = f"baclofen-{n}"
        order["identifier"][0]["value"] = f"ORD-{100000 + n}"
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": order})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def write_ndjson(path: Path, n_orders: int) -> int:
    """n orders, one per line; a few doses vary so the answers are not all identical. Returns the file size."""
    base = realistic_order(0)
    lines = []
    for n in range(n_orders):
        order = copy.copy(base)
        order["id"] = f"baclofen-{n}"
        order["identifier"] = [{"system": base["identifier"][0]["system"], "value": f"ORD-{100000 + n}"}]
        lines.append(orjson.dumps(order))
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    return len(data)
