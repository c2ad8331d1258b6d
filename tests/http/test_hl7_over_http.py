"""HL7's official R4 examples posted to the service: every one gets a 2xx/4xx OperationOutcome, never a 5xx.

The MedicationRequests and a handful of small Bundles are vendored (tests/fixtures/hl7/r4, r4-bundles, from
hl7.fhir.r4.examples@4.0.1). The full sweep over every Bundle in the package runs when the unpacked package
is at hand: MEDVAL_HL7_R4_DIR, or /work/scratch/r4/package.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from validator.http.app import create_app
from validator.http.settings import Settings

from ..conftest import FIXTURES
from ..test_hl7_examples import R4_INVALID_UCUM
from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE, Client, KeptRecords, assert_outcome, rule_codes

ORDERS = sorted((FIXTURES / "hl7" / "r4").glob("MedicationRequest-*.json"))
BUNDLES = sorted((FIXTURES / "hl7" / "r4-bundles").glob("Bundle-*.json"))
PACKAGE = Path(os.environ.get("MEDVAL_HL7_R4_DIR", "/work/scratch/r4/package"))


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(create_app(Settings()))  # the default 5 MB limit, not the suite's small one


def post(client: Client, path: str, raw: bytes) -> int:
    response = client.request("POST", path, content=raw, headers={"content-type": FHIR_JSON})
    assert response.status_code < 500
    assert_outcome(response, response.status_code)
    return response.status_code


def test_the_fixtures_are_vendored() -> None:
    assert len(ORDERS) >= 40 and len(BUNDLES) >= 10
    assert sum(p.stat().st_size for p in BUNDLES) < 2_000_000


@pytest.mark.parametrize("path", ORDERS, ids=lambda p: p.stem)
def test_r4_medication_request_examples(client: Client, path: Path) -> None:
    response = client.request("POST", MR_VALIDATE, content=path.read_bytes(), headers={"content-type": FHIR_JSON})
    assert_outcome(response, 200)
    if path.stem.removeprefix("MedicationRequest-") in R4_INVALID_UCUM:  # known defects of the 4.0.1 examples
        assert rule_codes(response)[-1] == "not-in-scope" and set(rule_codes(response)[:-1]) == {"input-invalid"}
    else:
        assert rule_codes(response) == ["not-in-scope"]


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_r4_bundle_examples(client: Client, logs: KeptRecords, path: Path) -> None:
    assert post(client, BUNDLE_VALIDATE, path.read_bytes()) == 200
    assert not logs.events("unhandled-exception")


@pytest.mark.skipif(not PACKAGE.is_dir(), reason="the unpacked hl7.fhir.r4.examples package is not at hand (set MEDVAL_HL7_R4_DIR)")
def test_every_bundle_and_order_in_the_r4_package(client: Client, logs: KeptRecords) -> None:
    paths = sorted(PACKAGE.glob("Bundle-*.json")) + sorted(PACKAGE.glob("MedicationRequest-*.json"))
    assert paths
    statuses = {}
    for path in paths:
        endpoint = BUNDLE_VALIDATE if path.name.startswith("Bundle-") else MR_VALIDATE
        statuses[path.name] = post(client, endpoint, path.read_bytes())  # the largest get 413: over 5 MB
    assert set(statuses.values()) <= {200, 413}
    assert not logs.events("unhandled-exception")
