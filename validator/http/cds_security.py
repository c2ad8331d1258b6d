"""Trusting CDS clients (CDS Hooks 2.0, "Trusting CDS Clients"): a signed JWT bearer token on every call.

Checked: an asymmetric `alg` from the allow-list (never `none`, never HMAC), `typ` JWT, a trusted `iss`,
the signature against that issuer's key (its JWK Set by `kid`, fetched only from the configured URL;
a `jku` header must name that same URL), `aud` equal to the URL being called, `exp`, `iat`, and a
`jti` not seen before by any worker (kept in the shared store until the token expires).
The reason for a refusal goes to the log, never to the caller.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from starlette.concurrency import run_in_threadpool

from ..store import Store
from .cds_settings import CdsSettings, TrustedClient, normalise_base_url

log = logging.getLogger("medval.cds.security")

_JWKS_MIN_REFRESH_S = 10.0
_JWKS_MAX_BYTES = 256_000


class Refused(Exception):
    """A token that does not establish trust; the message is for the log only."""


class JwtVerifier:
    def __init__(self, settings: CdsSettings, client: httpx.AsyncClient | None = None, store: Store | None = None) -> None:
        self._settings = settings
        self._clients: dict[str, TrustedClient] = {c.iss: c for c in settings.clients}
        self._algorithms = list(settings.allowed_algorithms)
        self._store = store or Store.in_memory()  # used token ids: shared by every worker when create_app passes the store
        self._jwks: dict[str, tuple[float, jwt.PyJWKSet]] = {}  # url -> (fetched at, keys)
        self._http = client

    @property
    def enabled(self) -> bool:
        return bool(self._clients)

    async def check(self, authorization: str | None, audience: str) -> str | None:
        """None when the request may go ahead; otherwise why not (for the log)."""
        return (await self.verify(authorization, audience))[1]

    async def verify(self, authorization: str | None, audience: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the token's claims, None) when the request may go ahead, (None, why not) otherwise; (None, None) when auth is off."""
        if not self.enabled:
            return None, None
        try:
            return await self._verify(authorization, audience), None
        except Refused as exc:
            return None, str(exc)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    async def _verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        if not authorization:
            raise Refused("no Authorization header")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused("the Authorization header is not a Bearer token")
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise Refused(f"algorithm {alg!r} is not allowed")
        if "typ" in header and str(header["typ"]).upper() != "JWT":
            raise Refused(f"typ {header['typ']!r} is not JWT")
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        client = self._clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise Refused(f"issuer {iss!r} is not a trusted CDS client")
        key = await self._key(client, header)
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=client.iss,
            leeway=self._settings.jwt_leeway_s,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise Refused("jti is not a non-empty string")
        exp = float(claims["exp"])
        if exp - float(claims["iat"]) > self._settings.jwt_max_lifetime_s:
            raise Refused("the token lives longer than allowed")
        # kept until the token could no longer pass the exp check; `medval db purge` deletes it after that
        expires_at = datetime.fromtimestamp(exp + self._settings.jwt_leeway_s, UTC)
        if not await run_in_threadpool(self._store.remember_token, client.iss, jti, expires_at):
            raise Refused(f"jti {jti!r} was already used")
        return claims

    async def _key(self, client: TrustedClient, header: dict[str, Any]) -> Any:
        if client.public_key:
            if "jku" in header:
                raise Refused("jku given for a client configured with a static key")
            return client.public_key
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("no kid in the JWT header")
        if client.jwks is not None:
            return _pick(jwt.PyJWKSet.from_dict(client.jwks), kid, header["alg"])
        assert client.jwks_url is not None
        if "jku" in header and normalise_base_url(str(header["jku"])) != normalise_base_url(client.jwks_url):
            raise Refused("jku is not the JWK Set URL configured for this issuer")
        keys = await self._fetch_jwks(client.jwks_url, force=False)
        try:
            return _pick(keys, kid, header["alg"])
        except Refused:
            keys = await self._fetch_jwks(client.jwks_url, force=True)  # the client may have rotated its keys
            return _pick(keys, kid, header["alg"])

    async def _fetch_jwks(self, url: str, force: bool) -> jwt.PyJWKSet:
        cached = self._jwks.get(url)
        now = time.monotonic()
        if cached and (now - cached[0] < self._settings.jwks_cache_s) and not (force and now - cached[0] >= _JWKS_MIN_REFRESH_S):
            return cached[1]
        http = self._http or httpx.AsyncClient(timeout=self._settings.fetch_timeout_s)
        try:
            response = await http.get(url, headers={"Accept": "application/json"}, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise Refused(f"JWK Set {url} unreachable: {type(exc).__name__}") from None
        finally:
            if self._http is None:
                await http.aclose()
        if response.status_code != 200 or len(response.content) > _JWKS_MAX_BYTES:
            raise Refused(f"JWK Set {url}: HTTP {response.status_code}, {len(response.content)} bytes")
        keys = jwt.PyJWKSet.from_dict(response.json())
        self._jwks[url] = (now, keys)
        return keys


def _pick(keys: jwt.PyJWKSet, kid: str, alg: str) -> Any:
    """The key with this kid; jwt.decode then refuses it if its type does not fit `alg`."""
    for key in keys.keys:
        if key.key_id == kid:
            return key.key
    raise Refused(f"no key {kid!r} in the JWK Set")
