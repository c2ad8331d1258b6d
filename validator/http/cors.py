"""CORS for the CDS Hooks and FHIR endpoints, off unless MEDVAL_CORS_ORIGINS names the browser origins to allow.

Browser-based CDS clients (the CDS Hooks sandbox, SMART apps) call from another origin. The headers follow the CDS
Hooks specification's CORS section: methods GET, POST, OPTIONS; request headers Authorization and Content-Type;
credentials allowed; Origin, Accept, Content-Location, Location and X-Requested-With exposed (plus medval's request id
and profile headers). Only the listed origins are echoed back (`*` allows any, for a test bench only).
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = ("/cds-services", "/fhir/")
ALLOWED_METHODS = ["GET", "POST", "OPTIONS"]
ALLOWED_HEADERS = ["Authorization", "Content-Type"]
EXPOSED_HEADERS = ["Origin", "Accept", "Content-Location", "Location", "X-Requested-With", "X-Request-ID", "X-Medval-Profile"]


def parse_origins(value: str) -> list[str]:
    """`https://a.example, https://b.example` -> the origins, without trailing slashes (browsers send none)."""
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


class PathScopedCors:
    """CORSMiddleware for the CDS Hooks and FHIR paths only; the page, /docs and /health are same-origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=True,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CORS_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
