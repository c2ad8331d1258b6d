"""create_app(): the FastAPI application. Profiles are loaded and checked before it answers ready.

Profiles are read-only, loaded once per process; everything the service remembers (issued cards, feedback,
used token ids, the audit trail) is in the store (validator.store), shared by every worker and replica.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

import validator
from validator import check, default_profiles

from ..store import Store, StoreSettings
from .audit_events import build_audit_router
from .cds_hooks import build_cds_router
from .cds_settings import CdsSettings
from .committee import router as committee_router
from .fhir import router as fhir_router
from .metrics import MetricsMiddleware
from .metrics import router as metrics_router
from .observability import LOGGER_NAME, RequestContextMiddleware, configure_logging
from .problems import RequestProblem, plain_outcome, problem_outcome
from .responses import FHIRResponse
from .settings import Settings

_WARM_UP_ORDER = (
    b'{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/x"},'
    b'"medicationCodeableConcept":{"text":"warm-up"}}'
)
_HTTP_ISSUE_TYPES = {404: "not-found", 405: "not-supported"}


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    store_settings = StoreSettings()
    store = store or Store.open(store_settings)  # migrates to head under a lock (a no-op once `medval serve` has)
    logger = configure_logging(settings.log_level)
    profiles = default_profiles()  # fails fast: a broken profile stops the worker before it ever answers
    # One throwaway validation per FHIR version loads the models, so the first real order is not slow.
    for version in ("4.0", "5.0"):
        check(_WARM_UP_ORDER, version)
    app = FastAPI(
        title="medval",
        version=validator.__version__,
        description="FHIR $validate for medication orders. Every answer, success or failure, is a FHIR OperationOutcome.",
    )
    app.state.settings = settings
    app.state.profile_ids = {p.id: p.label for p in profiles.profiles}
    app.state.ready = True
    app.state.store = store
    app.include_router(fhir_router)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware, header=settings.request_id_header)
    _add_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    cds_settings = CdsSettings()
    cds_router = build_cds_router(cds_settings, profiles=profiles, store=store)  # CDS Hooks services
    app.include_router(cds_router)
    verifier = cds_router.cds_service.verifier  # type: ignore[attr-defined]
    app.include_router(build_audit_router(store, verifier, cds_settings.public_url, store.settings.audit_allow_anonymous))
    app.include_router(metrics_router)
    app.include_router(committee_router)

    @app.get("/health", tags=["operations"], responses={503: {"description": "Not ready yet."}})
    async def health(request: Request) -> JSONResponse:
        if not getattr(request.app.state, "ready", False):
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "profiles": list(request.app.state.profile_ids.values())})

    logger.info("ready", extra={"fields": {"profiles": list(app.state.profile_ids), "max_body_bytes": settings.max_body_bytes}})
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestProblem)
    async def request_problem(request: Request, exc: RequestProblem) -> FHIRResponse:
        if exc.about_input:
            request.state.rule_codes = ["input-invalid"]
        return FHIRResponse(problem_outcome(exc), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> FHIRResponse:
        outcome = plain_outcome("error", _HTTP_ISSUE_TYPES.get(exc.status_code, "processing"), str(exc.detail))
        return FHIRResponse(outcome, exc.status_code, exc.headers)

    @app.exception_handler(SQLAlchemyError)
    async def store_unavailable(request: Request, exc: SQLAlchemyError) -> FHIRResponse:
        # what needs the database (feedback, summaries, the audit trail, the used-token check) waits for it
        logging.getLogger(LOGGER_NAME).error(
            "store-unavailable",
            extra={"fields": {"request_id": getattr(request.state, "request_id", ""), "error_type": type(exc).__name__}},
        )
        outcome = plain_outcome("error", "transient", "medval's database is unavailable; try again shortly.")
        return FHIRResponse(outcome, 503, {"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, exc: RequestValidationError) -> FHIRResponse:
        names = ", ".join(sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})) or "a parameter"
        return FHIRResponse(plain_outcome("error", "invalid", f"Invalid request parameter: {names}."), 400)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, without FastAPI's 422 answers: medval answers parameter problems with 400 OperationOutcomes."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
