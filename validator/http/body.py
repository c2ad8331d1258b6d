"""Read a request body without ever holding more than the configured limit in memory."""

from __future__ import annotations

from starlette.requests import Request

from .problems import RequestProblem


def _too_large(limit: int) -> RequestProblem:
    return RequestProblem(413, "too-long", f"The body is larger than the {limit}-byte limit (MEDVAL_MAX_BODY_BYTES).")


async def read_body(request: Request, limit: int) -> bytes:
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
