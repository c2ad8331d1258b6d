"""Inputs a review found to crash the service (HTTP 500), each beside the ordinary input it mutates."""

from __future__ import annotations

import copy
import json

import pytest

from validator import check

from ..conftest import ROOT
from .conftest import MR_VALIDATE, Client, assert_outcome

ORDERS = ROOT / "examples" / "orders"


def _example(name: str) -> dict:
    return json.loads((ORDERS / name).read_text())


def test_an_infinite_pump_rate_is_an_unreadable_dose_not_a_crash(client: Client) -> None:
    order = _example("intrathecal-pump-rate.json")
    assert "dose-unverified" not in {f.rule for f in check(json.dumps(order)).findings}  # the ordinary rate is read
    huge = copy.deepcopy(order)
    huge["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"] = {
        "value": 1e308,
        "unit": "mg/day",
        "system": "http://unitsofmeasure.org",
        "code": "mg/d",
    }
    huge["dosageInstruction"][0].pop("text", None)  # so the rate is the only source of the dose
    assert_outcome(client.post_json(MR_VALIDATE, huge), 200)
    # far beyond any plausible dose: an error (a probable slip), never a pass and never a crash
    assert {"daily-dose-exceeds-maximum", "dose-unverified"} & {f.rule for f in check(json.dumps(huge)).findings}


@pytest.mark.parametrize("frequency", [0, 3])
def test_a_dose_that_overflows_is_never_a_crash(client: Client, frequency: int) -> None:
    order = _example("oral-tablet-tid.json")
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 1e308
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = frequency
    assert_outcome(client.post_json(MR_VALIDATE, order), 200)


@pytest.mark.parametrize("parameter", [5, "mode", {"name": "mode"}, None])
def test_a_parameters_whose_parameter_is_not_a_list_is_a_4xx(client: Client, parameter: object) -> None:
    body = json.dumps({"resourceType": "Parameters", "parameter": parameter, "note": "mode"}).encode()
    response = client.request("POST", MR_VALIDATE, content=body, headers={"content-type": "application/fhir+json"})
    assert 400 <= response.status_code < 500
