"""ASGI middleware: the request body limit and the headers every response carries.

The body limit is enforced while the body streams in, not after it is read: a declared
Content-Length over the limit is refused before a byte is read, and a chunked body is
cut off as soon as it passes the limit. Either way the answer is 413 with heard's error
shape, whatever the endpoint was doing with the body at the time.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heard.service.errors import PayloadTooLarge

from .errors import error_body


async def _send_413(send: Send, limit: int) -> None:
    exc = PayloadTooLarge(limit)
    body = json.dumps(error_body(exc.code, exc.message, hint=exc.hint)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await _send_413(send, self.max_bytes)
                    return
        received = 0
        exceeded = False
        started = False
        replaced = False

        async def limited() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise PayloadTooLarge(self.max_bytes)
            return message

        async def guarded(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if exceeded:  # whatever the endpoint made of the cut-off body: it is a 413
                    replaced = True
                    await _send_413(send, self.max_bytes)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except PayloadTooLarge:
            if not started and not replaced:
                await _send_413(send, self.max_bytes)


#: documentation pages load Swagger UI / ReDoc scripts, so they get no script ban
_DOC_PATHS = ("/docs", "/redoc", "/openapi.json")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_API_ONLY = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Responses are data, never pages: a browser must not sniff, frame or run them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(_DOC_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_HEADERS)
                if not docs:
                    headers.extend(_API_ONLY)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
