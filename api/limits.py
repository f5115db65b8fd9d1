"""Request limits and the public URL prefix, as one pure ASGI middleware.

- a request target longer than :data:`MAX_TARGET` bytes is a 414;
- a body larger than ``settings.max_body_bytes`` is a 413 (declared length or counted); for a
  declared one the body is read and dropped first, at most :data:`DRAIN_LIMIT` bytes for at most
  :data:`DRAIN_SECONDS` (so the client reads the answer, and a client that never sends the body
  does not hold the request), and not at all when the client waits for ``100 Continue``;
- when the public URL has a path (``https://w3id.org/maillage/``) and a proxy forwards it,
  that prefix is stripped so routes see ``/id/…`` either way.

>>> strip_prefix("/maillage/id/x", "/maillage/")
'/id/x'
>>> strip_prefix("/id/x", "/maillage/")
'/id/x'
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from maillage.graph.settings import Settings

from .errors import ApiError

MAX_TARGET = 8192
DRAIN_LIMIT = 16_000_000
DRAIN_SECONDS = 2.0


def strip_prefix(path: str, prefix: str) -> str:
    """``path`` without the public URL's path prefix (if it starts with it)."""
    if prefix != "/" and path.startswith(prefix):
        return "/" + path[len(prefix):]
    return path


class LimitsMiddleware:
    """Pure ASGI middleware: 414, 413 and the public URL prefix."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        prefix = urlsplit(settings.public_url).path if settings.public_url else "/"
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > MAX_TARGET:
            await _send_error(send, ApiError(414, "uri-too-long",
                                             f"the request target is longer than {MAX_TARGET} "
                                             "bytes", hint="send long queries with POST"))
            return
        if self.prefix != "/":
            path = strip_prefix(scope["path"], self.prefix)
            if path != scope["path"]:
                scope = dict(scope, path=path,
                             raw_path=path.encode("utf-8", "surrogateescape"))
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            if not _header(scope, b"expect").lower().startswith(b"100-continue"):
                with contextlib.suppress(TimeoutError):  # read it, so the client reads our answer
                    await asyncio.wait_for(_drain(receive, DRAIN_LIMIT), DRAIN_SECONDS)
            await _send_error(send, _too_large(self.max_body))
            return
        received = 0

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _too_large(self.max_body)  # an ApiError: the app answers 413
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Any) -> int | None:
    try:
        return int(_header(scope, b"content-length") or b"-")
    except ValueError:
        return None


def _header(scope: Any, wanted: bytes) -> bytes:
    """The first value of a request header (lower-case name), or b"" when absent."""
    return next((value for name, value in scope.get("headers", []) if name == wanted), b"")


async def _drain(receive: Any, limit: int) -> None:
    """Read and drop a request body (at most ``limit`` bytes)."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "body-too-large", f"the request body is larger than {limit} bytes",
                    hint="send a shorter query, or raise MAILLAGE_MAX_BODY")


async def _send_error(send: Any, error: ApiError) -> None:
    body = error.to_bytes()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()),
               (b"access-control-allow-origin", b"*"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
