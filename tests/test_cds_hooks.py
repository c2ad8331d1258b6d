"""CDS Hooks services: discovery, cards for order-sign and order-select, feedback, bad requests."""

from __future__ import annotations

import pytest

from tests.cds_support import SELECT, SIGN, critical, example, make_client, rules

CARD_FIELDS = {"uuid", "summary", "detail", "indicator", "source", "suggestions", "selectionBehavior", "overrideReasons", "links"}


@pytest.fixture(scope="module")
def client():
    return make_client()


def _assert_card_shape(card: dict) -> None:
    assert set(card) <= CARD_FIELDS
    assert card["indicator"] in ("info", "warning", "critical")
    assert 0 < len(card["summary"]) < 140
    assert card["source"]["label"]
    for value in card.values():
        assert value not in (None, "", [], {})  # CDS Hooks: no null or empty elements
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for suggestion in card["suggestions"]:
            assert suggestion["label"] and suggestion["uuid"]
            for action in suggestion["actions"]:
                assert action["type"] in ("create", "update", "delete") and action["description"]
    for reason in card.get("overrideReasons", []):
        assert reason["system"] and reason["code"] and reason["display"]


def test_discovery_lists_order_select_and_order_sign_with_prefetch(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign"}
    for service in services:
        assert service["id"] and service["title"] and service["description"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["conditions"] == "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse"
        assert prefetch["allergies"].startswith("AllergyIntolerance?patient={{context.patientId}}")
        assert "status=active" in prefetch["medicationRequests"] and "status=active" in prefetch["medicationStatements"]
        assert prefetch["observations"].startswith("Observation?patient={{context.patientId}}&code=http://loinc.org|")
        # every Observation code the profile's rules read: kidney function, and pregnancy and breastfeeding status
        for loinc in ("33914-3", "82810-3", "63895-7"):
            assert f"http://loinc.org|{loinc}" in prefetch["observations"]
        assert "completed" in prefetch["medicationRequests"]  # titration history


def test_intravenous_intrathecal_product_gives_critical_card_suggesting_intrathecal_route(client):
    response = client.post(SIGN, json=example("order-sign-intravenous.json"))
    assert response.status_code == 200
    cards = response.json()["cards"]
    for card in cards:
        _assert_card_shape(card)
    [card] = critical(cards)
    assert card["source"]["topic"]["code"] == "route-not-permitted"
    assert card["source"]["label"].startswith("medval baclofen profile ")
    assert "intravenous" in card["summary"]
    assert "Contraindications" in card["detail"]  # the monograph section
    [suggestion] = card["suggestions"]
    assert card["selectionBehavior"] == "at-most-one"
    [action] = suggestion["actions"]
    assert action["type"] == "update"
    corrected = action["resource"]
    assert corrected["resourceType"] == "MedicationRequest" and corrected["id"] == "baclofen-it-iv"
    route = corrected["dosageInstruction"][0]["route"]["coding"][0]
    assert (route["system"], route["code"]) == ("http://snomed.info/sct", "72607000")
    # the rest of the order is untouched
    assert (
        corrected["dosageInstruction"][0]["doseAndRate"]
        == example("order-sign-intravenous.json")["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]["doseAndRate"]
    )
    assert "formulation-not-in-catalog" not in rules(cards)  # judged against the forbidden route: noise


def test_route_suggestion_keeps_the_code_system_the_order_used(client):
    request = example("order-sign-intravenous.json")
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    order["dosageInstruction"][0]["route"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "code": "IV"}]
    }
    cards = client.post(SIGN, json=request).json()["cards"]
    [card] = critical(cards)
    route = card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]["route"]["coding"][0]
    assert route["system"] == "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
    assert route["code"] in ("IT", "ITINJ")


def test_clean_order_gives_no_critical_card(client):
    response = client.post(SIGN, json=example("order-sign-clean.json"))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert critical(cards) == []
    assert cards == []


