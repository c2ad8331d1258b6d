"""The store through the HTTP service: audit trail and its FHIR endpoint, feedback limits, metrics, the committee page."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import orjson
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fhir.resources.R4B.bundle import Bundle
from prometheus_client.parser import text_string_to_metric_families

from tests.cds_support import SIGN, TestClient, critical, example
from tests.conftest import oral_order
from tests.http.real_server import free_port
from validator.http.app import create_app
from validator.http.settings import Settings
from validator.store import Store, StoreSettings

FHIR_JSON = "application/fhir+json"
MR_VALIDATE = "/fhir/MedicationRequest/$validate"
PUBLIC_URL = "https://medval.example.org"
ISS = "https://ehr.example.org"
KEY = ec.generate_private_key(ec.SECP256R1())
PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _app(monkeypatch: pytest.MonkeyPatch, clean_url: str, **env: str) -> Iterator[TestClient]:
    for name in ("MEDVAL_CDS_CLIENTS", "MEDVAL_CDS_PUBLIC_URL", "MEDVAL_AUDIT_ALLOW_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = Store.open(StoreSettings(database_url=clean_url))
    try:
        yield TestClient(create_app(Settings(), store))
    finally:
        store.close()


@pytest.fixture
def open_client(monkeypatch, clean_url) -> Iterator[TestClient]:
    yield from _app(monkeypatch, clean_url, MEDVAL_AUDIT_ALLOW_ANONYMOUS="true")


def _token(aud: str, scope: str | None = None, sub: str = "pharmacist-7") -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": ISS, "sub": sub, "aud": aud, "exp": now + 120, "iat": now, "jti": str(uuid.uuid4())}
    if scope:
        claims["scope"] = scope
    return {"Authorization": "Bearer " + jwt.encode(claims, KEY, algorithm="ES256", headers={"typ": "JWT"})}


def _search(client: TestClient, **params: str) -> list[dict]:
    response = client.get("/fhir/AuditEvent", params=params)
    assert response.status_code == 200, response.text
    bundle = response.json()
    Bundle.model_validate(bundle)  # a valid FHIR R4 searchset Bundle of valid AuditEvents
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"])
    return [e["resource"] for e in bundle["entry"]]


def test_each_validation_and_cds_call_is_audited_and_searchable(open_client):
    order = oral_order(dose=40, frequency=4, subject={"reference": "Patient/audit-p1"})  # 160 mg/day
    response = open_client.post(MR_VALIDATE, content=orjson.dumps(order), headers={"content-type": FHIR_JSON, "x-request-id": "audit-1"})
    assert response.status_code == 200
    refused = open_client.post(MR_VALIDATE, content=b'{"resourceType": "Patient"}', headers={"content-type": FHIR_JSON})
    assert refused.status_code == 400
    cds = example("order-sign-intravenous.json")
    assert critical(open_client.post(SIGN, json=cds).json()["cards"])

    [validated] = _search(open_client, patient="Patient/audit-p1")
    assert validated["outcome"] == "0" and validated["agent"][0]["who"] == {"display": "unauthenticated caller"}
    entity = validated["entity"]
    assert entity[0]["what"]["identifier"]["value"] == "audit-1" and entity[0]["description"] == "validate-MedicationRequest"
    assert "daily-dose-exceeds-maximum (error)" in entity[0]["detail"][1]["valueString"]
    assert {"what": {"reference": "Patient/audit-p1"}}.items() <= entity[1].items()
    assert entity[2]["what"]["reference"] == "MedicationRequest/oral-1"
    [call] = _search(open_client, patient=cds["context"]["patientId"])  # a bare id means Patient/<id>
    assert call["entity"][0]["description"] == "cds-medval-order-sign"
    assert "route-not-permitted" in call["entity"][0]["detail"][1]["valueString"]
    assert [e["entity"][0]["description"] for e in _search(open_client, outcome="4")] == ["validate-MedicationRequest"]
    today = datetime.now(UTC).date()
    assert len(_search(open_client, date=f"ge{today.isoformat()}")) == 3
    assert _search(open_client, date=f"le{(today - timedelta(days=1)).isoformat()}") == []
    bad = open_client.get("/fhir/AuditEvent", params={"date": "ge-not-a-date"})
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_the_audit_trail_is_closed_without_authentication_unless_explicitly_opened(monkeypatch, clean_url):
    for client in _app(monkeypatch, clean_url):
        response = client.get("/fhir/AuditEvent")
        assert response.status_code == 403 and "MEDVAL_AUDIT_ALLOW_ANONYMOUS" in response.text


def test_with_trusted_clients_the_audit_trail_needs_a_token_with_an_admin_scope(monkeypatch, clean_url):
    clients = orjson.dumps([{"iss": ISS, "public_key": PEM}]).decode()
    for client in _app(monkeypatch, clean_url, MEDVAL_CDS_CLIENTS=clients, MEDVAL_CDS_PUBLIC_URL=PUBLIC_URL):
        assert client.post(SIGN, json=example("order-sign-intravenous.json"), headers=_token(PUBLIC_URL + SIGN)).status_code == 200
        audience = PUBLIC_URL + "/fhir/AuditEvent"
        refused = client.get("/fhir/AuditEvent")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["issue"][0]["code"] == "login"
        assert client.get("/fhir/AuditEvent", headers=_token(PUBLIC_URL + "/cds-services")).status_code == 401  # wrong audience
        assert client.get("/fhir/AuditEvent", headers=_token(audience, "system/MedicationRequest.read")).status_code == 403
        response = client.get("/fhir/AuditEvent", headers=_token(audience, "system/AuditEvent.read"))
        assert response.status_code == 200
        [event] = [e["resource"] for e in response.json()["entry"]]
        assert event["agent"][0]["who"]["identifier"]["value"] == f"iss={ISS} sub=pharmacist-7"  # the caller, from the token


def test_feedback_bodies_are_capped_and_validated_and_never_keep_the_comment(open_client):
    [card] = critical(open_client.post(SIGN, json=example("order-sign-intravenous.json")).json()["cards"])
    huge = example("feedback-overridden.json")
    huge["feedback"][0]["card"] = card["uuid"]
    huge["feedback"][0]["overrideReason"]["userComment"] = "x" * 100_000
    too_large = open_client.post(SIGN + "/feedback", json=huge)
    assert too_large.status_code == 413 and too_large.json()["error"] == "too-large"
    many = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-20T10:00:00Z"}] * 101}
    assert open_client.post(SIGN + "/feedback", json=many).status_code == 400
    fine = example("feedback-overridden.json")
    fine["feedback"][0]["card"] = card["uuid"]
    fine["feedback"][0]["overrideReason"]["userComment"] = "Patient Jane Roe asked for it"
    assert open_client.post(SIGN + "/feedback", json=fine).json() == {"received": 1, "stored": 1}
    forged = example("feedback-overridden.json")  # a card medval never issued: said, not counted
    assert open_client.post(SIGN + "/feedback", json=forged).json() == {"received": 1, "stored": 0, "unknownCards": ["feedback[0]"]}
    summary = open_client.get("/cds-services/feedback-summary").json()
    assert summary["byRule"]["route-not-permitted"]["overridden"] == 1 and summary["totals"]["overridden"] == 1
    assert "Jane Roe" not in orjson.dumps(summary).decode()
    assert open_client.get("/cds-services/feedback-summary", params={"since": "yesterday"}).status_code == 400
    today, tomorrow = datetime.now(UTC).date(), datetime.now(UTC).date() + timedelta(days=1)
    window = {"since": today.isoformat(), "until": today.isoformat()}  # a date alone is its whole day, as on the page
    assert open_client.get("/cds-services/feedback-summary", params=window).json()["totals"]["overridden"] == 1
    later = {"since": tomorrow.isoformat()}
    assert open_client.get("/cds-services/feedback-summary", params=later).json()["totals"]["overridden"] == 0


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + orjson.dumps(getattr(record, "fields", {}), default=str).decode())


def test_logs_carry_request_ids_and_rule_codes_never_the_patient(open_client):
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in ("medval.http", "medval.cds")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        order = oral_order(subject={"reference": "Patient/secret-patient-93"})
        open_client.post(MR_VALIDATE, content=orjson.dumps(order), headers={"content-type": FHIR_JSON, "x-request-id": "log-1"})
        cds = example("order-sign-intravenous.json")
        cds["context"]["patientId"] = "secret-patient-94"
        open_client.post(SIGN, json=cds)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = "\n".join(handler.lines)
    assert "log-1" in text and "route-not-permitted" in text  # the logs are there...
    assert "secret-patient" not in text  # ...and say nothing about whom
    assert "Patient/secret-patient-93" in open_client.get("/fhir/AuditEvent", params={"patient": "secret-patient-93"}).text


def _samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_parse_and_count_requests_by_route_template_findings_and_cards(open_client):
    before = _samples(open_client)
    open_client.post(MR_VALIDATE, content=orjson.dumps(oral_order(dose=40, frequency=4)), headers={"content-type": FHIR_JSON})
    open_client.post("/cds-services/no-such-service-123", json={})
    open_client.post(SIGN, json=example("order-sign-intravenous.json"))
    after = _samples(open_client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("medval_http_requests_total", endpoint=MR_VALIDATE, method="POST", status="200") == 1
    assert grew("medval_http_requests_total", endpoint="/cds-services/{service_id}", method="POST", status="404") == 1
    assert not any("no-such-service-123" in str(labels) for _, labels in after)  # templates, never raw paths
    assert grew("medval_http_request_duration_seconds_count", endpoint=MR_VALIDATE) == 1
    assert grew("medval_findings_total", rule="daily-dose-exceeds-maximum", severity="error") == 1
    assert grew("medval_cds_cards_issued_total", service="medval-order-sign", rule="route-not-permitted", indicator="critical") == 1


def test_the_committee_page_is_self_contained_and_reads_the_summary(open_client):
    response = open_client.get("/committee")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "/cds-services/feedback-summary" in page and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace('"http://www.w3.org/2000/svg"', "")
    assert "https://" not in page  # no CDN, no font service: it works on a hospital network with no internet


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed; the page's script is not run")
def test_the_committee_page_draws_rates_reasons_and_never_accepted_rules_in_a_real_browser(open_client, databases):
    if databases.kind != "sqlite":
        pytest.skip("the page reads the summary endpoint; one database is enough to run its script")
    cards = open_client.post(SIGN, json=example("order-sign-intravenous.json")).json()["cards"]
    for card in critical(cards) * 3:  # overridden three times, never accepted
        feedback = example("feedback-overridden.json")
        feedback["feedback"][0]["card"] = card["uuid"]
        assert open_client.post(SIGN + "/feedback", json=feedback).json()["stored"] == 1
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(open_client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom"]
        dom = subprocess.run([*command, f"http://127.0.0.1:{port}/committee"], capture_output=True, text=True, timeout=90).stdout
    finally:
        server.should_exit = True
        thread.join(10)
    rows = re.search(r'<table id="rules">.*?</table>', dom, re.S).group(0)
    assert "<td>route-not-permitted</td>" in rows and '<td class="n">3</td><td class="n">100%</td>' in rows
    assert "<td>specialist-directed</td>" in re.search(r'<table id="reasons">.*?</table>', dom, re.S).group(0)
    assert "route-not-permitted (overridden 3 times, never accepted)" in dom
    assert "<polyline" in dom and '<p id="status" role="status"></p>' in dom  # drawn, and no error shown


def test_without_its_database_medval_still_checks_orders_and_says_what_waits(monkeypatch, database_url):
    # a database of its own (this test breaks it), not the session's shared one
    for open_client in _app(monkeypatch, database_url, MEDVAL_AUDIT_ALLOW_ANONYMOUS="true"):
        _checks_without_tables(open_client)


def _checks_without_tables(open_client: TestClient) -> None:
    [card] = critical(open_client.post(SIGN, json=example("order-sign-intravenous.json")).json()["cards"])
    store = open_client.app.state.store
    with store.engine.begin() as db:  # the database loses its tables (a restore gone wrong, a dropped schema)
        for table in ("cds_feedback", "cds_cards", "audit_events"):
            db.exec_driver_sql(f"DROP TABLE {table}")
    order = oral_order(dose=40, frequency=4)
    checked = open_client.post(MR_VALIDATE, content=orjson.dumps(order), headers={"content-type": FHIR_JSON})
    assert checked.status_code == 200 and "daily-dose-exceeds-maximum" in checked.text  # the clinical answer comes first
    assert critical(open_client.post(SIGN, json=example("order-sign-intravenous.json")).json()["cards"])
    feedback = example("feedback-overridden.json")
    feedback["feedback"][0]["card"] = card["uuid"]
    for response in (
        open_client.post(SIGN + "/feedback", json=feedback),
        open_client.get("/cds-services/feedback-summary"),
        open_client.get("/fhir/AuditEvent"),
    ):
        assert response.status_code == 503 and response.json()["issue"][0]["code"] == "transient"
        assert response.headers["retry-after"] == "5"
