"""The web edge without a browser: the page and its examples ship in the package, /docs needs no internet, and the
OpenAPI description carries realistic request examples (copies of examples/) for every operation that takes a body.
"""

from __future__ import annotations

import json
import re

import pytest

from validator.http.web import EXAMPLES_DIR, packaged_examples

from ..conftest import ROOT
from .conftest import Client


def test_the_packaged_examples_are_the_repository_examples() -> None:
    for path in EXAMPLES_DIR.glob("*.json"):
        folder, name = path.stem.split("_", 1)
        assert path.read_bytes() == (ROOT / "examples" / folder / f"{name}.json").read_bytes(), path.name


def test_the_page_is_served_with_a_strict_content_security_policy(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in re.findall(r'(?:src|href)="(/web/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200
    assert not re.search(r'(?:src|href)="https?://', page.text)  # nothing from the internet


def test_the_example_list_and_each_example(client: Client) -> None:
    listed = client.get("/examples").json()["examples"]
    names = {e["name"] for e in listed}
    assert {"orders/oral-max-exceeded", "bundles/two-orders-one-iv", "context/renal-egfr-low"} <= names
    assert not any(n.startswith("cds-hooks/") for n in names)  # hook requests are for the OpenAPI page only
    assert client.get("/examples/orders/oral-max-exceeded").json() == json.loads(
        (ROOT / "examples/orders/oral-max-exceeded.json").read_text()
    )
    missing = client.get("/examples/orders/nothing")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_pages_load_only_local_assets(client: Client, path: str) -> None:
    html = client.get(path).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static-offline-docs/") for a in assets), assets
    assert "cdn" not in html.lower() and "googleapis" not in html
    for asset in assets:
        assert client.get(asset).status_code == 200


def test_every_operation_with_a_body_has_realistic_examples(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method != "post":
                continue
            json_content = {k: v for k, v in operation["requestBody"]["content"].items() if "json" in k}
            assert json_content and all(c.get("examples") for c in json_content.values()), f"{method} {path}"


def test_the_openapi_examples_validate_as_documented(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/fhir/MedicationRequest/$validate", "/fhir/Bundle/$validate"):
        examples = schema["paths"][path]["post"]["requestBody"]["content"]["application/fhir+json"]["examples"]
        for name, example in examples.items():
            response = client.request("POST", path, json=example["value"], headers={"content-type": "application/fhir+json"})
            assert response.status_code == 200, (name, response.text)
    hook = schema["paths"]["/cds-services/{service_id}"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    sign = hook["cds-hooks-order-sign-oral-over-maximum"]["value"]
    cards = client.request("POST", "/cds-services/medval-order-sign", json=sign).json()["cards"]
    assert any(c["indicator"] == "critical" for c in cards)
    assert set(packaged_examples()) >= {"cds-hooks/order-sign-oral-over-maximum", "cds-hooks/feedback-overridden"}
