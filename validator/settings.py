"""One settings tree for the edges, built once where the program starts and passed down.

    settings = Settings()             # reads the environment (MEDVAL_*): create_app() and the CLI do this
    create_app(settings)              # the HTTP service and its routers take their branch of it
    settings.context.provider()       # the FHIR server lookup for lone orders, when one is configured

The library (`validator.validate`, `validator.check`) reads no environment: whatever it needs is an argument.
Each branch keeps its environment variable names: MEDVAL_MAX_BODY_BYTES, MEDVAL_CDS_*, MEDVAL_FHIR_BASE_URL ...
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .context.from_server import ContextSettings
from .http.cds_settings import CdsSettings

FIVE_MEGABYTES = 5 * 1024 * 1024


class HttpSettings(BaseSettings):
    """The HTTP service's own knobs (MEDVAL_MAX_BODY_BYTES, MEDVAL_LOG_LEVEL, MEDVAL_REQUEST_ID_HEADER)."""

    model_config = SettingsConfigDict(env_prefix="MEDVAL_", extra="ignore")

    # Larger bodies get 413 before they are read; a real order or patient Bundle is a few kB.
    max_body_bytes: int = Field(default=FIVE_MEGABYTES, gt=0)
    log_level: str = "INFO"
    # The header a load balancer or integration engine uses to correlate requests.
    request_id_header: str = "X-Request-ID"


class StoreSettings(BaseModel):
    """Where state lives (the store, issue 14); nothing reads it yet."""


class Settings(BaseModel):
    """Every knob, grouped: http (the service), cds (CDS Hooks), context (lone orders' patient lookup), store."""

    http: HttpSettings = Field(default_factory=HttpSettings)
    cds: CdsSettings = Field(default_factory=CdsSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
