"""One settings tree for the edges, built once where the program starts and passed down.

    settings = Settings()             # reads the environment (MEDVAL_*): create_app() and the CLI do this
    create_app(settings)              # the HTTP service and its routers take their branch of it
    profiles = settings.profiles.load()  # the drug profiles: packaged, with MEDVAL_PROFILE_DIR's added or replacing
    settings.context.provider(profiles)  # the FHIR server lookup for lone orders, when one is configured

The library (`validator.validate`, `validator.check`) reads no environment: whatever it needs is an argument.
Each branch keeps its environment variable names: MEDVAL_MAX_BODY_BYTES, MEDVAL_CDS_*, MEDVAL_FHIR_BASE_URL ...
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .context.from_server import ContextSettings
from .http.auth import AuthSettings
from .http.cds_settings import CdsSettings
from .profile import ProfileSettings
from .store.settings import StoreSettings

FIVE_MEGABYTES = 5 * 1024 * 1024


class HttpSettings(BaseSettings):
    """The HTTP service's own knobs (MEDVAL_MAX_BODY_BYTES, MEDVAL_LOG_LEVEL, MEDVAL_REQUEST_BUDGET_S, ...)."""

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
    # Browser origins allowed to call the CDS Hooks and FHIR endpoints (comma-separated); empty: CORS off.
    cors_origins: str = ""


class Settings(BaseModel):
    """Every knob, grouped: http (the service), auth (who may call it), cds (CDS Hooks), context (lone orders'
    patient lookup), store, profiles (MEDVAL_PROFILE_DIR)."""

    model_config = ConfigDict(extra="forbid")  # a flat Settings(max_body_bytes=...) is a mistake, never silently ignored

    http: HttpSettings = Field(default_factory=HttpSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cds: CdsSettings = Field(default_factory=CdsSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    profiles: ProfileSettings = Field(default_factory=ProfileSettings)
