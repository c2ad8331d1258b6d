"""$validate over HTTP: structural issues first, with their own IssueType, beside the clinical findings;
a StructureDefinition from MEDVAL_FHIR_PACKAGES named by ?profile= is checked, not called unsupported."""

from __future__ import annotations

import json
from pathlib import Path

from ..test_conformance import baclofen
from ..test_conformance_profiles import URL, _conforming, packages  # noqa: F401 (pytest fixture)
from .conftest import FHIR_JSON, MR_VALIDATE, Client, assert_outcome


def test_structural_and_clinical_issues_in_one_outcome(client: Client) -> None:
    order = baclofen()
    order["status"] = "bogus"
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "4"
    response = client.request("POST", MR_VALIDATE, content=json.dumps(order), headers={"content-type": FHIR_JSON})
    outcome = assert_outcome(response, 200)
    codes = [(i["details"]["coding"][0]["code"], i["code"], i.get("expression", [""])[0]) for i in outcome["issue"]]
    assert codes[0] == ("input-invalid", "code-invalid", "MedicationRequest.status")
    assert codes[1] == ("input-invalid", "structure", "MedicationRequest.dosageInstruction[0].timing.repeat.frequency")
    assert all(rule != "input-invalid" for rule, _, _ in codes[2:]) and len(codes) > 2
    assert "allowed: active, cancelled" in outcome["issue"][0]["details"]["text"]


def test_profile_query_parameter_names_a_package_profile(client: Client, packages: Path) -> None:  # noqa: F811
    order = _conforming()
    order["intent"] = "plan"
    response = client.request("POST", MR_VALIDATE + "?profile=" + URL, content=json.dumps(order), headers={"content-type": FHIR_JSON})
    outcome = assert_outcome(response, 200)
    structural = [i for i in outcome["issue"] if i["details"]["coding"][0]["code"] == "input-invalid"]
    assert [(i["code"], i["expression"]) for i in structural] == [("value", ["MedicationRequest.intent"])]
    assert not any(i["code"] == "not-supported" for i in outcome["issue"])
