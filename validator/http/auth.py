"""Who may make medval read a patient's record: bearer JWTs from configured issuers, with SMART scopes.

medval fetches patient context with its own service token (MEDVAL_FHIR_TOKEN), so without this module
anyone who can reach $validate can read any patient's record through it. When a FHIR server is
configured for context, every $validate call needs a token that:

- is signed by a configured issuer (MEDVAL_AUTH_ISSUERS: [{"iss": ..., "jwks_url": ...}]), the key found by
  `kid` in that issuer's JWK Set, fetched only from the configured URL (PyJWT's PyJWKClient, cached, with a
  timeout, a byte cap and no redirects), with an asymmetric algorithm;
- names medval in `aud` (MEDVAL_AUTH_AUDIENCE, always configured, never taken from the request), and is
  within `exp` / `nbf`;
- grants read access to patients: `system/*.read`, `system/Patient.read` (SMART v1), `system/*.rs`,
  `system/Patient.rs` (SMART v2), or the same with `patient/`, in which case the token's `patient` claim
  names the one patient whose record may be read.

Anonymous callers are refused (401) unless MEDVAL_AUTH_ALLOW_ANONYMOUS=true; then they are answered
without any patient data being fetched, and the answer says so (patient-context-unavailable).
A refusal's reason code goes to the log, never the token; the caller sees only 401 or 403.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError
from pydantic import BaseModel, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .cds_settings import normalise_base_url

log = logging.getLogger("medval.http")

ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]
_PATIENT_RESOURCES = ("*", "Patient")


class Issuer(BaseModel):
    iss: str
    jwks_url: str

    @field_validator("jwks_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if normalise_base_url(value) is None:
            raise ValueError(f"jwks_url {value!r} is not an http(s) URL")
        return value


class AuthSettings(BaseSettings):
    """MEDVAL_AUTH_*: who may call the FHIR endpoints when they would fetch patient data."""

    model_config = SettingsConfigDict(env_prefix="MEDVAL_AUTH_", extra="ignore")

    issuers: Annotated[list[Issuer], NoDecode] = []  # JSON list of {"iss", "jwks_url"}
    audience: str | None = None  # the `aud` medval's tokens carry, e.g. https://medval.hospital.example.org/fhir
    allow_anonymous: bool = False  # answer token-less callers without fetching patient data, instead of 401
    admin_scope: str = "system/medval.admin"  # the scope the audit endpoint asks for
    algorithms: Annotated[list[str], NoDecode] = ASYMMETRIC
    leeway_s: int = 30
    jwks_cache_s: float = 5 * 60.0  # five minutes
    jwks_timeout_s: float = 2.0
    jwks_max_bytes: int = 256_000

    @field_validator("issuers", mode="before")
    @classmethod
    def _issuers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @field_validator("algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: Any) -> Any:
        return [a.strip() for a in value.split(",") if a.strip()] if isinstance(value, str) else value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a not in ASYMMETRIC]
        if bad:
            raise ValueError(f"MEDVAL_AUTH_ALGORITHMS: only asymmetric algorithms are accepted, not {bad}")
        return value

    @model_validator(mode="after")
    def _audience_configured(self) -> AuthSettings:
        if self.issuers and not self.audience:
            raise ValueError("MEDVAL_AUTH_ISSUERS is set but MEDVAL_AUTH_AUDIENCE is not: the expected token audience must be configured")
        return self


class BoundedJWKClient(PyJWKClient):
    """PyJWKClient (its caching and kid lookup) fetching through httpx: a timeout, a byte cap, no redirects."""

    def __init__(self, uri: str, lifespan: float, timeout_s: float, max_bytes: int) -> None:
        super().__init__(uri, cache_jwk_set=True, lifespan=lifespan, timeout=timeout_s, cooldown_duration=10)
        self.max_bytes = max_bytes

    def fetch_data(self) -> Any:
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream("GET", self.uri, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code != 200:
                    raise PyJWKClientConnectionError(f"JWK Set: HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise PyJWKClientConnectionError(f"JWK Set larger than {self.max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise PyJWKClientConnectionError(f"JWK Set unreachable: {type(exc).__name__}") from None
        try:
            data = self._as_jwk_set_payload(json.loads(bytes(body)))
        except ValueError:
            raise PyJWKClientError("The JWK Set is not JSON") from None
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: who, and which patients' records medval may read for them."""

    iss: str
    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    patient: str | None = None  # the `patient` claim that limits patient/ scopes

    def may_read(self, patient_id: str) -> bool:
        if any(_grants_patient_read(s, "system") for s in self.scopes):
            return True
        return self.patient == patient_id and any(_grants_patient_read(s, "patient") for s in self.scopes)

    @property
    def may_read_any_record(self) -> bool:
        return any(_grants_patient_read(s, "system") for s in self.scopes) or (
            self.patient is not None and any(_grants_patient_read(s, "patient") for s in self.scopes)
        )


def _grants_patient_read(scope: str, context: str) -> bool:
    """`system/*.read`, `system/Patient.read` (SMART v1, `*` too), `system/*.rs` (v2: r and s, no query), for `context`."""
    prefix, _, rest = scope.partition("/")
    resource, _, permission = rest.partition(".")
    if prefix != context or resource not in _PATIENT_RESOURCES or "?" in permission:
        return False
    if permission in ("read", "*"):
        return True
    v2 = set(permission)
    return bool(permission) and v2 <= set("cruds") and {"r", "s"} <= v2


class Refusal(Exception):
    """Why a caller was refused: `code` goes to the log, `status` to the caller (401 or 403)."""

    def __init__(self, code: str, status: int = 401) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class BearerAuth:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._keys = {
            i.iss: BoundedJWKClient(i.jwks_url, settings.jwks_cache_s, settings.jwks_timeout_s, settings.jwks_max_bytes)
            for i in settings.issuers
        }

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller a bearer token establishes; raises Refusal (reason code only, never the token). Blocking: may fetch a JWK Set."""
        if not authorization:
            raise Refusal("no-token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refusal("not-bearer")
        if not self.enabled:
            raise Refusal("no-issuer-configured")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Refusal("malformed-token") from None
        if header.get("alg") not in self.settings.algorithms:
            raise Refusal("algorithm-not-allowed")
        iss = unverified.get("iss")
        keys = self._keys.get(iss) if isinstance(iss, str) else None
        if keys is None:
            raise Refusal("untrusted-issuer")
        try:
            key = keys.get_signing_key_from_jwt(token)
        except PyJWKClientConnectionError:
            raise Refusal("jwks-unavailable") from None
        except (PyJWKClientError, jwt.PyJWTError):
            raise Refusal("unknown-key") from None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[header["alg"]],
                audience=self.settings.audience,
                issuer=iss,
                leeway=self.settings.leeway_s,
                options={"require": ["iss", "aud", "exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Refusal("expired") from None
        except jwt.ImmatureSignatureError:
            raise Refusal("not-yet-valid") from None
        except jwt.InvalidAudienceError:
            raise Refusal("wrong-audience") from None
        except jwt.InvalidSignatureError:
            raise Refusal("bad-signature") from None
        except jwt.PyJWTError:
            raise Refusal("invalid-claims") from None
        scope = claims.get("scope", "")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        patient = claims.get("patient") if isinstance(claims.get("patient"), str) else None
        return Caller(iss, str(claims["sub"]), scopes, patient)
