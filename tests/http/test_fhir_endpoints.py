"""Each endpoint through the real app: $validate (R4, R5, Parameters, Bundles with context), metadata, health, docs."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationdefinition import OperationDefinition

from validator.findings import RULE_SYSTEM

from ..conftest import intrathecal_order, oral_order
from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE, Client, assert_outcome, rule_codes


def r5_order(**overrides: Any) -> dict[str, Any]:
    order = oral_order(**overrides)
    order["medication"] = {"concept": order.pop("medicationCodeableConcept")}
    return order


def parameters(resource: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": resource}, *extra]}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)],
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "2020-01-01"}


def test_health_is_ready_with_the_profiles(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["profiles"]


def test_a_valid_order_gets_200_with_the_profile_applied(client: Client) -> None:
    response = client.post_json(MR_VALIDATE, oral_order())
    body = assert_outcome(response, 200)
    assert response.headers["content-type"] == f"{FHIR_JSON}; fhirVersion=4.0"
    assert "baclofen" in response.headers["x-medval-profile"]
    assert all(i["details"]["coding"][0]["system"] == RULE_SYSTEM for i in body["issue"])


def test_a_dangerous_order_still_gets_200_and_the_verdict(client: Client) -> None:
    body = assert_outcome(client.post_json(MR_VALIDATE, oral_order(dose=80, frequency=4)), 200)
    assert "daily-dose-exceeds-maximum" in [c["code"] for i in body["issue"] for c in i["details"]["coding"]]
    assert body["issue"][0]["severity"] == "error"


def test_plain_application_json_is_accepted(client: Client) -> None:
    assert_outcome(client.post_json(MR_VALIDATE, oral_order(), content_type="application/json; charset=utf-8"), 200)


def test_an_intrathecal_order(client: Client) -> None:
    assert_outcome(client.post_json(MR_VALIDATE, intrathecal_order(route_code="404820008")), 200)


def test_r5_by_media_type_parameter_and_by_shape(client: Client) -> None:
    declared = client.post_json(MR_VALIDATE, r5_order(), content_type=f"{FHIR_JSON}; fhirVersion=5.0")
    assert_outcome(declared, 200)
    assert declared.headers["content-type"] == f"{FHIR_JSON}; fhirVersion=5.0"
    by_shape = client.post_json(MR_VALIDATE, r5_order())
    assert by_shape.headers["content-type"].endswith("fhirVersion=5.0")
    assert rule_codes(by_shape) == rule_codes(declared)


def test_an_unknown_fhir_version_is_415(client: Client) -> None:
    assert_outcome(client.post_json(MR_VALIDATE, oral_order(), content_type=f"{FHIR_JSON}; fhirVersion=3.0"), 415)


def test_parameters_wrapping_an_order_mode_ignored(client: Client) -> None:
    direct = client.post_json(MR_VALIDATE, oral_order(dose=80, frequency=4))
    wrapped = client.post_json(MR_VALIDATE, parameters(oral_order(dose=80, frequency=4), {"name": "mode", "valueCode": "create"}))
    assert_outcome(wrapped, 200)
    assert rule_codes(wrapped) == rule_codes(direct)


@pytest.mark.parametrize(
    "profile", ["baclofen", "https://medval.dev/fhir/profile/baclofen", "http://hl7.org/fhir/StructureDefinition/MedicationRequest"]
)
def test_a_known_profile_parameter_is_accepted(client: Client, profile: str) -> None:
    response = client.post_json(MR_VALIDATE, parameters(oral_order(), {"name": "profile", "valueUri": profile}))
    body = assert_outcome(response, 200)
    assert not [i for i in body["issue"] if i["code"] == "not-supported"]
    assert "baclofen" in response.headers["x-medval-profile"]


def test_an_unknown_profile_is_an_error_naming_the_known_ones(client: Client) -> None:
    # R4 Resource-validate: a server that cannot validate against the nominated profile SHALL return an error
    wanted = "http://example.org/StructureDefinition/other-drug"
    body = assert_outcome(client.post_json(MR_VALIDATE, parameters(oral_order(), {"name": "profile", "valueCanonical": wanted})), 400)
    (issue,) = body["issue"]
    assert issue["severity"] == "error" and issue["code"] == "not-supported"
    assert wanted in issue["details"]["text"] and "baclofen" in issue["details"]["text"]
    by_query = assert_outcome(client.post_json(MR_VALIDATE + "?profile=other-drug", oral_order()), 400)
    assert "other-drug" in by_query["issue"][0]["details"]["text"] and "baclofen" in by_query["issue"][0]["details"]["text"]
    bundle_query = client.post_json(BUNDLE_VALIDATE + "?profile=other-drug", bundle(PATIENT, oral_order()))
    assert_outcome(bundle_query, 400)


@pytest.mark.parametrize("mode", ["create", "update", "delete", "profile"])
def test_every_validation_mode_is_accepted(client: Client, mode: str) -> None:
    assert_outcome(client.post_json(MR_VALIDATE + f"?mode={mode}", oral_order()), 200)
    assert_outcome(client.post_json(MR_VALIDATE, parameters(oral_order(), {"name": "mode", "valueCode": mode})), 200)


@pytest.mark.parametrize("mode", ["Create", "validate", "", "delete "])
def test_a_mode_outside_the_value_set_is_400(client: Client, mode: str) -> None:
    by_query = assert_outcome(client.post_json(MR_VALIDATE, oral_order(), params={"mode": mode}), 400)
    assert "create, update, delete, profile" in by_query["issue"][0]["details"]["text"]
    assert_outcome(client.post_json(MR_VALIDATE, parameters(oral_order(), {"name": "mode", "valueCode": mode})), 400)


def test_head_and_options_answer(client: Client) -> None:
    head = client.request("HEAD", "/fhir/metadata")
    get = client.get("/fhir/metadata")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert client.request("HEAD", "/health").status_code == 200
    options = client.request("OPTIONS", MR_VALIDATE)
    assert options.status_code == 204 and set(options.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    assert set(client.request("OPTIONS", "/fhir/metadata").headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert client.request("HEAD", MR_VALIDATE).status_code == 405  # no GET there, so no HEAD either
    assert client.request("OPTIONS", "/fhir/nothing-here").status_code == 404


def test_a_bundle_with_context(client: Client) -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1292", "display": "baclofen"}]},
        "patient": {"reference": "Patient/p1"},
    }
    response = client.post_json(BUNDLE_VALIDATE, bundle(PATIENT, allergy, oral_order()))
    body = assert_outcome(response, 200)
    assert all(e.startswith("Bundle.entry[2].resource") for i in body["issue"] for e in i.get("expression", []))
    assert "patient-context-unavailable" not in rule_codes(response)


def test_a_bundle_wrapped_in_parameters_and_an_r5_bundle(client: Client) -> None:
    assert_outcome(client.post_json(BUNDLE_VALIDATE, parameters(bundle(PATIENT, oral_order()))), 200)
    r5 = client.post_json(BUNDLE_VALIDATE, bundle(PATIENT, r5_order()), content_type=f"{FHIR_JSON}; fhirVersion=5.0")
    assert_outcome(r5, 200)


def test_a_bundle_without_orders_is_not_in_scope(client: Client) -> None:
    assert rule_codes(client.post_json(BUNDLE_VALIDATE, bundle(PATIENT))) == ["not-in-scope"]


def test_accept_is_honoured(client: Client) -> None:
    for accept in ("application/fhir+json", "application/json", "*/*", "text/html, application/fhir+json;q=0.9", ""):
        assert client.post_json(MR_VALIDATE, oral_order(), headers={"accept": accept}).status_code == 200
    for accept in ("text/html", "application/fhir+json;q=0", "application/fhir+xml;q=0, application/fhir+json;q=0"):
        assert_outcome(client.post_json(MR_VALIDATE, oral_order(), headers={"accept": accept}), 406)


def test_request_id_is_echoed_or_made(client: Client) -> None:
    assert client.get("/health", headers={"x-request-id": "order-42.abc"}).headers["x-request-id"] == "order-42.abc"
    made = client.get("/health").headers["x-request-id"]
    assert len(made) == 32
    assert client.get("/health", headers={"x-request-id": "evil\tinjected" + "x" * 300}).headers["x-request-id"] != "evil"


def test_metadata_is_an_r4_capability_statement_naming_both_operations(client: Client) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith(FHIR_JSON)
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    operations = {(r.type, op.name): op.definition for r in statement.rest[0].resource for op in r.operation or []}
    assert set(operations) == {("MedicationRequest", "validate"), ("Bundle", "validate")}
    for definition in operations.values():
        served = client.get("/fhir/OperationDefinition/" + definition.rsplit("/", 1)[-1])
        assert served.status_code == 200
        assert OperationDefinition.model_validate(served.json()).url == definition
    # the audit trail is searchable, by exactly the parameters /fhir/AuditEvent reads
    [audit] = [r for r in statement.rest[0].resource if r.type == "AuditEvent"]
    assert {p.name for p in audit.searchParam} == {"date", "patient", "outcome", "_count"}


def test_an_unknown_operation_definition_is_404(client: Client) -> None:
    body = assert_outcome(client.get("/fhir/OperationDefinition/nope"), 404)
    assert body["issue"][0]["code"] == "not-found"


def test_unknown_paths_and_methods_are_outcomes(client: Client) -> None:
    assert_outcome(client.get("/fhir/Patient/1"), 404)
    response = client.get(MR_VALIDATE)
    assert_outcome(response, 405)
    assert "POST" in response.headers["allow"]


def test_docs_and_openapi(client: Client) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {MR_VALIDATE, BUNDLE_VALIDATE, "/fhir/metadata", "/health"} <= set(schema["paths"])
    assert "422" not in schema["paths"][MR_VALIDATE]["post"]["responses"]
