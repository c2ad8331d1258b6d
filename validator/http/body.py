"""Read a request body without ever holding more than the configured limit in memory."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from .problems import RequestProblem


def _too_large(limit: int) -> RequestProblem:
    return RequestProblem(413, "too-long", f"The body is larger than the {limit}-byte limit (MEDVAL_MAX_BODY_BYTES).")


def too_slow(timeout_s: float) -> RequestProblem:
    return RequestProblem(408, "timeout", f"The body did not arrive within {timeout_s:g} s (MEDVAL_BODY_TIMEOUT_S).", about_input=False)


async def read_body(request: Request, limit: int, timeout_s: float | None = None) -> bytes:
    """The body, refused with 413 past `limit` bytes and with 408 when it trickles in for longer than `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            return await _read(request, limit)
    except TimeoutError:
        raise too_slow(timeout_s or 0) from None


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise RequestProblem(400, "structure", "The Content-Length header is not a number.") from None
        if length > limit:
            raise _too_large(limit)  # refused before a byte of it is read
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # chunked bodies announce no length: count as they arrive
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
