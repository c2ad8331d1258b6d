"""HEAD and OPTIONS for every route, as HTTP (RFC 9110) has them: HEAD is GET without the body, OPTIONS lists the methods.

FastAPI answers both with 405 (and an Allow header) unless a route declares them; this middleware reads that 405's
Allow header, so it needs no knowledge of the routes. A CORS preflight (OPTIONS with Origin and
Access-Control-Request-Method) never reaches it when CORS is on: CORSMiddleware sits outside it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _answer(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    """The messages the app sends for this request, kept (OPTIONS and HEAD answers are small)."""
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    return messages


def _allowed(messages: list[Message]) -> set[str] | None:
    """The methods named by a 405's Allow header; None when the answer was something else (404, ...)."""
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is None or start["status"] != 405:
        return None
    allow = next((v.decode() for k, v in start.get("headers", []) if k.lower() == b"allow"), "")
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"}


class MethodsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        messages = await _answer(self.app, scope, receive)
        allowed = _allowed(messages)
        if allowed and scope["method"] == "OPTIONS":
            headers = [(b"allow", ", ".join(sorted(allowed)).encode()), (b"content-length", b"0")]
            messages = [{"type": "http.response.start", "status": 204, "headers": headers}, {"type": "http.response.body", "body": b""}]
        elif allowed and "GET" in allowed:  # HEAD where GET is answered: GET's status and headers, no body
            messages = await _answer(self.app, {**scope, "method": "GET"}, receive)
            messages = [{**m, "body": b"", "more_body": False} if m["type"] == "http.response.body" else m for m in messages]
            messages = [m for i, m in enumerate(messages) if m["type"] != "http.response.body" or i == _first_body(messages)]
        for message in messages:
            await send(message)


def _first_body(messages: list[Message]) -> int:
    return next(i for i, m in enumerate(messages) if m["type"] == "http.response.body")
