"""GET /committee: the safety committee's page (static HTML + a few lines of JS, no internet), drawn from
GET /cds-services/feedback-summary."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["operations"])
# the page loads nothing from elsewhere; its script and style are inline
_POLICY = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"


@cache
def _page() -> str:
    return files("validator.http").joinpath("static/committee.html").read_text(encoding="utf-8")


@router.get("/committee", response_class=HTMLResponse, summary="Override analytics for the safety committee")
async def committee() -> HTMLResponse:
    return HTMLResponse(
        _page(), headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"}
    )
