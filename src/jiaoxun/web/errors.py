"""One mapping from jiaoxun's errors to HTTP, registered once on the app.

Every error answers a JSON body naming the rule and the value: ``{"error": kind, "message": …}``,
and for invalid requests the field too. User input never causes a 500: what a reply echoes of
it is cut short, holds no lone surrogate or NaN (which JSON cannot carry), and never a password.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from jiaoxun.errors import (
    Conflict,
    DataSourceError,
    InvalidInput,
    JiaoxunError,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    SolverFailed,
    TooLarge,
    TooManyRequests,
    Unavailable,
)

STATUS: dict[type[JiaoxunError], tuple[int, str]] = {
    TooLarge: (413, "too_large"),
    InvalidInput: (422, "invalid_input"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    NotAuthenticated: (401, "not_authenticated"),
    NotAllowed: (403, "forbidden"),
    DataSourceError: (503, "data_unavailable"),
    SolverFailed: (503, "solver_failed"),
    Unavailable: (503, "unavailable"),
    TooManyRequests: (429, "too_many_requests"),
}
#: what an echoed value may hold: a few hundred characters, a few items, two levels
MAX_ECHO_CHARS = 200
MAX_ECHO_ITEMS = 10
MAX_ECHO_DEPTH = 2
_SECRET = re.compile(r"password|secret|token|key", re.IGNORECASE)


def status_of(exc: JiaoxunError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500, "error"


def error_reply(exc: JiaoxunError) -> JSONResponse:
    """The reply to one of our errors: its status, its kind and its message."""
    status, kind = status_of(exc)
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    elif status == 413:
        # the rest of the body stays unread: the connection cannot carry another request
        headers = {"Connection": "close"}
    return JSONResponse({"error": kind, "message": safe_text(str(exc))}, status, headers=headers)


def server_error_reply() -> JSONResponse:
    """The reply when the server itself failed (its log has the traceback)."""
    message = "the server failed on this request; its log says why"
    return JSONResponse({"error": "server_error", "message": message}, 500)


def safe_text(text: str, *, limit: int = 2000) -> str:
    """`text` cut to `limit` characters, a lone surrogate written as its escape (\\ud800)."""
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def echo(value: Any, *, depth: int = 0) -> Any:
    """What an error reply may show of a value the caller sent: JSON-safe and short, with the
    values of secret-looking keys (password, token…) left out."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else safe_text(str(value), limit=MAX_ECHO_CHARS)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return safe_text(value, limit=MAX_ECHO_CHARS)
    if depth >= MAX_ECHO_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, list | tuple):
        return [echo(v, depth=depth + 1) for v in value[:MAX_ECHO_ITEMS]]
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ECHO_ITEMS]
        return {
            safe_text(str(k), limit=MAX_ECHO_CHARS): "***"
            if _SECRET.search(str(k))
            else echo(v, depth=depth + 1)
            for k, v in items
        }
    return safe_text(repr(value), limit=MAX_ECHO_CHARS)


def _problem(err: Any) -> dict[str, Any]:
    field = ".".join(str(p) for p in err["loc"])
    secret = bool(err["loc"]) and _SECRET.search(str(err["loc"][-1])) is not None
    return {
        "field": safe_text(field, limit=MAX_ECHO_CHARS),
        "rule": safe_text(str(err["msg"]), limit=MAX_ECHO_CHARS * 2),
        "value": "***" if secret else echo(err.get("input")),
    }


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JiaoxunError)
    async def _ours(_request: Request, exc: JiaoxunError) -> JSONResponse:
        return error_reply(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(err) for err in exc.errors()[:MAX_ECHO_ITEMS]]
        first = problems[0] if problems else {"field": "", "rule": "invalid", "value": None}
        message = f"{first['field']}: {first['rule']} (got {first['value']!r})"
        return JSONResponse(
            {"error": "invalid_input", "message": safe_text(message), "problems": problems}, 422
        )

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, exc: DataError) -> JSONResponse:
        # a value that passed validation but the database cannot hold (the driver says why)
        reason = str(exc.orig).splitlines()[0] if exc.orig else "unstorable value"
        return JSONResponse(
            {"error": "invalid_input", "message": f"the database refused a value: {reason}"}, 422
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http", "message": safe_text(str(exc.detail))},
            exc.status_code,
            headers=exc.headers,
        )
