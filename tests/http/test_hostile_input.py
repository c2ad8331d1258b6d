"""Bad input gets a clear OperationOutcome with the right 4xx (or 200 with the verdict), never a 5xx or the last-resort handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from ..conftest import oral_order
from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE, Client, KeptRecords, assert_outcome, rule_codes

LIMIT = 64 * 1024  # the app fixture's MEDVAL_MAX_BODY_BYTES


def nested(depth: int) -> bytes:
    return b'{"resourceType":"MedicationRequest","x":' + b"[" * depth + b"]" * depth + b"}"


BAD_BODIES_400: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n ",
    "broken-json": b'{"resourceType": "MedicationRequest",',
    "invalid-utf8": b'{"resourceType": "MedicationRequest", "note": "\xff\xfe"}',
    "array": b"[1, 2, 3]",
    "scalar-number": b"42",
    "scalar-string": b'"MedicationRequest"',
    "null": b"null",
    "object-without-resourceType": b'{"status": "active"}',
    "nested-100": nested(100),
    "nested-30000": nested(30_000),
    "wrong-type-patient": b'{"resourceType": "Patient", "id": "p1"}',
    "unknown-resourceType": b'{"resourceType": "Frobnicator"}',
    "resourceType-not-a-string": b'{"resourceType": 7}',
    "parameters-without-resource": b'{"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "create"}]}',
    "parameters-resource-not-object": b'{"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": [1]}]}',
    "parameters-not-a-list": b'{"resourceType": "Parameters", "parameter": 3}',
    "bundle-to-order-endpoint": b'{"resourceType": "Bundle", "type": "collection"}',
}


@pytest.mark.parametrize("name", list(BAD_BODIES_400))
def test_unvalidatable_bodies_are_400(client: Client, logs: KeptRecords, name: str) -> None:
    response = client.request("POST", MR_VALIDATE, content=BAD_BODIES_400[name], headers={"content-type": FHIR_JSON})
    body = assert_outcome(response, 400)
    assert rule_codes(response) == ["input-invalid"]
    assert body["issue"][0]["details"]["text"]
    assert not logs.events("unhandled-exception")


def test_an_order_sent_to_the_bundle_endpoint_is_400(client: Client) -> None:
    assert_outcome(client.post_json(BUNDLE_VALIDATE, oral_order()), 400)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/html; charset=utf-8", "multipart/form-data", "garbage", "application/x-www-form-urlencoded"]
)
def test_other_media_types_are_415(client: Client, content_type: str) -> None:
    response = client.request("POST", MR_VALIDATE, content=b"<MedicationRequest/>", headers={"content-type": content_type})
    assert_outcome(response, 415)


class CountedBody:
    """A request body that records how much of it the service pulled."""

    def __init__(self, chunk: bytes, chunks: int) -> None:
        self.chunk, self.chunks, self.sent = chunk, chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += 1
            yield self.chunk


def test_a_declared_oversized_body_is_413_before_it_is_read(client: Client) -> None:
    body = CountedBody(b" " * 1024, 200)
    response = client.request("POST", MR_VALIDATE, content=body, headers={"content-type": FHIR_JSON, "content-length": str(200 * 1024)})
    assert_outcome(response, 413)
    assert body.sent <= 1  # the transport may pre-fetch one chunk; the service reads none


def test_a_chunked_oversized_body_is_413_once_the_limit_is_passed(client: Client) -> None:
    body = CountedBody(b" " * 1024, 10_000)  # 10 MB, no Content-Length: sent chunked
    response = client.request("POST", MR_VALIDATE, content=body, headers={"content-type": FHIR_JSON})
    assert_outcome(response, 413)
    assert body.sent <= LIMIT // 1024 + 2


def test_a_body_just_under_the_limit_is_read(client: Client) -> None:
    order = oral_order(note=[{"text": "x" * (LIMIT - 2000)}])
    assert_outcome(client.post_json(MR_VALIDATE, order), 200)


def test_a_non_numeric_content_length_is_400(client: Client) -> None:
    response = client.request(
        "POST", MR_VALIDATE, content=CountedBody(b"{}", 1), headers={"content-type": FHIR_JSON, "content-length": "lots"}
    )
    assert_outcome(response, 400)


STRUCTURALLY_INVALID: dict[str, dict[str, Any]] = {
    "status-not-a-code": oral_order(status=12),
    "intent-missing-and-bad-date": {**oral_order(authoredOn="yesterday"), "intent": None},
    "dosage-not-a-list": oral_order(dosageInstruction={"text": "once"}),
    "unknown-element": oral_order(colour="blue"),
    "subject-is-a-string": oral_order(subject="Patient/p1"),
}


@pytest.mark.parametrize("name", list(STRUCTURALLY_INVALID))
def test_structurally_invalid_orders_are_200_with_input_invalid_issues(client: Client, name: str) -> None:
    response = client.post_json(MR_VALIDATE, STRUCTURALLY_INVALID[name])
    body = assert_outcome(response, 200)
    invalid = [i for i in body["issue"] if i["details"]["coding"][0]["code"] == "input-invalid"]
    assert invalid and all(i["expression"][0].startswith("MedicationRequest.") for i in invalid)


def test_each_bad_element_is_named(client: Client) -> None:
    body = client.post_json(MR_VALIDATE, oral_order(status=12, authoredOn="yesterday")).json()
    expressions = {e for i in body["issue"] for e in i.get("expression", [])}
    assert {"MedicationRequest.status", "MedicationRequest.authoredOn"} <= expressions


def order_with(dose: Any = 10, frequency: Any = 3, period: Any = 1) -> bytes:
    order = oral_order()
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "DOSE"
    order["dosageInstruction"][0]["timing"]["repeat"].update(frequency="FREQ", period="PERIOD")
    raw = orjson.dumps(order).decode()
    for marker, value in (("DOSE", dose), ("FREQ", frequency), ("PERIOD", period)):
        raw = raw.replace(f'"{marker}"', value if isinstance(value, str) else repr(value))
    return raw.encode()


ABSURD_NUMBERS: dict[str, tuple[bytes, set[str]]] = {
    "dose-NaN": (order_with(dose="NaN"), {"dose-unverified"}),
    "dose-Infinity": (order_with(dose="Infinity"), {"dose-unverified"}),
    "dose-minus-Infinity": (order_with(dose="-Infinity"), {"dose-unverified"}),
    "dose-negative": (order_with(dose=-10), {"dose-unverified", "input-invalid", "dose-unit-suspect", "dose-unit-invalid"}),
    "dose-zero": (order_with(dose=0), {"dose-unverified", "dose-unit-suspect", "dose-unit-invalid"}),
    "dose-absurd": (order_with(dose=1e300), {"dose-unverified", "dose-unit-suspect", "daily-dose-exceeds-maximum"}),
    "dose-huge-integer": (order_with(dose="1" + "0" * 400), {"dose-unverified", "input-invalid", "dose-unit-suspect"}),
    "frequency-NaN": (order_with(frequency="NaN"), {"frequency-unverified"}),
    "frequency-zero": (order_with(frequency=0), {"frequency-unverified", "input-invalid"}),
    "frequency-negative": (order_with(frequency=-3), {"frequency-unverified", "input-invalid"}),
    "frequency-absurd": (order_with(frequency=10**9), {"frequency-unverified", "input-invalid", "daily-dose-exceeds-maximum"}),
    "period-zero": (order_with(period=0), {"frequency-unverified", "input-invalid"}),
    "period-Infinity": (order_with(period="Infinity"), {"frequency-unverified"}),
    "period-tiny": (order_with(period=1e-300), {"frequency-unverified", "input-invalid", "daily-dose-exceeds-maximum"}),
}


@pytest.mark.parametrize("name", list(ABSURD_NUMBERS))
def test_absurd_numbers_are_200_with_the_matching_issue(client: Client, logs: KeptRecords, name: str) -> None:
    raw, expected = ABSURD_NUMBERS[name]
    response = client.request("POST", MR_VALIDATE, content=raw, headers={"content-type": FHIR_JSON})
    assert_outcome(response, 200)
    assert set(rule_codes(response)) & expected, rule_codes(response)
    assert not logs.events("unhandled-exception")


def test_health_still_answers_after_everything_hostile(client: Client, logs: KeptRecords) -> None:
    bundles = [orjson.dumps(b) for b in MALFORMED_BUNDLES.values()]
    for raw in [*BAD_BODIES_400.values(), *(r for r, _ in ABSURD_NUMBERS.values()), *bundles]:
        for path in (MR_VALIDATE, BUNDLE_VALIDATE):
            assert client.request("POST", path, content=raw, headers={"content-type": FHIR_JSON}).status_code < 500
    assert client.get("/health").status_code == 200
    assert not logs.events("unhandled-exception")


MALFORMED_BUNDLES: dict[str, dict[str, Any]] = {
    "entry-a-number": {"resourceType": "Bundle", "type": "collection", "entry": 3},
    "entry-an-object": {"resourceType": "Bundle", "type": "collection", "entry": {"resource": oral_order()}},
    "entries-of-junk": {"resourceType": "Bundle", "entry": [3, "x", None, {"resource": 3}, {"resource": {"resourceType": 3}}]},
    "order-with-junk": {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MedicationRequest", "status": 3}}]},
    "patient-with-junk": {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Patient", "birthDate": 3}}, {"resource": oral_order()}],
    },
    "nested-bundle": {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Bundle", "entry": [{"resource": oral_order()}]}}]},
}


@pytest.mark.parametrize("name", list(MALFORMED_BUNDLES))
def test_malformed_bundles_are_outcomes_not_crashes(client: Client, logs: KeptRecords, name: str) -> None:
    response = client.post_json(BUNDLE_VALIDATE, MALFORMED_BUNDLES[name])
    assert response.status_code in (200, 400)
    assert_outcome(response, response.status_code)
    assert not logs.events("unhandled-exception")