def test_oral_dose_over_maximum_suggests_same_schedule_at_maximum(client):
    cards = client.post(SIGN, json=example("order-sign-oral-over-maximum.json")).json()["cards"]
    [card] = critical(cards)
    assert card["source"]["topic"]["code"] == "daily-dose-exceeds-maximum"
    assert "120 mg" in card["summary"] and "80 mg" in card["summary"]
    [suggestion] = card["suggestions"]
    corrected = suggestion["actions"][0]["resource"]
    dosage = corrected["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 20  # 20 mg x 4/day = 80 mg/day
    assert dosage["timing"] == {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}}
    assert "80 mg/day" in suggestion["label"]


def test_dose_suggestion_in_tablets_rounds_down_to_whole_tablets(client):
    request = example("order-sign-oral-over-maximum.json")
    dose = request["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    dose.update({"value": 3, "unit": "tablet", "code": "{tablet}"})  # 3 x 10 mg tablets x 4/day = 120 mg
    request["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = 3  # 90 mg
    [card] = critical(client.post(SIGN, json=request).json()["cards"])
    corrected = card["suggestions"][0]["actions"][0]["resource"]
    assert corrected["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 2  # 2 tablets x 3/day = 60 mg


def test_childs_order_gives_warning_card(client):
    cards = client.post(SIGN, json=example("order-sign-child.json")).json()["cards"]
    assert "pediatric-safety-not-established" in rules(cards)
    [card] = [c for c in cards if c["source"]["topic"]["code"] == "pediatric-safety-not-established"]
    assert card["indicator"] == "warning"
    assert card["overrideReasons"]


def test_order_select_judges_only_the_selected_orders(client):
    request = example("order-select-selection.json")
    # the intravenous order is in draftOrders but not selected: context only, no card
    response = client.post(SELECT, json=request)
    assert response.status_code == 200
    assert response.json()["cards"] == []
    request["context"]["selections"] = ["MedicationRequest/baclofen-it-iv"]
    cards = client.post(SELECT, json=request).json()["cards"]
    [card] = critical(cards)
    assert "MedicationRequest/baclofen-it-iv" in card["detail"]
    assert all("baclofen-oral-new" not in c["detail"] for c in cards)


def test_order_select_stays_quiet_about_details_not_yet_written(client):
    request = example("order-select-selection.json")
    order = request["context"]["draftOrders"]["entry"][1]["resource"]
    del order["dosageInstruction"][0]["timing"]  # frequency not chosen yet
    assert client.post(SELECT, json=request).json()["cards"] == []
    sign = example("order-sign-clean.json")
    del sign["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]["timing"]
    assert "frequency-unverified" in rules(client.post(SIGN, json=sign).json()["cards"])


def test_spec_example_for_another_drug_gives_no_card(client):
    request = example("order-sign-clean.json")
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617993", "display": "Amoxicillin 120 MG/ML Oral Suspension"}
        ],
        "text": "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension",
    }
    order["dosageInstruction"][0]["doseAndRate"] = {"doseQuantity": {"value": 5, "unit": "mL"}}  # as in the spec's example
    request["context"]["draftOrders"]["entry"].insert(
        0, {"resource": {"resourceType": "NutritionOrder", "id": "pureeddiet-simple", "status": "draft"}}
    )
    response = client.post(SIGN, json=request)
    assert response.status_code == 200
    assert response.json()["cards"] == []


def test_no_patient_data_at_all_says_so_in_an_info_card(client):
    request = example("order-sign-clean.json")
    del request["prefetch"]
    cards = client.post(SIGN, json=request).json()["cards"]
    [card] = cards
    assert card["indicator"] == "info" and card["source"]["topic"]["code"] == "patient-context-unavailable"


def test_partial_prefetch_without_server_warns_which_data_is_missing(client):
    request = example("order-sign-clean.json")
    del request["prefetch"]["allergies"]
    [card] = client.post(SIGN, json=request).json()["cards"]
    assert card["indicator"] == "warning" and "allergies" in card["detail"]


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda r: r.pop("hook"), 400),
        (lambda r: r.pop("hookInstance"), 400),
        (lambda r: r.update(hook="patient-view"), 400),
        (lambda r: r["context"].update(draftOrders={"resourceType": "MedicationRequest"}), 400),
        (lambda r: r["context"].update(draftOrders=[]), 400),
        (lambda r: r["context"].pop("draftOrders"), 400),
        (lambda r: r["context"].update(patientId="../../admin"), 400),
        (lambda r: r.update(fhirAuthorization={"access_token": "x", "token_type": "Bearer"}), 400),
        (lambda r: r.update(context="nope"), 400),
    ],
)
def test_bad_requests_get_400_with_a_json_error(client, mutate, status):
    request = example("order-sign-clean.json")
    mutate(request)
    response = client.post(SIGN, json=request)
    assert response.status_code == status
    assert response.json()["error"] == "invalid-request" and response.json()["message"]


