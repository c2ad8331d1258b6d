"""build_outcome() builds the OperationOutcome without re-validating it: it must equal the validated model."""

from __future__ import annotations

import pytest
from fhir.resources.operationoutcome import OperationOutcome as R5OperationOutcome
from fhir.resources.R4B.operationoutcome import OperationOutcome as R4OperationOutcome

from validator import check, validate
from validator.findings import RULE_CATALOGUE, Finding
from validator.outcome import build_outcome, outcome_dict

from .conftest import intrathecal_order, oral_order

MODELS = {"4.0": R4OperationOutcome, "5.0": R5OperationOutcome}


def _findings() -> list[list[Finding]]:
    every_rule = [
        Finding(code, f"Sentence for {code} with 120 mg.", ("dosageInstruction", i), "a source") for i, code in enumerate(RULE_CATALOGUE)
    ]
    bare = [Finding("no-issues", "Nothing to report.", (), "")]
    raised = [Finding("route-unverified", "Raised.", ("route",), "", "fatal")]
    reports = [check(o).findings for o in (oral_order(), oral_order(dose=60, frequency=4), intrathecal_order(route_code="47625008"))]
    return [every_rule, bare, raised, *reports]


@pytest.mark.parametrize("version", ["4.0", "5.0"])
@pytest.mark.parametrize("findings", _findings())
def test_built_outcome_equals_the_validated_model(findings: list[Finding], version: str) -> None:
    built = build_outcome(findings, version)
    validated = MODELS[version].model_validate(outcome_dict(findings))
    assert type(built) is type(validated)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_dump() == validated.model_dump()
    for ours, theirs in zip(built.issue, validated.issue, strict=True):
        assert type(ours) is type(theirs) and ours.model_fields_set == theirs.model_fields_set
        assert type(ours.details.coding[0]) is type(theirs.details.coding[0])
        assert ours.details.model_fields_set == theirs.details.model_fields_set


def test_the_built_outcome_is_an_ordinary_model() -> None:
    outcome = validate(oral_order(dose=60, frequency=4))
    assert outcome.issue[0].severity == "error"
    outcome.issue[0].diagnostics = "changed"  # assignment still validated and allowed
    assert R4OperationOutcome.model_validate(outcome.model_dump()) == outcome
    again = validate(oral_order(dose=60, frequency=4))
    assert again.issue[0].diagnostics != "changed"  # no model is shared between answers
