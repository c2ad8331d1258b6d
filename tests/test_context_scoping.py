"""Issue 13, findings 2 and 3: ids that are paths never reach a URL; data about another patient is never used.

Each dangerous case sits beside its safe look-alike: a real id with dots, a search result for this patient
written as an absolute reference on the server's base.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from tests.cds_support import SIGN, example, make_client
from tests.conftest import oral_order, rules_of
from validator import check
from validator.context.from_server import ServerContextProvider, fetch_patient_resources, is_fhir_id, patient_id_of

BASE = "https://ehr.example.org/fhir"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
BACLOFEN_ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "id": "a1",
    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1292", "display": "baclofen"}]},
    "patient": {"reference": "Patient/other"},
}


def searchset(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def mock_server(router: respx.Router, patient: dict, allergies: list[dict], patient_id: str = "p1") -> None:
    router.get(f"{BASE}/Patient/{patient_id}").mock(return_value=httpx.Response(200, json=patient))
    router.get(f"{BASE}/AllergyIntolerance").mock(return_value=httpx.Response(200, json=searchset(*allergies)))
    for kind in ("Condition", "MedicationRequest", "MedicationStatement", "Observation"):
        router.get(f"{BASE}/{kind}").mock(return_value=httpx.Response(200, json=searchset()))


def provider() -> ServerContextProvider:
    return ServerContextProvider(BASE, "service-token", 2.0)


@pytest.mark.parametrize("bad", [".", "..", "p1\n", "p1/..", "a" * 65, "", "p 1", "p1%2F.."])
def test_ids_that_are_paths_or_carry_a_newline_are_not_ids(bad: str) -> None:
    assert not is_fhir_id(bad)


@pytest.mark.parametrize("good", ["p1", "example-patient.2", "...", "A" * 64])
def test_real_ids_stay_ids(good: str) -> None:
    assert is_fhir_id(good)


@pytest.mark.parametrize("reference", ["Patient/.", "Patient/..", "Patient/p1\n", f"{BASE}/Patient/.."])
def test_subject_that_is_a_path_is_no_patient(reference: str) -> None:
    assert patient_id_of({"subject": {"reference": reference}}, BASE) is None


@respx.mock
@pytest.mark.parametrize("bad", [".", "..", "p1\n"])
def test_fetch_never_requests_a_path_id(bad: str) -> None:
    respx.mock.route(host="ehr.example.org").mock(return_value=httpx.Response(200, json=searchset()))
    result = asyncio.run(fetch_patient_resources(BASE, bad, token="service-token"))
    assert respx.mock.calls.call_count == 0  # neither {base}/Patient (everyone) nor {base} itself
    assert result.resources == [] and result.failures


@respx.mock
def test_patient_read_answering_another_patient_is_dropped() -> None:
    # the server answers Patient/p1 with someone else's record (a child): the age check must not use it
    mock_server(respx.mock, {"resourceType": "Patient", "id": "someone-else", "birthDate": "2020-01-01"}, [])
    report = check(oral_order(5), context_provider=provider())
    assert "pediatric-safety-not-established" not in rules_of(report)
    [gap] = [f for f in report.findings if f.rule == "patient-context-unavailable"]
    assert "another patient" in gap.text and "age (pediatric-safety-not-established)" in gap.text


@respx.mock
def test_the_right_patient_is_used() -> None:
    mock_server(respx.mock, {"resourceType": "Patient", "id": "p1", "birthDate": "2020-01-01"}, [])
    assert "pediatric-safety-not-established" in rules_of(check(oral_order(5), context_provider=provider()))


@respx.mock
def test_search_result_about_another_patient_is_dropped() -> None:
    # a server that ignores ?patient= returns everyone's allergies: no false allergy for p1
    mock_server(respx.mock, {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}, [BACLOFEN_ALLERGY])
    report = check(oral_order(5), context_provider=provider())
    assert "hypersensitivity" not in rules_of(report)
    [gap] = [f for f in report.findings if f.rule == "patient-context-unavailable"]
    assert "another patient" in gap.text and "allergies (hypersensitivity)" in gap.text
    assert "other" not in gap.text.replace("another", "")  # the other patient's id is not quoted


@respx.mock
@pytest.mark.parametrize("reference", ["Patient/p1", f"{BASE}/Patient/p1"])
def test_search_result_for_this_patient_is_used(reference: str) -> None:
    mine = {**BACLOFEN_ALLERGY, "patient": {"reference": reference}}
    mock_server(respx.mock, {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}, [mine])
    report = check(oral_order(5), context_provider=provider())
    assert "hypersensitivity" in rules_of(report)
    assert not [f for f in report.findings if f.rule == "patient-context-unavailable"]


@respx.mock
def test_patient_id_is_url_encoded_and_exact() -> None:
    mock_server(respx.mock, {"resourceType": "Patient", "id": "p.1"}, [], patient_id="p.1")
    asyncio.run(fetch_patient_resources(BASE, "p.1"))
    urls = [str(c.request.url) for c in respx.mock.calls]
    assert f"{BASE}/Patient/p.1" in urls


# --- CDS Hooks: context.patientId and the fhirServer fetch with the caller's token ---


@pytest.mark.parametrize("bad", [".", "..", "p1\n"])
def test_cds_patient_id_that_is_a_path_is_refused(bad: str) -> None:
    body = example("order-sign-fhir-server.json")
    body["context"]["patientId"] = bad
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(return_value=httpx.Response(200, json=searchset()))
        response = make_client(fhir_servers=[body["fhirServer"]]).post(SIGN, json=body)
        assert router.calls.call_count == 0
    assert response.status_code == 400


def test_cds_fetch_drops_another_patients_allergy() -> None:
    body = example("order-sign-fhir-server.json")
    base = body["fhirServer"].rstrip("/")
    patient_id = body["context"]["patientId"]
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{base}/Patient/{patient_id}").mock(
            return_value=httpx.Response(200, json={"resourceType": "Patient", "id": patient_id, "birthDate": "1980-01-01"})
        )
        router.get(f"{base}/AllergyIntolerance").mock(return_value=httpx.Response(200, json=searchset(BACLOFEN_ALLERGY)))
        router.route().mock(return_value=httpx.Response(200, json=searchset()))
        cards = make_client(fhir_servers=[body["fhirServer"]]).post(SIGN, json=body).json()["cards"]
    codes = [c["source"]["topic"]["code"] for c in cards]
    assert "hypersensitivity" not in codes
    assert "patient-context-unavailable" in codes
