"""CDS Hooks settings, from the environment (MEDVAL_CDS_*), in one place."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class TrustedClient(BaseModel):
    """A CDS client allowed to call: its JWT issuer, and where its public key comes from."""

    iss: str
    jwks_url: str | None = None  # the client's JWK Set; a token's `jku` header must equal it
    jwks: dict[str, Any] | None = None  # or the JWK Set itself, exchanged out of band
    public_key: str | None = None  # or one PEM public key

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedClient:
        given = [x for x in (self.jwks_url, self.jwks, self.public_key) if x]
        if len(given) != 1:
            raise ValueError(f"client {self.iss!r}: give exactly one of jwks_url, jwks, public_key")
        if self.jwks_url and urlsplit(self.jwks_url).scheme not in ("https", "http"):
            raise ValueError(f"client {self.iss!r}: jwks_url must be an http(s) URL")
        return self


def _list(value: Any) -> Any:
    """A JSON list, or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return orjson.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def normalise_base_url(url: str) -> str | None:
    """scheme://host[:port]/path without a trailing slash, lower-case scheme and host; None if not a usable http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"


class CdsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDVAL_CDS_", extra="ignore")

    # FHIR servers the service may fetch patient context from (request.fhirServer must equal one of them).
    fhir_servers: Annotated[list[str], NoDecode] = []
    # Trusted CDS clients (JSON list of TrustedClient). Empty: the CDS endpoints run open.
    clients: Annotated[list[TrustedClient], NoDecode] = []
    # The public base URL of this service (https://cds.example.org): the JWT `aud` is this URL plus the path called.
    # Required when clients are configured: the audience is never derived from the request's Host header.
    public_url: str | None = None
    allowed_algorithms: Annotated[list[str], NoDecode] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]
    jwt_leeway_s: int = 0
    jwt_max_lifetime_s: int = 3600  # tokens valid for longer than this are refused
    jwks_cache_s: float = 5 * 60.0  # five minutes
    fetch_timeout_s: float = 2.0
    fetch_max_bytes: int = 2_000_000
    max_body_bytes: int = 5_000_000
    # LOINC codes to prefetch beyond those the loaded profiles' rules read (MEDVAL_CDS_EXTRA_OBSERVATION_LOINC=a,b)
    extra_observation_loinc: Annotated[list[str], NoDecode] = []
    source_url: str | None = None  # card.source.url, when the pharmacy publishes a page about medval
    # Fetching from fhir_servers for callers nobody authenticated turns medval into a reader of the record for anyone
    # who can reach it: refused at start-up unless trusted clients are configured, or this is set (development only).
    allow_unauthenticated_fetch: bool = False

    @field_validator("fhir_servers", "allowed_algorithms", "extra_observation_loinc", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _list(value)

    @field_validator("clients", mode="before")
    @classmethod
    def _clients(cls, value: Any) -> Any:
        if isinstance(value, str):
            return orjson.loads(value) if value.strip() else []
        return value

    @field_validator("allowed_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a.lower() == "none" or a.upper().startswith("HS")]
        if bad:
            raise ValueError(f"CDS Hooks forbids unsigned and symmetric JWT algorithms: {bad}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        base = normalise_base_url(value)
        if base is None:
            raise ValueError(f"MEDVAL_CDS_PUBLIC_URL: {value!r} is not an http(s) base URL")
        return base

    @model_validator(mode="after")
    def _audience_configured(self) -> CdsSettings:
        if self.clients and not self.public_url:
            # refuse to start: deriving `aud` from Host would accept a token minted for another service
            raise ValueError("MEDVAL_CDS_CLIENTS is set but MEDVAL_CDS_PUBLIC_URL is not: the expected JWT audience must be configured")
        if self.fhir_servers and not self.clients and not self.allow_unauthenticated_fetch:
            raise ValueError(
                "MEDVAL_CDS_FHIR_SERVERS is set but MEDVAL_CDS_CLIENTS is not: anyone could make medval fetch patient data; "
                "configure trusted clients (or MEDVAL_CDS_ALLOW_UNAUTHENTICATED_FETCH=true on a development machine)"
            )
        return self

    @field_validator("fhir_servers")
    @classmethod
    def _servers(cls, value: list[str]) -> list[str]:
        normalised = []
        for url in value:
            base = normalise_base_url(url)
            if base is None:
                raise ValueError(f"MEDVAL_CDS_FHIR_SERVERS: {url!r} is not an http(s) base URL")
            normalised.append(base)
        return normalised
