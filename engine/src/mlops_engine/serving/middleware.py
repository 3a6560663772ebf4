"""ASGI middlewares for the service: request-size limit, optional API key, version header.

They are plain ASGI (no framework) so they run before BentoML parses anything: an
oversized body is refused with 413 without being parsed, and an unauthenticated request
never reaches the model.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes and metrics stay open so that orchestrators and Prometheus need no key.
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})


async def _reply(send: Send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"error": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


DRAIN_FACTOR = 4


async def _drain(receive: Receive) -> None:
    """Read and drop a moderately oversized body before answering 413.

    Answering while the client is still sending makes the server close a half-read
    connection, and most HTTP clients then report "connection reset" instead of the 413
    (seen under load in CI). Bodies up to DRAIN_FACTOR x the limit are read (bounded work);
    larger ones are refused at once, as nginx does.
    """
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)


class BodySizeLimit:
    """413 for bodies over ``max_bytes``, by Content-Length or by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        too_big = f"request body larger than {self.max_bytes} bytes"
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_FACTOR * self.max_bytes:
                await _drain(receive)
            return await _reply(send, 413, too_big)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await _reply(send, 413, too_big)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


class ApiKey:
    """Require ``X-API-Key: <key>`` or ``Authorization: Bearer <key>`` when a key is set."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self.key = app, key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        given = headers.get(b"x-api-key") or b""
        auth = headers.get(b"authorization", b"")
        if not given and auth.lower().startswith(b"bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given, self.key):
            return await _reply(
                send,
                401,
                "missing or wrong API key",
                [(b"www-authenticate", b'Bearer realm="mlops"')],
            )
        return await self.app(scope, receive, send)


class ModelVersionHeader:
    """Every HTTP response carries ``X-Model-Version``; 503/429 also carry ``Retry-After``."""

    def __init__(self, app: ASGIApp, version: str, retry_after_s: int = 1) -> None:
        self.app, self.version = app, version.encode()
        self.retry_after = str(retry_after_s).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-model-version", self.version))
                if message.get("status") in (429, 503):
                    headers.append((b"retry-after", self.retry_after))
                message["headers"] = headers
            await send(message)

        return await self.app(scope, receive, with_header)
