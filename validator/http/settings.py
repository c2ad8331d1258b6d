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
    # CPU seconds one request may spend validating a Bundle; orders not reached by then get check-not-finished.
    request_budget_s: float = Field(default=10.0, gt=0)
    # Connection hygiene (validator/http/server.py): seconds to deliver a request's headers, then its body;
    # seconds an idle keep-alive connection stays open; connections per worker before 503.
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    keep_alive_s: int = Field(default=5, gt=0)
    max_connections: int = Field(default=256, gt=0)
    # The header a load balancer or integration engine uses to correlate requests.
    request_id_header: str = "X-Request-ID"
