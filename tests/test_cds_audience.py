"""Issue 13, finding 4: the expected `aud` is configured, never taken from the Host header; replay goes through one guard."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import respx
from pydantic import ValidationError

from tests.cds_support import SIGN, example, make_client
from tests.test_cds_security import ISS, JWKS_URL, KEY, _jwks, bearer, token
from validator.http.cds_security import InMemoryReplayGuard, JwtVerifier
from validator.http.cds_settings import CdsSettings

PUBLIC = "https://cds.hospital.example.org"
OTHER_SERVICE = "http://other-cds.example.net"


@pytest.fixture
def jwks():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router.get(JWKS_URL).respond(200, json=_jwks(KEY))


def test_trusted_clients_without_a_public_url_refuse_to_start():
    with pytest.raises(ValidationError, match="MEDVAL_CDS_PUBLIC_URL"):
        CdsSettings(clients=[{"iss": ISS, "jwks_url": JWKS_URL}])


def test_open_mode_needs_no_public_url():
    assert CdsSettings().public_url is None


def test_public_url_must_be_a_plain_https_or_http_base():
    with pytest.raises(ValidationError):
        CdsSettings(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url="cds.example.org")


def test_token_for_another_service_is_refused_whatever_the_host_header(jwks):
    client = make_client(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url=PUBLIC)
    stolen = token(aud=OTHER_SERVICE + SIGN)  # minted for another CDS service
    response = client.post(SIGN, json=example("order-sign-clean.json"), headers={**bearer(stolen), "Host": "other-cds.example.net"})
    assert response.status_code == 401


def test_token_for_this_service_is_accepted_whatever_the_host_header(jwks):
    client = make_client(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url=PUBLIC)
    mine = token(aud=PUBLIC + SIGN)
    response = client.post(SIGN, json=example("order-sign-clean.json"), headers={**bearer(mine), "Host": "10.0.0.7:8080"})
    assert response.status_code == 200


class SharedGuard:
    """Another worker's view of the same used-token store (what the store branch provides from the database)."""

    def __init__(self, used: set[tuple[str, str]]) -> None:
        self.used = used

    async def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        if (iss, jti) in self.used:
            return False
        self.used.add((iss, jti))
        return True


def test_replay_goes_through_the_guard_so_a_shared_store_holds_across_workers(jwks):
    shared: set[tuple[str, str]] = set()
    settings = CdsSettings(clients=[{"iss": ISS, "jwks_url": JWKS_URL}], public_url=PUBLIC)
    worker_a = JwtVerifier(settings, replay_guard=SharedGuard(shared))
    worker_b = JwtVerifier(settings, replay_guard=SharedGuard(shared))
    value = f"Bearer {token(aud=PUBLIC + SIGN, jti=str(uuid.uuid4()))}"
    assert asyncio.run(worker_a.check(value, PUBLIC + SIGN)) is None
    assert asyncio.run(worker_b.check(value, PUBLIC + SIGN)) == "replayed"


def test_in_memory_guard_is_the_default_and_refuses_a_second_use():
    guard = InMemoryReplayGuard()
    assert asyncio.run(guard.first_use(ISS, "j1", 2e9))
    assert not asyncio.run(guard.first_use(ISS, "j1", 2e9))
    assert asyncio.run(guard.first_use(ISS, "j2", 2e9))
