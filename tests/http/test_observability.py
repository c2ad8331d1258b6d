"""Request ids, JSON log lines without patient data, and the last-resort handler."""

from __future__ import annotations

import logging

import orjson
import pytest
from fastapi import FastAPI

from validator.http.app import create_app
from validator.http.observability import JsonLineFormatter
from validator.http.settings import Settings

from ..conftest import oral_order
from .conftest import MR_VALIDATE, Client, KeptRecords, assert_outcome

PATIENT_SECRET = "Zebediah Quartermaine"


def patient_order() -> dict:
    order = oral_order(dose=80, frequency=4, note=[{"text": f"Patient {PATIENT_SECRET}, NHS 943 476 5919"}])
    order["subject"]["display"] = PATIENT_SECRET
    return order


def test_each_request_is_one_json_line_with_what_operations_needs(client: Client, logs: KeptRecords) -> None:
    client.post_json(MR_VALIDATE, patient_order(), headers={"x-request-id": "trace-1"})
    [fields] = [f for f in logs.events("request") if f["request_id"] == "trace-1"]
    assert fields["endpoint"] == MR_VALIDATE and fields["status"] == 200 and fields["method"] == "POST"
    assert fields["duration_ms"] >= 0
    assert "daily-dose-exceeds-maximum" in fields["rule_codes"]
    [record] = [r for r in logs.records if getattr(r, "fields", {}).get("request_id") == "trace-1"]
    line = JsonLineFormatter().format(record)
    assert "\n" not in line and orjson.loads(line)["request_id"] == "trace-1"


def test_logs_never_carry_patient_data(client: Client, logs: KeptRecords) -> None:
    client.post_json(MR_VALIDATE, patient_order())
    client.post_json(MR_VALIDATE + f"?profile={PATIENT_SECRET}", {"resourceType": "Patient", "name": [{"text": PATIENT_SECRET}]})
    client.request("POST", MR_VALIDATE, content=f'{{"resourceType": "MedicationRequest", "note": "{PATIENT_SECRET}'.encode())
    client.get(f"/fhir/Patient/{PATIENT_SECRET}")
    formatted = "\n".join(JsonLineFormatter().format(r) for r in logs.records)
    assert formatted and PATIENT_SECRET not in formatted and "943 476" not in formatted


@pytest.fixture(scope="module")
def fragile_app() -> FastAPI:
    app = create_app(Settings())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"secret {PATIENT_SECRET}")

    return app


def test_the_last_resort_handler_answers_500_fatal_and_logs_without_the_message(fragile_app: FastAPI, logs: KeptRecords) -> None:
    response = Client(fragile_app, raise_app_exceptions=False).get("/boom", headers={"x-request-id": "boom-1"})
    body = assert_outcome(response, 500)
    assert body["issue"][0]["severity"] == "fatal" and body["issue"][0]["code"] == "exception"
    assert response.headers["x-request-id"] == "boom-1"
    [failure] = logs.events("unhandled-exception")
    assert failure["request_id"] == "boom-1" and failure["error_type"] == "RuntimeError" and failure["error_at"]
    assert PATIENT_SECRET not in "\n".join(JsonLineFormatter().format(r) for r in logs.records)
    assert [f["status"] for f in logs.events("request")] == [500]


def test_configure_logging_is_idempotent() -> None:
    create_app(Settings())
    create_app(Settings())
    handlers = [h for h in logging.getLogger("medval").handlers if getattr(h, "medval_json", False)]
    assert len(handlers) == 1  # on the parent of medval.http and medval.cds, so every medval line is JSON
