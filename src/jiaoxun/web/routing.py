"""The route class of every router: a sync endpoint costs its request one call to a worker
thread, not two.

FastAPI calls a sync endpoint in a worker thread and then checks its reply against the response
model in a second one; each call waits for the event loop to take it up and hand it back, and
beside hundreds of device fixes a second that wait is what a dispatcher's click spends. Here a
sync endpoint is wrapped in a coroutine that makes the one call, so that the reply (a model the
endpoint built, checked in microseconds) is checked on the loop.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


class Route(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _in_one_call(endpoint), **kwargs)


def _in_one_call(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the signature and types through the wrapper
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return call
