"""Every MedicationRequest in HL7's official R4 and R5 example packages is out of scope, never an error.

The files are vendored from `npm pack hl7.fhir.r4.examples@4.0.1` and `hl7.fhir.r5.examples@5.0.0`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import check, validate

from .conftest import FIXTURES, rules_of

R4 = sorted((FIXTURES / "hl7" / "r4").glob("MedicationRequest-*.json"))
R5 = sorted((FIXTURES / "hl7" / "r5").glob("MedicationRequest-*.json"))


def test_the_packages_are_vendored() -> None:
    assert len(R4) >= 40 and len(R5) >= 44


@pytest.mark.parametrize("path", R4, ids=lambda p: p.stem)
def test_r4_example_is_not_in_scope(path: Path) -> None:
    report = check(path.read_bytes())
    assert report.rejected is None
    assert rules_of(report) == ["not-in-scope"]
    assert validate(path.read_bytes()).issue[0].severity == "information"


@pytest.mark.parametrize("path", R5, ids=lambda p: p.stem)
def test_r5_example_is_not_in_scope(path: Path) -> None:
    report = check(path.read_bytes(), fhir_version="5.0")
    assert report.version == "5.0"
    assert rules_of(report) == ["not-in-scope"]
    # and recognised as R5 by shape alone, where the shape says so
    assert rules_of(check(path.read_bytes())) == ["not-in-scope"]
