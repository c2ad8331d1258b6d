"""Prometheus metrics. Under `medval serve` every worker writes to PROMETHEUS_MULTIPROC_DIR (prepared before the
workers start) and GET /metrics adds them up; without it (tests, embedding) the process's own registry is used.

Labels are route templates and rule codes, never raw paths or ids: their number stays bounded.
"""

from __future__ import annotations

import os
import time

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .observability import _endpoint

REQUESTS = Counter(
    "medval_http_requests", "HTTP requests answered, by route template, method and status.", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "medval_http_request_duration_seconds",
    "Time to answer, by route template.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FINDINGS = Counter(
    "medval_findings", "Findings reported by $validate and CDS Hooks calls, by rule code and severity.", ["rule", "severity"]
)
CONTEXT_FAILURES = Counter(
    "medval_context_source_failures", "Patient-data fetches that failed or were refused, by source kind.", ["source"]
)
CARDS_ISSUED = Counter(
    "medval_cds_cards_issued", "CDS Hooks cards issued, by service, rule and indicator.", ["service", "rule", "indicator"]
)
CARD_FEEDBACK = Counter("medval_cds_card_feedback", "CDS Hooks feedback stored, by rule and outcome.", ["rule", "outcome"])


class MetricsMiddleware:
    """Counts every HTTP request and its latency under its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            endpoint = _endpoint(scope)
            REQUESTS.labels(endpoint, scope.get("method", ""), str(status)).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}})
async def metrics() -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
