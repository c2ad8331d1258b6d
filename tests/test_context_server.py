"""Patient context from a FHIR server (respx): success and every fault ends in findings, never an exception."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from tests.conftest import oral_order, rules_of
from validator import check
from validator.context import ContextUnavailable, PatientContext
from validator.context.from_server import (
    ContextSettings,
    ServerContextProvider,
    context_from_fetch,
    fetch_patient_resources,
    fetch_patient_resources_sync,
    patient_id_of,
)

BASE = "https://ehr.example.org/fhir"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def searchset(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "2016-02-10"}
PARKINSON = {
    "resourceType": "Condition",
    "id": "c1",
    "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
    "code": {"text": "Parkinson disease"},
    "subject": {"reference": "Patient/p1"},
}


def mock_all(router: respx.Router, **overrides: httpx.Response) -> None:
    answers = {
        "Patient": httpx.Response(200, json=PATIENT),
        "Condition": httpx.Response(200, json=searchset(PARKINSON)),
        "AllergyIntolerance": httpx.Response(200, json=searchset()),
        "MedicationRequest": httpx.Response(200, json=searchset()),
        "MedicationStatement": httpx.Response(200, json=searchset()),
        "Observation": httpx.Response(200, json=searchset()),
    }
    answers.update(overrides)
    router.get(f"{BASE}/Patient/p1").mock(return_value=answers["Patient"])
    for kind in ("Condition", "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Observation"):
        router.get(f"{BASE}/{kind}").mock(return_value=answers[kind])


def provider(timeout_s: float = 2.0) -> ServerContextProvider:
    return ServerContextProvider(BASE, "secret-token", timeout_s)


def gap(report) -> list:
    return [f for f in report.findings if f.rule == "patient-context-unavailable"]


@respx.mock
def test_success_fetches_everything_and_rules_run() -> None:
    mock_all(respx.mock)
    report = check(oral_order(5), context_provider=provider())
    rules = rules_of(report)
    assert "pediatric-safety-not-established" in rules
    assert "condition-not-recommended" in rules
    assert not gap(report)
    sent = respx.mock.calls[0].request
    assert sent.headers["Authorization"] == "Bearer secret-token"
    condition_call = next(c.request for c in respx.mock.calls if "/Condition" in str(c.request.url))
    assert condition_call.url.params["patient"] == "p1"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, "HTTP 401"), (404, "HTTP 404"), (500, "HTTP 500")],
)
@respx.mock
def test_http_faults_end_in_context_unavailable(status: int, reason: str) -> None:
    respx.mock.route(host="ehr.example.org").mock(return_value=httpx.Response(status, json={"resourceType": "OperationOutcome"}))
    report = check(oral_order(5), context_provider=provider())
    [finding] = gap(report)
    assert finding.severity == "warning"
    assert reason in finding.text
    assert "p1" not in finding.text  # no patient data in failure reasons


@respx.mock
def test_partial_failure_keeps_what_came_back_and_names_the_checks() -> None:
    mock_all(respx.mock, AllergyIntolerance=httpx.Response(500))
    report = check(oral_order(5), context_provider=provider())
    assert "condition-not-recommended" in rules_of(report)
    [finding] = gap(report)
    assert finding.severity == "warning"
    assert "AllergyIntolerance search: HTTP 500" in finding.text
    assert "allergies (hypersensitivity)" in finding.text


@respx.mock
def test_timeout_is_a_failure() -> None:
    respx.mock.route(host="ehr.example.org").mock(side_effect=httpx.ConnectTimeout("timed out"))
    report = check(oral_order(5), context_provider=provider())
    [finding] = gap(report)
    assert finding.severity == "warning" and "timed out" in finding.text


@respx.mock
def test_slow_server_is_cut_off_within_the_budget() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=PATIENT)

    respx.mock.route(host="ehr.example.org").mock(side_effect=slow)
    started = time.monotonic()
    report = check(oral_order(5), context_provider=provider(timeout_s=0.3))
    assert time.monotonic() - started < 2.0
    [finding] = gap(report)
    assert finding.severity == "warning" and "no answer within 0.3 s" in finding.text


@respx.mock
def test_garbage_body_is_a_failure() -> None:
    respx.mock.route(host="ehr.example.org").mock(return_value=httpx.Response(200, content=b"<html>oops</html>"))
    report = check(oral_order(5), context_provider=provider())
    [finding] = gap(report)
    assert "unreadable response" in finding.text


@respx.mock
def test_wrong_resource_and_oversized_body_are_failures() -> None:
    result = asyncio.run(_fetch_with(httpx.Response(200, json={"resourceType": "Patient", "id": "x"}), max_bytes=2_000_000))
    assert any("unexpected Patient instead of a Bundle" in f for f in result.failures)
    big = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": PARKINSON}] * 200}
    result = asyncio.run(_fetch_with(httpx.Response(200, json=big), max_bytes=1000))
    assert any("larger than 1000 bytes" in f for f in result.failures)


async def _fetch_with(response: httpx.Response, max_bytes: int):
    respx.mock.route(host="ehr.example.org").mock(return_value=response)
    async with httpx.AsyncClient() as client:
        return await fetch_patient_resources(BASE, "p1", client=client, max_bytes=max_bytes)


@respx.mock
def test_fetch_interface_and_sync_wrapper() -> None:
    mock_all(respx.mock)
    result = fetch_patient_resources_sync(BASE, "p1", timeout_s=1.0)
    assert result.failures == []
    assert {r["resourceType"] for r in result.resources} == {"Patient", "Condition"}
    context = context_from_fetch(result)
    assert isinstance(context, PatientContext) and context.source == "server"


def test_invalid_patient_id_is_refused_without_a_request() -> None:
    result = asyncio.run(fetch_patient_resources(BASE, "../etc/passwd"))
    assert result.resources == [] and result.failures


def test_subject_references() -> None:
    assert patient_id_of({"subject": {"reference": "Patient/p1"}}, BASE) == "p1"
    assert patient_id_of({"subject": {"reference": f"{BASE}/Patient/p1"}}, BASE) == "p1"
    assert patient_id_of({"subject": {"reference": "https://elsewhere.org/fhir/Patient/p1"}}, BASE) is None
    assert patient_id_of({"subject": {"reference": "urn:uuid:1234"}}, BASE) is None
    assert patient_id_of({}, BASE) is None


def test_subject_not_on_server_is_reported() -> None:
    result = provider()(oral_order(5, subject={"reference": "urn:uuid:1234"}))
    assert isinstance(result, ContextUnavailable) and result.configured


def test_provider_that_raises_becomes_a_warning() -> None:
    def broken(order: dict) -> PatientContext:
        raise RuntimeError("boom")

    [finding] = gap(check(oral_order(5), context_provider=broken))
    assert finding.severity == "warning"


def test_no_server_configured_is_information(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDVAL_FHIR_BASE_URL", raising=False)
    assert ContextSettings().provider() is None
    [finding] = gap(check(oral_order(5)))
    assert finding.severity == "information"


@respx.mock
def test_environment_configures_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDVAL_FHIR_BASE_URL", BASE)
    monkeypatch.setenv("MEDVAL_FHIR_TOKEN", "env-token")
    monkeypatch.setenv("MEDVAL_CONTEXT_TIMEOUT_S", "1.5")
    mock_all(respx.mock)
    found = ContextSettings().provider()
    assert found is not None and found.timeout_s == 1.5
    report = check(oral_order(5), context_provider=found)
    assert "condition-not-recommended" in rules_of(report)
    assert respx.mock.calls[0].request.headers["Authorization"] == "Bearer env-token"


@respx.mock
def test_the_library_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server named in the environment is used only when an edge passes its provider: check() alone never calls it."""
    monkeypatch.setenv("MEDVAL_FHIR_BASE_URL", BASE)
    mock_all(respx.mock)
    [finding] = gap(check(oral_order(5)))
    assert not respx.mock.calls
    assert finding.severity == "information" and "no patient data was supplied" in finding.text


@respx.mock
def test_a_search_with_more_pages_uses_the_first_and_names_the_checks_the_rest_could_change() -> None:
    paged = searchset(PARKINSON)
    paged["link"] = [{"relation": "next", "url": f"{BASE}/Condition?patient=p1&page=2"}]
    mock_all(respx.mock, Condition=httpx.Response(200, json=paged))
    report = check(oral_order(5), context_provider=provider())
    assert "condition-not-recommended" in rules_of(report)  # what was read still counts
    [finding] = gap(report)
    assert finding.severity == "warning"
    assert "Condition search: more results than one page" in finding.text
    assert "conditions (condition-not-recommended, condition-caution)" in finding.text
