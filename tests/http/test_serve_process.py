"""One run against a real `medval serve` process with two workers on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from ..conftest import oral_order
from .conftest import FHIR_JSON, MR_VALIDATE
from .real_server import serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # `python -m validator.cli` from the checkout, two workers on a free port (tests/http/real_server.py)
    with serving(tmp_path_factory.mktemp("serve"), workers=2) as server:
        yield server.base


def test_a_real_server_validates_and_survives_hostile_input(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        ok = http.post(MR_VALIDATE, content=orjson.dumps(oral_order()), headers={"content-type": FHIR_JSON, "x-request-id": "real-1"})
        assert ok.status_code == 200 and ok.json()["resourceType"] == "OperationOutcome"
        assert ok.headers["x-request-id"] == "real-1" and ok.headers["content-type"].startswith(FHIR_JSON)
        assert http.post(MR_VALIDATE, content=b"{broken", headers={"content-type": FHIR_JSON}).status_code == 400
        assert http.post(MR_VALIDATE, content=b"<x/>", headers={"content-type": "application/xml"}).status_code == 400  # XML, not FHIR
        assert http.post(MR_VALIDATE, content=b"<x/>", headers={"content-type": "text/plain"}).status_code == 415

        def chunks() -> Iterator[bytes]:
            for _ in range(6 * 1024):
                yield b" " * 1024  # 6 MB, chunked: over the default 5 MB limit

        try:
            too_big = http.post(MR_VALIDATE, content=chunks(), headers={"content-type": FHIR_JSON})
            assert too_big.status_code == 413
        except httpx.TransportError:
            pass  # the server may close the connection once it has answered 413 mid-upload
        assert http.get("/fhir/metadata").json()["resourceType"] == "CapabilityStatement"
        assert http.get("/health").status_code == 200
