"""The guard in front of every HTTP request: a bounded body, strict JSON, and the security
headers of every reply.

It is the outermost layer of the app, like a gate house: what it refuses never reaches a route,
and what it adds is on every answer, the error replies included. A body is read into memory up
to the limit (its Content-Length checked first) and handed on whole; a JSON body (or one with no
content type, which FastAPI reads as JSON) must be strict JSON (`jiaoxun.inputs`), so that no
route, nor a `request.json()` in one, sees NaN, a lone surrogate or a 1,000-deep nesting.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiaoxun.errors import InvalidInput, TooLarge
from jiaoxun.inputs import json_from_body
from jiaoxun.settings import Settings
from jiaoxun.web.errors import error_reply, server_error_reply

Headers = list[tuple[bytes, bytes]]

#: scripts, styles and fonts from this server only (no inline code), images also as data: URLs,
#: connections to this server and its event stream; never inside another site's frame
POLICY = (
    "default-src 'self'; img-src 'self' data:; connect-src 'self'{sockets}; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # the officer's page reads the phone's position; nothing may use the camera or microphone
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_STATIC: Headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_HOST = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


#: the routes that take a photo: their bodies may be as large as a photo and its form
PHOTO_UPLOAD = re.compile(r"/api/traffic/(?:accidents|violations)/\d+/photos")
FORM_OVERHEAD_BYTES = 64 * 1024


def add_guards(app: FastAPI, settings: Settings) -> None:
    """Put the guard in front of `app` (outermost of the middleware added so far)."""
    app.add_middleware(
        Guard,
        max_body_bytes=settings.max_body_bytes,
        larger={PHOTO_UPLOAD: settings.photo_max_bytes + FORM_OVERHEAD_BYTES},
    )


class Guard:
    """ASGI middleware: bounded, strict bodies in; security headers out."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        larger: dict[re.Pattern[str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.larger = larger or {}

    def limit_of(self, path: str) -> int:
        """The body limit of a path: the general one, or a larger one of its route."""
        return max([self.max_body_bytes, *(n for p, n in self.larger.items() if p.fullmatch(path))])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = reply_headers(scope)
        started = False

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                own = list(message.get("headers", []))
                named = {name.lower() for name, _ in own}
                message = {**message, "headers": own + [h for h in extra if h[0] not in named]}
            await send(message)

        try:
            body = await self._body(scope, receive)
        except InvalidInput as exc:
            await error_reply(exc)(scope, receive, send_guarded)
            return
        if body is None:
            return  # the client left before its body was in
        try:
            await self.app(scope, _replay(body, receive), send_guarded)
        except Exception:
            if not started:  # the reply of a failure carries the headers too
                await server_error_reply()(scope, receive, send_guarded)
            raise

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, refused once it passes the limit; None if the client left."""
        limit = self.limit_of(scope["path"])
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(
                f"a body of {int(declared):,} bytes exceeds the limit of {limit:,} bytes"
            )
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the body exceeds the limit of {limit:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(_header(scope, b"content-type")):
            json_from_body(body)
        return body


def reply_headers(scope: Scope) -> Headers:
    """The security headers of a reply to `scope`; an API reply is also never stored."""
    host = _header(scope, b"host")
    sockets = f" ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    headers = [*_STATIC, (b"content-security-policy", POLICY.format(sockets=sockets).encode())]
    path: str = scope["path"]
    if path.startswith("/api/") or path == "/openapi.json":
        headers.append((b"cache-control", b"no-store"))
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json")
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then whatever the client sends next."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
