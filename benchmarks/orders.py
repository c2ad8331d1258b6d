"""Realistic inputs for the benchmarks: a ~2 KB baclofen order, Bundles with patient context, NDJSON files."""

from __future__ import annotations

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
    """A Bundle: a Patient, three Conditions, two Observations, a Medication, and n varied orders referencing it by urn:uuid."""
    entries: list[dict[str, Any]] = []
    for resource in _patient_context():
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource})
    med_url = f"urn:uuid:{uuid.uuid4()}"
    entries.append({"fullUrl": med_url, "resource": _medication("med-shared")})
    for n in range(n_orders):
        order = varied_order(n, contained=False, medication_ref=med_url)
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": order})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def write_ndjson(path: Path, n_orders: int) -> int:
    """n varied orders, one per line (no two alike). Returns the file size."""
    data = b"\n".join(orjson.dumps(varied_order(n)) for n in range(n_orders)) + b"\n"
    path.write_bytes(data)
    return len(data)


# Varied orders: every body differs in id, dose, frequency, duration, reason, date and text, so no call can be
# answered from an earlier one (issue 16: benchmarks that cannot be gamed).
_REASONS = [
    ("221360009", "Spasticity"),
    ("24700007", "Multiple sclerosis"),
    ("128188000", "Cerebral palsy"),
    ("90708001", "Kidney disease"),  # outside the indications: exercises the indication path's other branch
]
_FREQUENCIES = (1, 2, 3, 4)
_TABLETS = (0.5, 1, 1.5, 2, 3)
DURATIONS = 180
DISTINCT_TEXTS = len(_TABLETS) * len(_FREQUENCIES) * DURATIONS  # the sig reader keeps readings of texts it has seen


def varied_order(n: int, *, contained: bool = True, medication_ref: str = "#med") -> dict[str, Any]:
    """The realistic order with a dose, frequency, duration, reason, date and text that depend on n."""
    order = realistic_order(n, contained=contained, medication_ref=medication_ref)
    tablets = _TABLETS[n % len(_TABLETS)]
    frequency = _FREQUENCIES[(n // 5) % len(_FREQUENCIES)]
    days = 7 + (n // 20) % DURATIONS  # with the dose and frequency: DISTINCT_TEXTS instruction texts before one repeats
    code, display = _REASONS[(n // 3) % len(_REASONS)]
    dosage = order["dosageInstruction"][0]
    dosage["text"] = f"Take {tablets:g} tablet ({tablets * 10:g} mg) by mouth {frequency} times a day for {days} days"
    dosage["timing"]["repeat"]["frequency"] = frequency
    dosage["timing"]["repeat"]["boundsDuration"]["value"] = days
    dosage["doseAndRate"][0]["doseQuantity"]["value"] = tablets
    order["reasonCode"] = [{"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}]
    order["authoredOn"] = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
    order["dispenseRequest"]["quantity"]["value"] = int(tablets * frequency * days) or 1
    return order


def varied_bodies(count: int, start: int = 0) -> list[bytes]:
    """`count` distinct order bodies."""
    bodies = [orjson.dumps(varied_order(start + n)) for n in range(count)]
    assert len(set(bodies)) == count, "varied orders must all differ"
    return bodies
