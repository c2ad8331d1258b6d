"""Every MedicationRequest in HL7's official R4 and R5 example packages is out of scope, never an error.

The files are vendored from `npm pack hl7.fhir.r4.examples@4.0.1` and `hl7.fhir.r5.examples@5.0.0`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import check, validate

from .conftest import FIXTURES, rules_of

R4 = sorted((FIXTURES / "hl7" / "r4").glob("MedicationRequest-*.json"))
# The R4 examples whose doseQuantity (or strength) claims UCUM with a code UCUM does not have. Each one is
# corrected in the R5 package (mcg -> ug, mEq -> meq, ml/hr -> mL/h, drop/ea -> v3-orderableDrugForm), so
# these are defects of the 4.0.1 examples: reported as warnings (never silent), and no structural error, since the
# official examples are valid by definition (tests/test_conformance.py holds the R5 ones clean).
R4_INVALID_UCUM = {"medrx0304": "drop", "medrx0314": "mcg", "medrx0319": "ml/hr", "medrx0322": "mEq"}
R4_INVALID_UCUM |= {name: "ea" for name in ("medrx0325", "medrx0326", "medrx0328", "medrx0329", "medrx0334", "medrx0335")}
R5 = sorted((FIXTURES / "hl7" / "r5").glob("MedicationRequest-*.json"))


def test_the_packages_are_vendored() -> None:
    assert len(R4) >= 40 and len(R5) >= 44


@pytest.mark.parametrize("path", R4, ids=lambda p: p.stem)
def test_r4_example_is_not_in_scope(path: Path) -> None:
    report = check(path.read_bytes())
    assert report.rejected is None
    bad_unit = R4_INVALID_UCUM.get(path.stem.removeprefix("MedicationRequest-"))
    if bad_unit is None:
        assert rules_of(report) == ["not-in-scope"]
        assert validate(path.read_bytes()).issue[0].severity == "information"
    else:
        structural = [f for f in report.findings if f.rule == "input-invalid"]
        assert structural and all(f.issue_type == "code-invalid" and f"'{bad_unit}' is not a valid UCUM code" in f.text for f in structural)
        assert {f.severity for f in structural} == {"warning"}
        assert [f.rule for f in report.findings if f.rule != "input-invalid"] == ["not-in-scope"]


@pytest.mark.parametrize("path", R5, ids=lambda p: p.stem)
def test_r5_example_is_not_in_scope(path: Path) -> None:
    report = check(path.read_bytes(), fhir_version="5.0")
    assert report.version == "5.0"
    structural = [f for f in report.findings if f.rule == "input-invalid"]
    # medrx004 codes its route in a vendor's own code system: a warning (the code cannot be validated), no error
    assert [(f.severity, f.issue_type) for f in structural] == ([("warning", "code-invalid")] if path.stem.endswith("medrx004") else [])
    assert [f.rule for f in report.findings if f.rule != "input-invalid"] == ["not-in-scope"]
    # and recognised as R5 by shape alone, where the shape says so
    assert [r for r in rules_of(check(path.read_bytes())) if r != "input-invalid"] == ["not-in-scope"]
