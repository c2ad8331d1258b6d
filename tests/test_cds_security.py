"""Trusting CDS clients: a signed JWT on every call when MEDVAL_CDS_CLIENTS names trusted issuers."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.cds_support import SIGN, example, make_client
from validator.http.cds_settings import CdsSettings

ISS = "https://fhir-ehr.example.com/"
JWKS_URL = "https://fhir-ehr.example.com/jwk_uri"
BASE = "http://testserver"
KID = "example-kid"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


KEY = _key()
OTHER_KEY = _key()


def _jwks(key: ec.EllipticCurvePrivateKey) -> dict:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "ES384"}]}


def token(aud: str = BASE + SIGN, key=KEY, exp_in: int = 300, jti: str | None = None, alg: str = "ES384", **extra_header) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": aud, "exp": now + exp_in, "iat": now - 5, "jti": jti or str(uuid.uuid4()), "tenant": "2ddd6c3a"}
    headers = {"kid": KID, "typ": "JWT", "jku": JWKS_URL, **extra_header}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def jwks_server():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        route = router.get(JWKS_URL).respond(200, json=_jwks(KEY))
        yield route


@pytest.fixture
def client(jwks_server):
    return make_client(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url=BASE)


def _assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}  # no detail leaked
    assert response.headers["www-authenticate"] == "Bearer"


def test_valid_token_is_accepted_on_discovery_service_and_feedback(client, jwks_server):
    assert client.get("/cds-services", headers=bearer(token(aud=BASE + "/cds-services"))).status_code == 200
    response = client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token()))
    # accepted: the order is judged (a first oral order gets its starting-dose card), nothing is refused
    assert response.status_code == 200
    assert all(card["indicator"] != "critical" for card in response.json()["cards"])
    feedback = example("feedback-overridden.json")
    response = client.post(SIGN + "/feedback", json=feedback, headers=bearer(token(aud=BASE + SIGN + "/feedback")))
    assert response.status_code == 200
    assert jwks_server.call_count == 1  # the JWK Set is cached


def test_wrong_signature_is_refused(client):
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(key=OTHER_KEY))))


def test_wrong_audience_is_refused(client):
    for aud in (BASE + "/cds-services/medval-order-select", "https://cds.example.org" + SIGN, BASE + "/cds-services"):
        _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(aud=aud))))


def test_expired_token_is_refused(client):
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(exp_in=-60))))


def test_replayed_jti_is_refused(client):
    jti = str(uuid.uuid4())
    assert client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(jti=jti))).status_code == 200
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(jti=jti))))


def test_no_token_is_refused_everywhere(client):
    _assert_refused(client.get("/cds-services"))
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json")))
    _assert_refused(client.post("/cds-services/unknown-service", json={}))  # no hint which services exist
    _assert_refused(client.post(SIGN + "/feedback", json=example("feedback-overridden.json")))
    _assert_refused(client.get("/cds-services/feedback-summary"))
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def test_untrusted_issuer_unsigned_and_symmetric_tokens_are_refused(client):
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + SIGN, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())}
    hmac = jwt.encode(claims, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256", headers={"kid": KID})
    unsigned = jwt.encode(claims, None, algorithm="none")
    stranger = jwt.encode({**claims, "iss": "https://other-ehr.example.net/"}, KEY, algorithm="ES384", headers={"kid": KID})
    for value in (hmac, unsigned, stranger, "not-a-jwt"):
        _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(value)))


def test_token_missing_jti_or_iat_is_refused(client):
    now = int(time.time())
    for claims in (
        {"iss": ISS, "aud": BASE + SIGN, "exp": now + 60, "iat": now},
        {"iss": ISS, "aud": BASE + SIGN, "exp": now + 60, "jti": "j"},
    ):
        value = jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": KID})
        _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(value)))


def test_foreign_jku_is_refused_and_never_fetched(jwks_server):
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        evil = router.get("https://evil.example.net/jwks").respond(200, json=_jwks(OTHER_KEY))
        keys = router.get(JWKS_URL).respond(200, json=_jwks(KEY))
        client = make_client(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url=BASE)
        value = token(key=OTHER_KEY, jku="https://evil.example.net/jwks")
        _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(value)))
        assert evil.call_count == 0 and keys.call_count == 0


def test_static_public_key_and_public_url_audience():
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client = make_client(clients=[{"iss": ISS, "public_key": pem}], public_url="https://cds.example.org/medval")
    now = int(time.time())
    claims = {"iss": ISS, "aud": "https://cds.example.org/medval" + SIGN, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())}
    value = jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})
    assert client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(value)).status_code == 200
    _assert_refused(client.post(SIGN, json=example("order-sign-clean.json"), headers=bearer(token(aud=BASE + SIGN))))


def test_open_mode_is_announced_at_start_up(caplog):
    with caplog.at_level("WARNING", logger="medval.cds"):
        make_client()
    assert any("OPEN" in r.getMessage() for r in caplog.records)


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValueError):
        CdsSettings(allowed_algorithms=["HS256"])
    with pytest.raises(ValueError):
        CdsSettings(clients=[{"iss": ISS}])  # no key source


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEDVAL_CDS_FHIR_SERVERS", "https://FHIR.example.org/r4/, https://other.example.org")
    monkeypatch.setenv("MEDVAL_CDS_CLIENTS", json.dumps([{"iss": ISS, "jwks_url": JWKS_URL}]))
    monkeypatch.setenv("MEDVAL_CDS_PUBLIC_URL", "https://cds.example.org/medval/")
    settings = CdsSettings()
    assert settings.fhir_servers == ["https://fhir.example.org/r4", "https://other.example.org"]
    assert settings.clients[0].jwks_url == JWKS_URL
