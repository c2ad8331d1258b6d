"""Patient context from the client's FHIR server: only allow-listed servers are ever contacted."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from tests.cds_support import SIGN, critical, example, make_client, rules
from validator.context.from_server import fetch_patient_resources

SERVER = "https://fhir.example.org/r4"


def _searchset(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


def _mock_server(router: respx.MockRouter, base: str = SERVER, birth_date: str = "1978-04-02") -> dict[str, respx.Route]:
    return {
        "Patient": router.get(f"{base}/Patient/1288992").respond(
            200, json={"resourceType": "Patient", "id": "1288992", "birthDate": birth_date}
        ),
        "Condition": router.get(f"{base}/Condition", params={"patient": "1288992", "clinical-status": "active,recurrence,relapse"}).respond(
            200, json=_searchset({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/1288992"}})
        ),
        "AllergyIntolerance": router.get(f"{base}/AllergyIntolerance").respond(200, json=_searchset()),
        "MedicationRequest": router.get(f"{base}/MedicationRequest", params={"status": "active,on-hold,completed,stopped"}).respond(
            200, json=_searchset()
        ),
        "MedicationStatement": router.get(f"{base}/MedicationStatement", params={"status": "active,intended,completed"}).respond(
            200, json=_searchset()
        ),
        "Observation": router.get(f"{base}/Observation", params={"_sort": "-date", "_count": "20"}).respond(200, json=_searchset()),
    }


@respx.mock(assert_all_mocked=True)
def test_allowed_server_is_asked_for_each_missing_prefetch_with_the_token(respx_mock):
    routes = _mock_server(respx_mock)
    client = make_client(fhir_servers=[SERVER + "/"])
    response = client.post(SIGN, json=example("order-sign-fhir-server.json"))
    assert response.status_code == 200
    for route in routes.values():
        assert route.call_count == 1
        assert route.calls[0].request.headers["authorization"] == "Bearer some-opaque-fhir-access-token"
    observation = routes["Observation"].calls[0].request.url.params
    assert "http://loinc.org|62238-1" in observation["code"].split(",")
    cards = response.json()["cards"]
    assert rules(critical(cards)) == ["daily-dose-exceeds-maximum"]
    assert "patient-context-unavailable" not in rules(cards)


@respx.mock(assert_all_mocked=True)
def test_only_missing_prefetch_keys_are_fetched(respx_mock):
    routes = _mock_server(respx_mock)
    request = example("order-sign-oral-over-maximum.json")
    del request["prefetch"]["allergies"]
    request["fhirServer"] = SERVER
    client = make_client(fhir_servers=[SERVER])
    cards = client.post(SIGN, json=request).json()["cards"]
    assert "patient-context-unavailable" not in rules(cards)
    assert routes["AllergyIntolerance"].call_count == 1


@pytest.mark.parametrize(
    "server",
    [
        "https://evil.example.net/r4",
        "https://fhir.example.org.evil.net/r4",
        "https://fhir.example.org@evil.net/r4",
        "https://fhir.example.org/r4/../../internal",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
    ],
)
@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_disallowed_server_is_never_contacted_and_a_card_says_so(respx_mock, server):
    catch_all = respx_mock.route().respond(200, json={})
    request = example("order-sign-fhir-server.json")
    request["fhirServer"] = server
    client = make_client(fhir_servers=[SERVER])
    response = client.post(SIGN, json=request)
    assert response.status_code == 200
    assert catch_all.call_count == 0 and len(respx_mock.calls) == 0
    cards = response.json()["cards"]
    assert rules(critical(cards)) == ["daily-dose-exceeds-maximum"]  # the order checks still ran
    [gap] = [c for c in cards if c["source"]["topic"]["code"] == "patient-context-unavailable"]
    assert gap["indicator"] == "warning" and "allow-list" in gap["detail"]


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_no_allow_list_means_no_fetch(respx_mock):
    catch_all = respx_mock.route().respond(200, json={})
    response = make_client().post(SIGN, json=example("order-sign-fhir-server.json"))
    assert response.status_code == 200 and catch_all.call_count == 0


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_server_down_gives_a_context_card_and_the_order_checks(respx_mock):
    respx_mock.route(host="fhir.example.org").mock(side_effect=httpx.ConnectError("connection refused"))
    client = make_client(fhir_servers=[SERVER])
    response = client.post(SIGN, json=example("order-sign-fhir-server.json"))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert rules(critical(cards)) == ["daily-dose-exceeds-maximum"]
    [gap] = [c for c in cards if c["source"]["topic"]["code"] == "patient-context-unavailable"]
    assert gap["indicator"] == "warning" and "connection failed" in gap["detail"]


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_server_errors_and_slow_answers_are_failures_not_exceptions(respx_mock):
    async def slow(request):
        await asyncio.sleep(1)
        return httpx.Response(200, json={"resourceType": "Patient", "id": "1288992"})

    respx_mock.get(f"{SERVER}/Patient/1288992").mock(side_effect=slow)
    respx_mock.get(f"{SERVER}/Condition").respond(503)
    respx_mock.get(f"{SERVER}/AllergyIntolerance").respond(200, content=b"<html>")
    respx_mock.get(f"{SERVER}/MedicationRequest").respond(302, headers={"location": "http://169.254.169.254/"})
    respx_mock.get(f"{SERVER}/MedicationStatement").respond(
        200, json=_searchset({"resourceType": "MedicationStatement", "id": "s", "subject": {"reference": "Patient/1288992"}})
    )
    respx_mock.get(f"{SERVER}/Observation").respond(
        200, json=_searchset(*[{"resourceType": "Observation", "id": f"o{i}"} for i in range(2000)])
    )
    result = asyncio.run(fetch_patient_resources(SERVER, "1288992", timeout_s=0.2, max_bytes=20_000))
    assert [r["id"] for r in result.resources] == ["s"]
    text = " | ".join(result.failures)
    assert "Patient read: no answer within 0.2 s" in text
    assert "Condition search: HTTP 503" in text
    assert "AllergyIntolerance search: unreadable response (not JSON)" in text
    assert "MedicationRequest search: HTTP 302" in text  # redirects are not followed
    assert "Observation search: response larger than 20000 bytes" in text
    assert all(call.request.url.host == "fhir.example.org" for call in respx_mock.calls)


def test_invalid_patient_id_is_not_put_into_a_url():
    result = asyncio.run(fetch_patient_resources(SERVER, "../admin"))
    assert result.resources == [] and result.failures


def test_fetching_for_callers_nobody_authenticated_must_be_asked_for(monkeypatch) -> None:
    # a review found an open service fetching any patient's record for an anonymous order-sign call
    from pydantic import ValidationError

    from validator.http.cds_settings import CdsSettings

    monkeypatch.delenv("MEDVAL_CDS_ALLOW_UNAUTHENTICATED_FETCH", raising=False)
    with pytest.raises(ValidationError, match="MEDVAL_CDS_CLIENTS"):
        CdsSettings(fhir_servers=[SERVER])
    assert CdsSettings(fhir_servers=[SERVER], allow_unauthenticated_fetch=True).fhir_servers  # development only, on request
    assert CdsSettings().fhir_servers == []  # prefetch only: nothing to fetch, nothing to refuse
