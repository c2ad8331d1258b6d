"""Issue 13, finding 1: $validate is no oracle for the patient record. Bearer JWTs, SMART scopes, fail closed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Request
from pydantic import ValidationError

from tests.conftest import oral_order
from tests.http.conftest import BUNDLE_VALIDATE, MR_VALIDATE, Client, KeptRecords, assert_outcome, rule_codes
from validator.context.from_server import ContextSettings
from validator.http.app import create_app
from validator.http.auth import AuthSettings, Caller
from validator.http.fhir_access import require_scope
from validator.http.settings import HttpSettings, Settings

FHIR_BASE = "https://ehr.example.org/fhir"
ISS = "https://idp.hospital.example.org"
JWKS_URL = "https://idp.hospital.example.org/jwks"
AUD = "https://medval.hospital.example.org/fhir"
KID = "k1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CHILD = {"resourceType": "Patient", "id": "p1", "birthDate": "2020-01-01"}


def jwks() -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}


def token(scope: str = "system/*.read", key=KEY, alg: str = "RS256", **claims) -> str:
    now = int(time.time())
    body = {"iss": ISS, "sub": "integration-engine", "aud": AUD, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), "scope": scope}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": KID})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def fhir_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.Router]:
    monkeypatch.setenv("MEDVAL_FHIR_BASE_URL", FHIR_BASE)
    monkeypatch.setenv("MEDVAL_FHIR_TOKEN", "service-token")
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(JWKS_URL).respond(200, json=jwks())
        router.get(f"{FHIR_BASE}/Patient/p1").respond(200, json=CHILD)
        router.get(f"{FHIR_BASE}/Patient/p2").respond(200, json={**CHILD, "id": "p2"})
        router.route(host="ehr.example.org").respond(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})
        yield router


def fhir_calls(router: respx.Router) -> list[str]:
    return [str(c.request.url) for c in router.calls if c.request.url.host == "ehr.example.org"]


def make(**auth: object) -> Client:
    settings = AuthSettings(**{"issuers": [{"iss": ISS, "jwks_url": JWKS_URL}], "audience": AUD, **auth})
    context = ContextSettings(fhir_base_url=FHIR_BASE, fhir_token="service-token")  # the server the fixture mocks
    return Client(create_app(Settings(http=HttpSettings(max_body_bytes=64 * 1024), auth=settings, context=context)))


@pytest.fixture(scope="module")
def app_client() -> Client:
    return make()


def test_unauthenticated_call_is_refused_and_nothing_is_fetched(fhir_server, app_client, logs: KeptRecords):
    response = app_client.post_json(MR_VALIDATE, oral_order(5))
    assert_outcome(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert fhir_calls(fhir_server) == []
    assert [e["reason"] for e in logs.events("security-refusal")] == ["no-token"]


def test_bundle_endpoint_is_closed_the_same_way(fhir_server, app_client):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": oral_order(5)}]}
    assert_outcome(app_client.post_json(BUNDLE_VALIDATE, bundle), 401)


def test_system_scope_reads_the_patient(fhir_server, app_client):
    response = app_client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(token("system/*.read")))
    assert_outcome(response, 200)
    assert "pediatric-safety-not-established" in rule_codes(response)
    patient_read = next(c.request for c in fhir_server.calls if c.request.url.path.endswith("/Patient/p1"))
    assert patient_read.headers["authorization"] == "Bearer service-token"


@pytest.mark.parametrize("scope", ["system/Patient.read", "system/*.rs", "system/Patient.cruds", "openid system/*.*"])
def test_other_system_read_scopes_are_enough(fhir_server, app_client, scope: str):
    response = app_client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(token(scope)))
    assert "pediatric-safety-not-established" in rule_codes(response)


@pytest.mark.parametrize("scope", ["openid profile", "system/Observation.read", "system/*.r", "system/*.rs?category=x", "user/*.read"])
def test_a_token_without_patient_read_scope_is_forbidden(fhir_server, app_client, scope: str, logs: KeptRecords):
    response = app_client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(token(scope)))
    assert_outcome(response, 403)
    assert fhir_calls(fhir_server) == []
    assert [e["reason"] for e in logs.events("security-refusal")] == ["insufficient-scope"]


def test_patient_scope_reads_only_its_own_patient(fhir_server, app_client, logs: KeptRecords):
    own = app_client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(token("patient/*.read", patient="p1")))
    assert "pediatric-safety-not-established" in rule_codes(own)
    before = len(fhir_calls(fhir_server))
    other = app_client.post_json(
        MR_VALIDATE, oral_order(5, subject={"reference": "Patient/p2"}), headers=bearer(token("patient/*.read", patient="p1"))
    )
    assert_outcome(other, 200)
    assert len(fhir_calls(fhir_server)) == before  # nothing fetched for p2
    gap = next(i for i in other.json()["issue"] if i["details"]["coding"][0]["code"] == "patient-context-unavailable")
    assert "does not grant access" in gap["details"]["text"] and gap["severity"] == "warning"
    assert "pediatric-safety-not-established" not in rule_codes(other)
    assert "patient-not-in-scope" in [e["reason"] for e in logs.events("security-refusal")]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (lambda: token(aud="https://other-service.example.org"), "wrong-audience"),
        (lambda: token(exp=int(time.time()) - 120), "expired"),
        (lambda: token(nbf=int(time.time()) + 600), "not-yet-valid"),
        (lambda: token(iss="https://evil.example.net"), "untrusted-issuer"),
        (lambda: token(key=OTHER_KEY), "bad-signature"),
        (lambda: jwt.encode({"iss": ISS, "aud": AUD, "sub": "x", "exp": int(time.time()) + 60}, "k" * 32, algorithm="HS256"), ""),
        (lambda: "not-a-jwt", "malformed-token"),
    ],
)
def test_invalid_tokens_are_refused_with_a_logged_reason(fhir_server, app_client, logs: KeptRecords, value, reason: str):
    sent = value()
    response = app_client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(sent))
    assert_outcome(response, 401)
    assert fhir_calls(fhir_server) == []
    [event] = logs.events("security-refusal")
    assert event["reason"] == (reason or "algorithm-not-allowed")
    assert sent not in json.dumps([r.__dict__.get("fields") for r in logs.records])  # never the token


def test_jwks_is_fetched_once_and_cached(fhir_server):
    client = make()
    for _ in range(3):
        client.post_json(MR_VALIDATE, oral_order(5), headers=bearer(token()))
    assert sum(1 for c in fhir_server.calls if str(c.request.url) == JWKS_URL) == 1


def test_anonymous_callers_when_allowed_get_no_patient_data(fhir_server):
    response = make(allow_anonymous=True).post_json(MR_VALIDATE, oral_order(5))
    assert_outcome(response, 200)
    assert fhir_calls(fhir_server) == []
    codes = rule_codes(response)
    assert "patient-context-unavailable" in codes and "pediatric-safety-not-established" not in codes


def test_without_a_fhir_server_no_token_is_needed():
    auth = AuthSettings(issuers=[{"iss": ISS, "jwks_url": JWKS_URL}], audience=AUD)
    client = Client(create_app(Settings(auth=auth, context=ContextSettings(fhir_base_url=None))))
    assert_outcome(client.post_json(MR_VALIDATE, oral_order(5)), 200)


def test_auth_enabled_without_an_audience_refuses_to_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEDVAL_AUTH_ISSUERS", json.dumps([{"iss": ISS, "jwks_url": JWKS_URL}]))
    with pytest.raises(ValidationError, match="MEDVAL_AUTH_AUDIENCE"):
        AuthSettings()
    monkeypatch.setenv("MEDVAL_AUTH_AUDIENCE", AUD)
    assert AuthSettings().audience == AUD


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValidationError):
        AuthSettings(algorithms=["HS256"])


def test_jwks_fetch_is_bounded(monkeypatch: pytest.MonkeyPatch):
    with respx.mock(assert_all_mocked=True) as router:
        monkeypatch.setenv("MEDVAL_FHIR_BASE_URL", FHIR_BASE)
        router.get(JWKS_URL).respond(200, content=b"{" + b" " * 300_000 + b"}")
        response = make().post_json(MR_VALIDATE, oral_order(5), headers=bearer(token()))
        assert_outcome(response, 401)
        router.get(JWKS_URL).respond(302, headers={"location": "http://169.254.169.254/"})
        assert_outcome(make().post_json(MR_VALIDATE, oral_order(5), headers=bearer(token())), 401)
        assert all(c.request.url.host == "idp.hospital.example.org" for c in router.calls)


def test_patient_claim_limits_patient_scopes():
    caller = Caller(ISS, "app", frozenset({"patient/*.read"}), patient="p1")
    assert caller.may_read("p1") and not caller.may_read("p2")
    assert not Caller(ISS, "app", frozenset({"patient/*.read"})).may_read_any_record
    assert Caller(ISS, "app", frozenset({"system/*.rs"})).may_read("anyone")


def test_admin_scope_is_required_where_an_endpoint_asks_for_it(fhir_server, logs: KeptRecords):
    """The audit endpoint (store branch) asks for MEDVAL_AUTH_ADMIN_SCOPE through require_scope."""
    app = create_app(Settings(auth=AuthSettings(issuers=[{"iss": ISS, "jwks_url": JWKS_URL}], audience=AUD)))

    @app.get("/admin-probe")
    async def probe(request: Request) -> dict:
        caller = await require_scope(request, request.app.state.auth.settings.admin_scope)
        return {"subject": caller.subject}

    client = Client(app)
    assert client.get("/admin-probe", headers=bearer(token("system/medval.admin"))).json() == {"subject": "integration-engine"}
    assert_outcome(client.get("/admin-probe", headers=bearer(token("system/*.read"))), 403)
    assert_outcome(client.get("/admin-probe"), 401)
    assert [e["reason"] for e in logs.events("security-refusal")] == ["insufficient-scope", "no-token"]


def test_an_unknown_profile_is_refused_before_any_record_is_fetched(fhir_server, app_client):
    # a review found the record fetched (with medval's own token) and then thrown away for the 400
    refused = app_client.post_json(MR_VALIDATE + "?profile=https://example.org/no-such-profile", oral_order(5), headers=bearer(token()))
    assert_outcome(refused, 400)
    assert fhir_calls(fhir_server) == []
    known = app_client.post_json(MR_VALIDATE + "?profile=baclofen", oral_order(5), headers=bearer(token()))
    assert_outcome(known, 200)
    assert fhir_calls(fhir_server)  # the safe look-alike: a known profile, the record is read
