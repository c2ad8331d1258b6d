"""The web edge: the validation page at `/`, its examples, and the OpenAPI pages served offline.

Everything here ships in the package (validator/http/static/web, validator/http/examples) or in fastapi-offline's
wheel (Swagger UI and ReDoc assets), so a hospital network without internet access gets working pages. The page's
examples are copies of files in the repository's examples/ folder (tests/http/test_web.py keeps them identical);
the same files give the OpenAPI description realistic request examples for every operation.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import fastapi_offline
import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse, JSONResponse

from .problems import RequestProblem

WEB_DIR = Path(str(files("validator.http") / "static" / "web"))
EXAMPLES_DIR = Path(str(files("validator.http") / "examples"))
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_URL = "/static-offline-docs"
# The page loads only its own files and talks only to this server.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@lru_cache(maxsize=1)
def packaged_examples() -> dict[str, dict[str, Any]]:
    """name ("orders/oral-tablet-tid") -> the example document, for every example shipped in the package."""
    return {path.stem.replace("_", "/", 1): orjson.loads(path.read_bytes()) for path in sorted(EXAMPLES_DIR.glob("*.json"))}


def _title(document: dict[str, Any]) -> str:
    resource = document
    if document.get("resourceType") == "Parameters":
        resource = next((p.get("resource", {}) for p in document.get("parameter", []) if p.get("name") == "resource"), {})
    if resource.get("resourceType") == "Bundle":
        kinds = [e.get("resource", {}).get("resourceType", "?") for e in resource.get("entry", [])]
        return f"Bundle of {len(kinds)}: " + ", ".join(sorted(set(kinds)))
    medication = resource.get("medicationCodeableConcept") or (resource.get("medication") or {}).get("concept") or {}
    return f"{document.get('resourceType')}: {medication.get('text') or 'order'}"


def install_web(app: FastAPI) -> None:
    """Adds `/`, `/web/*`, `/examples`, and offline `/docs` and `/redoc` (the app is made with docs_url=None)."""
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="offline-docs")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @app.get("/examples", include_in_schema=False)
    async def example_list() -> JSONResponse:
        shown = [
            {"name": name, "title": _title(doc), "resourceType": doc["resourceType"]}
            for name, doc in packaged_examples().items()
            if "resourceType" in doc  # the CDS Hooks requests serve the OpenAPI examples, not the page
        ]
        return JSONResponse({"examples": shown})

    @app.get("/examples/{name:path}", include_in_schema=False)
    async def example(name: str) -> JSONResponse:
        document = packaged_examples().get(name)
        if document is None:
            raise RequestProblem(404, "not-found", f"There is no example {name[:100]!r}; see /examples.", about_input=False)
        return JSONResponse(document)

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title}: API",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title}: API",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


_OPERATION_EXAMPLES = {
    ("/fhir/MedicationRequest/$validate", "post"): [
        "orders/oral-max-exceeded",
        "orders/intrathecal-coded-as-iv",
        "orders/oral-tablet-tid",
        "orders/parameters-wrapped-order",
        "orders/r5-oral-codeablereference",
    ],
    ("/fhir/Bundle/$validate", "post"): ["bundles/two-orders-one-iv", "context/renal-egfr-low", "context/titration-too-fast-oral"],
    ("/cds-services/{service_id}", "post"): ["cds-hooks/order-sign-oral-over-maximum", "cds-hooks/order-select-selection"],
    ("/cds-services/{service_id}/feedback", "post"): ["cds-hooks/feedback-overridden"],
}


def add_request_examples(schema: dict[str, Any]) -> dict[str, Any]:
    """Realistic request bodies from examples/ for every operation that takes one (OpenAPI `examples`)."""
    documents = packaged_examples()
    for (path, method), names in _OPERATION_EXAMPLES.items():
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        examples = {name.replace("/", "-"): {"summary": _summary(name, documents[name]), "value": documents[name]} for name in names}
        body = operation.setdefault("requestBody", {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
        for media_type, content in body["content"].items():
            if "json" in media_type:
                content.pop("example", None)
                content["examples"] = examples
    return schema


def _summary(name: str, document: dict[str, Any]) -> str:
    if "hook" in document:
        return f"{document['hook']} request ({name.rsplit('/', 1)[-1]})"
    if "outcome" in str(document.get("feedback", "")):
        return f"feedback ({name.rsplit('/', 1)[-1]})"
    return f"{name}: {_title(document)}"
