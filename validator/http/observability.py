"""Request ids, one JSON log line per request, and the last-resort handler for unexpected exceptions.

Log lines carry what operations needs (request id, endpoint, status, time taken, the rule
codes that fired) and never patient data: no bodies, no query strings, no exception
messages (a pydantic or JSON error message can quote the resource), no unmatched paths.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .media import answer_media_type
from .problems import plain_outcome

LOGGER_NAME = "medval.http"
ROOT_LOGGER = "medval"  # one JSON handler here serves medval.http, medval.cds, medval.cds.security ...
# The id of the request being served, for every log line written while it is (threads included: starlette's
# run_in_threadpool copies the context).
REQUEST_ID: ContextVar[str | None] = ContextVar("medval_request_id", default=None)
# An incoming id is echoed only if it is short and plain: it goes into headers and logs.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, event, request id, then the record's `fields`.

    Every value goes through the JSON encoder, so a caller's text (a card id with a newline) cannot forge a line.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker answered
            "event": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:  # where, never the message (it can quote the order)
            line["error_type"] = record.exc_info[0].__name__ if record.exc_info[0] else ""
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str) -> logging.Logger:
    """Every medval logger writes JSON lines to stderr at `level`, whatever uvicorn's own log level; idempotent."""
    root = logging.getLogger(ROOT_LOGGER)
    if not any(getattr(h, "medval_json", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        handler.medval_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False  # not also through uvicorn's or the root logger's plain-text handlers
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.NOTSET)  # inherits the level set on medval
    return logger


def _endpoint(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    endpoint = scope.get("endpoint")  # routes FastAPI adds itself (/openapi.json, /docs) set no "route"
    return getattr(endpoint, "__name__", "unmatched") if endpoint else "unmatched"


def where(exc: BaseException) -> str:
    """file:line:function of the innermost frame: enough to find the bug, nothing from the data."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    short = "/".join(last.filename.replace("\\", "/").rsplit("/", 2)[-2:])
    return f"{short}:{last.lineno}:{last.name}"


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID when sent, echoed back), logs it, and never lets an exception become a bare 500."""

    def __init__(self, app: ASGIApp, header: str = "X-Request-ID") -> None:
        self.app = app
        self.header = header
        self.header_key = header.lower().encode("latin-1")
        self.logger = logging.getLogger(LOGGER_NAME)

    def _request_id(self, scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name.lower() == self.header_key:
                candidate = value.decode("latin-1").strip()
                if SAFE_REQUEST_ID.fullmatch(candidate):
                    return candidate
        return uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        token = REQUEST_ID.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(self.header, request_id)
            await send(message)

        fields: dict[str, Any] = {"request_id": request_id, "method": scope.get("method", "")}
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the last resort: every unexpected failure still gets an OperationOutcome
            fields |= {"error_type": type(exc).__name__, "error_at": where(exc)}
            self.logger.error("unhandled-exception", extra={"fields": {**fields, "endpoint": _endpoint(scope)}})
            if status == 0:
                status = 500
                await self._send_fatal(send_with_id)
        finally:
            fields |= {
                "endpoint": _endpoint(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "rule_codes": state.get("rule_codes", []),
            }
            if "fhir_version" in state:
                fields["fhir_version"] = state["fhir_version"]
            self.logger.info("request", extra={"fields": fields})
            REQUEST_ID.reset(token)

    @staticmethod
    async def _send_fatal(send: Send) -> None:
        outcome = plain_outcome("fatal", "exception", "medval failed unexpectedly while handling this request; the failure is logged.")
        body = orjson.dumps(outcome)
        headers = [(b"content-type", answer_media_type("4.0").encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
