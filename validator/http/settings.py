"""Every knob of the HTTP service, read from the environment (prefix MEDVAL_) in this one place."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FIVE_MEGABYTES = 5 * 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDVAL_", extra="ignore")

    # Larger bodies get 413 before they are read; a real order or patient Bundle is a few kB.
    max_body_bytes: int = Field(default=FIVE_MEGABYTES, gt=0)
    log_level: str = "INFO"
    # The header a load balancer or integration engine uses to correlate requests.
    request_id_header: str = "X-Request-ID"
    # Browser origins allowed to call the CDS Hooks and FHIR endpoints (comma-separated); empty: CORS off.
    cors_origins: str = ""
