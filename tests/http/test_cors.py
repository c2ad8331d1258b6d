"""CORS: off by default; with MEDVAL_CORS_ORIGINS, the CDS Hooks sandbox's origin gets preflights answered as the CDS
Hooks specification expects, and an origin not listed gets no CORS headers at all.
"""

from __future__ import annotations

import json

import pytest

from validator.http.app import create_app
from validator.http.cors import parse_origins
from validator.http.settings import HttpSettings, Settings

from ..conftest import ROOT, oral_order
from .conftest import MR_VALIDATE, Client

SANDBOX = "https://sandbox.cds-hooks.org"
HOOK = json.loads((ROOT / "examples" / "cds-hooks" / "order-sign-oral-over-maximum.json").read_text())


@pytest.fixture(scope="module")
def with_cors() -> Client:
    return Client(create_app(Settings(http=HttpSettings(cors_origins=f"{SANDBOX}, https://ehr.hospital.example/"))))


def _preflight(client: Client, path: str, origin: str, method: str = "POST") -> object:
    headers = {"origin": origin, "access-control-request-method": method, "access-control-request-headers": "authorization, content-type"}
    return client.request("OPTIONS", path, headers=headers)


def test_origins_are_read_from_a_comma_list() -> None:
    assert parse_origins(" https://a.example/, https://b.example ,,") == ["https://a.example", "https://b.example"]
    assert HttpSettings(_env_file=None).cors_origins == ""


@pytest.mark.parametrize("path", ["/cds-services", "/cds-services/medval-order-sign", MR_VALIDATE, "/fhir/metadata"])
def test_the_sandbox_preflight_is_answered_as_cds_hooks_expects(with_cors: Client, path: str) -> None:
    response = _preflight(with_cors, path, SANDBOX)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SANDBOX
    assert response.headers["access-control-allow-credentials"] == "true"
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} == {"GET", "POST", "OPTIONS"}
    assert {"authorization", "content-type"} <= {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}


def test_the_sandbox_gets_cards_with_cors_headers(with_cors: Client) -> None:
    response = with_cors.request("POST", "/cds-services/medval-order-sign", json=HOOK, headers={"origin": SANDBOX})
    assert response.status_code == 200 and response.json()["cards"]
    assert response.headers["access-control-allow-origin"] == SANDBOX
    assert "Location" in response.headers["access-control-expose-headers"]
    discovery = with_cors.get("/cds-services", headers={"origin": SANDBOX})
    assert discovery.headers["access-control-allow-origin"] == SANDBOX
    validated = with_cors.request("POST", MR_VALIDATE, json=oral_order(), headers={"origin": "https://ehr.hospital.example"})
    assert validated.headers["access-control-allow-origin"] == "https://ehr.hospital.example"


def test_an_origin_not_listed_gets_no_cors_headers(with_cors: Client) -> None:
    preflight = _preflight(with_cors, "/cds-services/medval-order-sign", "https://evil.example")
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    call = with_cors.request("POST", "/cds-services/medval-order-sign", json=HOOK, headers={"origin": "https://evil.example"})
    assert call.status_code == 200 and "access-control-allow-origin" not in call.headers  # the browser withholds it


def test_the_page_and_health_are_not_cors_enabled(with_cors: Client) -> None:
    for path in ("/", "/health", "/docs"):
        assert "access-control-allow-origin" not in with_cors.get(path, headers={"origin": SANDBOX}).headers


def test_cors_is_off_by_default(client: Client) -> None:
    preflight = _preflight(client, "/cds-services/medval-order-sign", SANDBOX)
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 204 and "POST" in preflight.headers["allow"]  # a plain OPTIONS answer, no CORS
    assert "access-control-allow-origin" not in client.get("/cds-services", headers={"origin": SANDBOX}).headers
