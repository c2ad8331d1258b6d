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
from typing import Any, Protocol

import httpx
import jwt
from starlette.concurrency import run_in_threadpool

from ..store import Store
from .cds_settings import CdsSettings, TrustedClient, normalise_base_url

log = logging.getLogger("medval.cds.security")

_MAX_REPLAY_ENTRIES = 100_000
_JWKS_MIN_REFRESH_S = 10.0
_JWKS_MAX_BYTES = 256_000


class ReplayGuard(Protocol):
    """Remembers used token ids. The default lives in this process; a shared store (database, Redis) makes
    replay protection hold across workers and restarts: pass it to JwtVerifier(replay_guard=...)."""

    async def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        """True the first time (iss, jti) is seen (and remember it until expires_at); False on every later use."""
        ...


class InMemoryReplayGuard:
    """Per process: holds within one worker until it restarts. Bounded: expired ids are swept when it fills."""

    def __init__(self, max_entries: int = _MAX_REPLAY_ENTRIES, leeway_s: float = 0.0) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._max_entries = max_entries
        self._leeway_s = leeway_s

    async def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        now = time.time()
        if len(self._seen) >= self._max_entries:
            self._seen = {k: v for k, v in self._seen.items() if v + self._leeway_s >= now}
            if len(self._seen) >= self._max_entries:
                raise Refused("replay-cache-full")
        key = (iss, jti)
        if key in self._seen:
            return False
        self._seen[key] = expires_at
        return True


class StoreReplayGuard:
    """Used token ids in the store (validator.store): one row per (iss, jti), so a token is accepted once by every
    worker, before and after a restart; kept until the token could no longer pass the exp check
    (`medval db purge` deletes it after that)."""

    def __init__(self, store: Store, leeway_s: float = 0.0) -> None:
        self._store = store
        self._leeway_s = leeway_s

    async def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        until = datetime.fromtimestamp(expires_at + self._leeway_s, UTC)
        return await run_in_threadpool(self._store.remember_token, iss, jti, until)


class Refused(Exception):
    """A token that does not establish trust; the message is a reason code, for the log only (never the token)."""


class JwtVerifier:
    def __init__(self, settings: CdsSettings, client: httpx.AsyncClient | None = None, replay_guard: ReplayGuard | None = None) -> None:
        self._settings = settings
        self._clients: dict[str, TrustedClient] = {c.iss: c for c in settings.clients}
        self._algorithms = list(settings.allowed_algorithms)
        # used token ids: StoreReplayGuard shares them with every worker and keeps them across restarts (create_app)
        self.replay_guard: ReplayGuard = replay_guard or InMemoryReplayGuard(leeway_s=settings.jwt_leeway_s)
        self._jwks: dict[str, tuple[float, jwt.PyJWKSet]] = {}  # url -> (fetched at, keys)
        self._http = client

    @property
    def enabled(self) -> bool:
        return bool(self._clients)

    async def check(self, authorization: str | None, audience: str) -> str | None:
        """None when the request may go ahead; otherwise why not (for the log)."""
        return (await self.verify(authorization, audience))[1]

    async def verify(self, authorization: str | None, audience: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the token's claims, None) when the request may go ahead, (None, a reason code) otherwise; (None, None) when
        auth is off. The reason goes to the log, never to the caller (and never the token)."""
        if not self.enabled:
            return None, None
        try:
            return await self._verify(authorization, audience), None
        except Refused as exc:
            return None, str(exc)
        except jwt.ExpiredSignatureError:
            return None, "expired"
        except jwt.InvalidAudienceError:
            return None, "wrong-audience"
        except jwt.InvalidSignatureError:
            return None, "bad-signature"
        except jwt.MissingRequiredClaimError:
            return None, "missing-claim"
        except jwt.DecodeError:
            return None, "malformed-token"
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return None, "invalid-token"

    async def _verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        if not authorization:
            raise Refused("no-token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused("not-bearer")
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise Refused("algorithm-not-allowed")
        if "typ" in header and str(header["typ"]).upper() != "JWT":
            raise Refused("typ-not-jwt")
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        client = self._clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise Refused("untrusted-issuer")
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
            raise Refused("jti-invalid")
        exp = float(claims["exp"])
        if exp - float(claims["iat"]) > self._settings.jwt_max_lifetime_s:
            raise Refused("lifetime-too-long")
        if not await self.replay_guard.first_use(client.iss, jti, exp):
            raise Refused("replayed")
        return claims

    async def _key(self, client: TrustedClient, header: dict[str, Any]) -> Any:
        if client.public_key:
            if "jku" in header:
                raise Refused("jku-with-static-key")
            return client.public_key
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("no-kid")
        if client.jwks is not None:
            return _pick(jwt.PyJWKSet.from_dict(client.jwks), kid, header["alg"])
        assert client.jwks_url is not None
        if "jku" in header and normalise_base_url(str(header["jku"])) != normalise_base_url(client.jwks_url):
            raise Refused("jku-mismatch")
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
        except httpx.HTTPError:
            raise Refused("jwks-unavailable") from None
        finally:
            if self._http is None:
                await http.aclose()
        if response.status_code != 200 or len(response.content) > _JWKS_MAX_BYTES:
            raise Refused("jwks-unavailable")
        keys = jwt.PyJWKSet.from_dict(response.json())
        self._jwks[url] = (now, keys)
        return keys


def _pick(keys: jwt.PyJWKSet, kid: str, alg: str) -> Any:
    """The key with this kid; jwt.decode then refuses it if its type does not fit `alg`."""
    for key in keys.keys:
        if key.key_id == kid:
            return key.key
    raise Refused("unknown-key")
