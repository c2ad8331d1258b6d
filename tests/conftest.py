from __future__ import annotations

import atexit
import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from validator.profile import SCHEMA_FILE, ProfileError, load_profiles

ROOT = Path(__file__).resolve().parent.parent
# Every test process (and each `medval serve` it starts) keeps its state in its own scratch folder, never in the checkout.
if "MEDVAL_DATA_DIR" not in os.environ:
    os.environ["MEDVAL_DATA_DIR"] = tempfile.mkdtemp(prefix="medval-test-data-")
    atexit.register(shutil.rmtree, os.environ["MEDVAL_DATA_DIR"], True)
FIXTURES = Path(__file__).resolve().parent / "fixtures"

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def oral_order(dose: float = 10, unit: str = "mg", frequency: int = 3, **overrides: Any) -> dict[str, Any]:
    """A realistic R4 baclofen tablet order: RxNorm SCD, SNOMED oral route, UCUM dose."""
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "oral-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-11-20",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "197391", "display": "baclofen 10 MG Oral Tablet"}],
            "text": "Baclofen 10 mg tablet",
        },
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]},
                "timing": {"repeat": {"frequency": frequency, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}],
            }
        ],
    }
    order.update(overrides)
    return order


def intrathecal_order(daily_ug: float = 400, unit: str = "ug/d", route_code: str = "72607000") -> dict[str, Any]:
    """An intrathecal pump order: contained Medication with a Ratio strength, daily dose in ug/d."""
    return {
        "resourceType": "MedicationRequest",
        "id": "it-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}], "text": "Baclofen intrathecal"},
                "form": {"text": "intrathecal solution"},
                "ingredient": [
                    {
                        "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "1292", "display": "baclofen"}]},
                        "strength": {
                            "numerator": {"value": 2000, "unit": "mcg", "system": UCUM, "code": "ug"},
                            "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"},
                        },
                    }
                ],
            }
        ],
        "medicationReference": {"reference": "#med"},
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": SNOMED, "code": route_code}]},
                "doseAndRate": [{"doseQuantity": {"value": daily_ug, "unit": unit, "system": UCUM, "code": unit}}],
            }
        ],
    }


def rules_of(report_or_findings: Any) -> list[str]:
    findings = getattr(report_or_findings, "findings", report_or_findings)
    return [f.rule for f in findings]


@pytest.fixture
def deep() -> Any:
    return copy.deepcopy


def load_broken_profile(folder: Path, break_it: Any) -> Exception:
    """The ProfileError loading the packaged baclofen profile, changed by `break_it`, from `folder` raises."""
    packaged = ROOT / "validator" / "profiles"
    broken = json.loads((packaged / "baclofen.json").read_text())
    break_it(broken)
    shutil.copy(packaged / SCHEMA_FILE, folder / SCHEMA_FILE)
    (folder / "baclofen.json").write_text(json.dumps(broken))
    with pytest.raises(ProfileError) as caught:
        load_profiles(folder)
    return caught.value
