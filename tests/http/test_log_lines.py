"""Issue 13, finding 6: every medval log line is JSON with the request id; refusals carry a reason code; values escaped."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.cds_support import SIGN, example
from tests.http.conftest import Client
from validator.http.app import create_app
from validator.http.observability import ROOT_LOGGER
from validator.http.settings import Settings


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What medval's own stderr handler writes (the handler create_app installs)."""
    create_app(Settings())  # installs the handler once per process
    [handler] = [h for h in logging.getLogger(ROOT_LOGGER).handlers if getattr(h, "medval_json", False)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is one JSON object


def test_cds_call_and_feedback_lines_are_written_as_json_with_the_request_id(log_lines: io.StringIO) -> None:
    client = Client(create_app(Settings()))
    log_lines.seek(0)
    log_lines.truncate()  # start-up lines belong to no request
    call = client.request("POST", SIGN, json=example("order-sign-intravenous.json"), headers={"x-request-id": "call-1"})
    card = call.json()["cards"][0]["uuid"]
    feedback = example("feedback-overridden.json")
    feedback["feedback"][0]["card"] = card
    client.request("POST", SIGN + "/feedback", json=feedback, headers={"x-request-id": "feedback-1"})
    lines = parsed(log_lines)
    by_event = {line["event"]: line for line in lines}
    assert by_event["cds-call"]["request_id"] == "call-1"
    assert by_event["cds-call"]["cards"] == ["critical:route-not-permitted"]
    assert by_event["cds-feedback"]["request_id"] == "feedback-1" and by_event["cds-feedback"]["rule"] == "route-not-permitted"
    assert all("request_id" in line for line in lines)


def test_a_forged_line_in_a_card_id_stays_inside_its_value(log_lines: io.StringIO) -> None:
    client = Client(create_app(Settings()))
    forged = 'x"}\n{"level":"info","event":"request","status":200'
    feedback = example("feedback-overridden.json")
    feedback["feedback"][0]["card"] = forged
    assert client.request("POST", SIGN + "/feedback", json=feedback).status_code == 200
    lines = parsed(log_lines)
    [line] = [x for x in lines if x["event"] == "cds-feedback"]
    assert line["card"] == forged[:100]
    assert [x["event"] for x in lines].count("request") == 1  # the real one only


def test_cds_refusals_are_json_with_a_reason_code_and_never_the_token(log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDVAL_CDS_CLIENTS", json.dumps([{"iss": "https://ehr.example.org", "jwks_url": "https://ehr.example.org/jwks"}]))
    monkeypatch.setenv("MEDVAL_CDS_PUBLIC_URL", "https://cds.example.org")
    client = Client(create_app(Settings()))
    secret = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."
    response = client.request("POST", SIGN, json=example("order-sign-clean.json"), headers={"authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    [refusal] = [x for x in parsed(log_lines) if x["event"] == "security-refusal"]
    assert refusal["reason"] == "algorithm-not-allowed" and refusal["request_id"]
    assert secret not in log_lines.getvalue()


def test_fhir_server_not_allowed_is_a_logged_refusal(log_lines: io.StringIO) -> None:
    client = Client(create_app(Settings()))
    body = example("order-sign-fhir-server.json")
    body["fhirServer"] = "http://169.254.169.254/latest"
    assert client.request("POST", SIGN, json=body).status_code == 200
    [refusal] = [x for x in parsed(log_lines) if x["event"] == "security-refusal"]
    assert refusal["reason"] == "fhir-server-not-allowed" and refusal["request_id"]
