"""`medval serve`: uvicorn with the limits a service on a hospital network needs.

- Header read timeout: a connection must deliver a request's complete headers within MEDVAL_HEADER_TIMEOUT_S of
  opening (or of its previous response); uvicorn itself only times out connections that send nothing at all,
  so one byte a second kept a connection open for ever. Idle connections are closed the same way.
- Body read timeout: MEDVAL_BODY_TIMEOUT_S, in the body readers (body.py, the CDS Hooks body), answered 408.
- Connection limit: MEDVAL_MAX_CONNECTIONS per worker (uvicorn's limit_concurrency): past it, requests get
  503 with an OperationOutcome and `Connection: close`; past twice it, new connections are closed unanswered
  at once, so idle connections can never use up the worker's file descriptors.
- The asyncio "socket.accept() out of system resource" error, should it ever happen, is one line, not a traceback
  per attempt.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http import h11_impl
from uvicorn.protocols.http.h11_impl import H11Protocol

from .media import answer_media_type
from .problems import plain_outcome
from .settings import HttpSettings

log = logging.getLogger("medval.http")

_BUSY = orjson.dumps(plain_outcome("error", "transient", "medval is at its connection limit (MEDVAL_MAX_CONNECTIONS); retry shortly."))


async def service_unavailable(scope: Any, receive: Any, send: Any) -> None:
    """uvicorn's answer past limit_concurrency, as a FHIR OperationOutcome instead of plain text."""
    log.warning("connection-limit", extra={"fields": {"reason": "too-many-connections", "status": 503}})
    headers = [
        (b"content-type", answer_media_type("4.0").encode()),
        (b"content-length", str(len(_BUSY)).encode()),
        (b"connection", b"close"),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _BUSY, "more_body": False})


# uvicorn's H11Protocol answers the limit with this module-level function; ours says it in FHIR.
h11_impl.service_unavailable = service_unavailable


class GuardedH11Protocol(H11Protocol):
    """H11Protocol with a header read timeout and a hard cap on open connections."""

    settings = HttpSettings()  # read once per worker, from the environment (MEDVAL_HEADER_TIMEOUT_S ...)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) > 2 * limit:
            transport.abort()  # far past the limit: free the descriptor now, answer nothing
            return
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.settings.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is in flight: its body has its own deadline, its answer is on its way
        if not self.transport.is_closing():
            self.transport.close()  # idle, or headers trickling in: nothing to answer yet

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle and self.cycle is not None:  # a request's headers are complete
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers, or idleness, are timed from here

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


class _AcceptErrorsInOneLine(logging.Filter):
    """asyncio logs every failed accept() with a traceback; keep the message, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "accept" in str(record.msg):
            record.exc_info = None
            record.exc_text = None
        return True


# Installed on import: uvicorn imports this module in every worker process (the `http=` protocol class).
logging.getLogger("asyncio").addFilter(_AcceptErrorsInOneLine())


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))


def run(host: str, port: int, workers: int) -> None:
    settings = HttpSettings()
    _raise_file_limit()  # inherited by the worker processes
    uvicorn.run(
        "validator.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        http="validator.http.server:GuardedH11Protocol",
        timeout_keep_alive=settings.keep_alive_s,
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers; larger is answered 400
        timeout_graceful_shutdown=10,
    )
