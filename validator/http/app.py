"""create_app(): the FastAPI application. Profiles are loaded and checked before it answers ready.

Built from one settings tree (validator.settings.Settings, read from the environment here at the edge when
none is given); each router gets its branch. Profiles are read-only, loaded once per process; everything the
service remembers (issued cards, feedback, used token ids, the audit trail) is in the store (validator.store),
shared by every worker and replica.
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
from validator import check
from validator.normalise.sig import sig_parser

from ..store import Store
from .audit_events import build_audit_router
from .auth import BearerAuth
from .cds_hooks import build_cds_router
from .committee import router as committee_router
from .cors import PathScopedCors, parse_origins
from .fhir import build_fhir_router
from .methods import MethodsMiddleware
from .metrics import MetricsMiddleware
from .metrics import router as metrics_router
from .observability import LOGGER_NAME, RequestContextMiddleware, configure_logging
from .problems import RequestProblem, plain_outcome, problem_outcome
from .responses import FHIRResponse, answer_for_problem
from .settings import Settings
from .web import add_request_examples, install_web

_WARM_UP_ORDER = (
    b'{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/x"},'
    b'"medicationCodeableConcept":{"text":"warm-up"}}'
)
_HTTP_ISSUE_TYPES = {404: "not-found", 405: "not-supported"}


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()  # the edge: the one place the service reads the environment
    store = store or Store.open(settings.store)  # migrates to head under a lock (a no-op once `medval serve` has)
    logger = configure_logging(settings.http.log_level)
    profiles = settings.profiles.load()  # fails fast: a broken profile stops the worker before it ever answers
    # One throwaway validation per FHIR version loads the models, so the first real order is not slow
    # (no context provider: never a FHIR server request at start-up).
    for version in ("4.0", "5.0"):
        check(_WARM_UP_ORDER, fhir_version=version)
    sig_parser()  # the free-text reader's LALR tables (about 70 ms), built now rather than on the first order with a text
    app = FastAPI(
        title="medval",
        version=validator.__version__,
        description="FHIR $validate for medication orders. Every answer, success or failure, is a FHIR OperationOutcome.",
        docs_url=None,  # served offline by install_web, from packaged assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.auth = BearerAuth(settings.auth)  # refuses to start with issuers and no audience
    context_provider = settings.context.provider(profiles)
    if context_provider is not None and not app.state.auth.enabled and not app.state.auth.settings.allow_anonymous:
        # fail closed: every $validate call is refused until issuers are configured (or anonymous callers allowed)
        logger.warning("auth-not-configured", extra={"fields": {"reason": "fhir-server-without-issuers"}})
    app.state.profile_ids = {p.id: p.label for p in profiles.profiles}
    app.state.ready = True
    app.state.store = store
    app.include_router(build_fhir_router(settings.http, profiles, context_provider))
    app.add_middleware(MethodsMiddleware)  # HEAD and OPTIONS on every route
    if origins := parse_origins(settings.http.cors_origins):  # outside MethodsMiddleware: preflights are CORS's to answer
        app.add_middleware(PathScopedCors, origins=origins)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware, header=settings.http.request_id_header)
    _add_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    cds_router = build_cds_router(settings.cds, profiles, http=settings.http, store=store)  # CDS Hooks services
    app.include_router(cds_router)
    verifier = cds_router.cds_service.verifier  # type: ignore[attr-defined]
    app.include_router(build_audit_router(store, verifier, settings.cds.public_url, settings.store.audit_allow_anonymous))
    app.include_router(metrics_router)
    app.include_router(committee_router)
    install_web(app)  # the page at /, its examples, /docs and /redoc offline

    @app.get("/health", tags=["operations"], responses={503: {"description": "Not ready yet."}})
    async def health(request: Request) -> JSONResponse:
        if not getattr(request.app.state, "ready", False):
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "profiles": list(request.app.state.profile_ids.values())})

    logger.info("ready", extra={"fields": {"profiles": list(app.state.profile_ids), "max_body_bytes": settings.http.max_body_bytes}})
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestProblem)
    async def request_problem(request: Request, exc: RequestProblem) -> FHIRResponse:
        if exc.about_input:
            request.state.rule_codes = ["input-invalid"]
        return FHIRResponse(problem_outcome(exc), exc.status, exc.headers, answer=answer_for_problem(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> FHIRResponse:
        outcome = plain_outcome("error", _HTTP_ISSUE_TYPES.get(exc.status_code, "processing"), str(exc.detail))
        return FHIRResponse(outcome, exc.status_code, exc.headers, answer=answer_for_problem(request))

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
        outcome = plain_outcome("error", "invalid", f"Invalid request parameter: {names}.")
        return FHIRResponse(outcome, 400, answer=answer_for_problem(request))


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, without FastAPI's 422 answers: medval answers parameter problems with 400 OperationOutcomes."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = add_request_examples(schema)
    return app.openapi_schema