def test_order_select_without_selections_is_a_bad_request(client):
    request = example("order-select-selection.json")
    del request["context"]["selections"]
    assert client.post(SELECT, json=request).status_code == 400


def test_unknown_service_is_404_and_broken_json_is_400(client):
    response = client.post("/cds-services/no-such-service", json=example("order-sign-clean.json"))
    assert response.status_code == 404 and response.json()["error"] == "unknown-service"
    for body in (b"{not json", b"", b"[1, 2]", b"null"):
        response = client.post(SIGN, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.json()["error"] == "invalid-request"
    assert client.post("/cds-services/no-such-service/feedback", json={"feedback": []}).status_code == 404


def test_feedback_is_counted_per_rule_and_outcome():
    client = make_client()
    cards = client.post(SIGN, json=example("order-sign-intravenous.json")).json()["cards"]
    [card] = critical(cards)
    overridden = example("feedback-overridden.json")
    overridden["feedback"][0]["card"] = card["uuid"]
    response = client.post(SIGN + "/feedback", json=overridden)
    assert response.status_code == 200
    accepted = example("feedback-accepted.json")
    accepted["feedback"][0]["card"] = card["uuid"]
    accepted["feedback"][0]["acceptedSuggestions"][0]["id"] = card["suggestions"][0]["uuid"]
    assert client.post(SIGN + "/feedback", json=accepted).status_code == 200
    summary = client.get("/cds-services/feedback-summary").json()
    route = summary["byRule"]["route-not-permitted"]
    assert route["accepted"] == 1 and route["overridden"] == 1
    assert route["overrideReasons"] == {"specialist-directed": 1}
    assert route["acceptedSuggestions"] == {card["suggestions"][0]["label"]: 1}
    assert summary["totals"] == {"accepted": 1, "overridden": 1}
    assert summary["byService"]["medval-order-sign"] == {"accepted": 1, "overridden": 1}


@pytest.mark.parametrize(
    "feedback",
    [
        {},
        {"feedback": []},
        {"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},
        {"feedback": [{"card": "x", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},  # no acceptedSuggestions
        {"feedback": [{"card": "x", "outcome": "overridden"}]},  # no outcomeTimestamp
        {"feedback": [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "t", "overrideReason": {"reason": {"code": "a"}}}]},
    ],
)
def test_malformed_feedback_is_400(client, feedback):
    response = client.post(SIGN + "/feedback", json=feedback)
    assert response.status_code == 400 and response.json()["error"] == "invalid-request"


def test_create_app_serves_the_cds_services():
    import warnings

    from validator.http.app import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with")
        from fastapi.testclient import TestClient
    client = TestClient(create_app())
    assert {s["hook"] for s in client.get("/cds-services").json()["services"]} >= {"order-select", "order-sign"}
