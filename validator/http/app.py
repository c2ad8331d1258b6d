"""create_app(): the FastAPI application. Profiles are loaded and checked before it answers ready."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ..profile import default_profiles
from .cds_hooks import build_cds_router


def create_app() -> FastAPI:
    profiles = default_profiles()  # fails fast on a broken profile
    app = FastAPI(title="medval", version="0.1.0", description="FHIR MedicationRequest validator")

    app.include_router(build_cds_router(profiles=profiles))  # CDS Hooks services (issue 6)

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "profiles": [p.label for p in profiles.profiles]})

    return app
