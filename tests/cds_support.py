"""Helpers for the CDS Hooks tests: an app with just the CDS router, and the example requests."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from validator.http.cds_hooks import build_cds_router
from validator.http.cds_settings import CdsSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with")
    from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cds-hooks"
SIGN = "/cds-services/medval-order-sign"
SELECT = "/cds-services/medval-order-select"


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EXAMPLES / name).read_text()))


def make_client(**settings: Any) -> TestClient:
    if settings.get("fhir_servers") and not settings.get("clients"):
        # these tests are about fetching itself; an open fetch must be asked for (tests/test_cds_fetch.py shows the refusal)
        settings.setdefault("allow_unauthenticated_fetch", True)
    app = FastAPI()
    app.include_router(build_cds_router(CdsSettings(**settings)))
    return TestClient(app)


def critical(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if c["indicator"] == "critical"]


def rules(cards: list[dict[str, Any]]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]
