"""The real app behind httpx's ASGI transport, and a handler that keeps the service's log records."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from validator.http.app import create_app
from validator.http.observability import LOGGER_NAME
from validator.http.settings import HttpSettings, Settings

FHIR_JSON = "application/fhir+json"
MR_VALIDATE = "/fhir/MedicationRequest/$validate"
BUNDLE_VALIDATE = "/fhir/Bundle/$validate"


class KeptRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r.fields for r in self.records if r.getMessage() == name]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app(Settings(http=HttpSettings(max_body_bytes=64 * 1024, log_level="INFO")))


@pytest.fixture
def logs() -> Iterator[KeptRecords]:
    handler = KeptRecords()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class Client:
    """A synchronous face on httpx.AsyncClient + ASGITransport, so tests read top to bottom."""

    def __init__(self, app: FastAPI, raise_app_exceptions: bool = True) -> None:
        self.transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://medval.test") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, document: Any, content_type: str = FHIR_JSON, **kwargs: Any) -> httpx.Response:
        headers = {"content-type": content_type, **kwargs.pop("headers", {})}
        return self.request("POST", path, content=orjson.dumps(document), headers=headers, **kwargs)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Client:
    return Client(app)


def rule_codes(response: httpx.Response) -> list[str]:
    return [c["code"] for i in response.json()["issue"] for c in i.get("details", {}).get("coding", [])]


def assert_outcome(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    OperationOutcome.model_validate(body)  # valid FHIR, whatever the status
    return body
