"""One mapping from jiaoxun's errors to HTTP, registered once on the app.

Every error answers a JSON body naming the rule and the value: ``{"error": kind, "message": …}``,
and for invalid requests the field too. User input never causes a 500.
"""

from __future__ import annotations

import math
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
    TooManyRequests,
)

STATUS: dict[type[JiaoxunError], tuple[int, str]] = {
    InvalidInput: (422, "invalid_input"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    NotAuthenticated: (401, "not_authenticated"),
    NotAllowed: (403, "forbidden"),
    DataSourceError: (503, "data_unavailable"),
    SolverFailed: (503, "solver_failed"),
    TooManyRequests: (429, "too_many_requests"),
}


def status_of(exc: JiaoxunError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500, "error"


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JiaoxunError)
    async def _ours(_request: Request, exc: JiaoxunError) -> JSONResponse:
        status, kind = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
        return JSONResponse({"error": kind, "message": str(exc)}, status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in err["loc"]),
                "rule": err["msg"],
                "value": _jsonable(err.get("input")),
            }
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "rule": "invalid", "value": None}
        message = f"{first['field']}: {first['rule']} (got {first['value']!r})"
        return JSONResponse(
            {"error": "invalid_input", "message": message, "problems": problems}, 422
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
            {"error": "http", "message": str(exc.detail)}, exc.status_code, headers=exc.headers
        )
