"""The routes as the server matches them: no route hides another, whatever order the routers
are included in (the busiest come first), and none sends a request to a worker thread for a
dependency that does not block."""

from __future__ import annotations

import inspect
import re
from typing import Any

import anyio.to_thread
import pytest
from center import Center
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.routing import BaseRoute, Match


def _routes(app: object) -> list[BaseRoute]:
    """Every route in the order the server tries them: its own, then each router's."""
    flat: list[BaseRoute] = []
    for route in app.routes:  # type: ignore[attr-defined]
        inner = getattr(route, "original_router", None)
        flat.extend(inner.routes if inner is not None else [route])
    return flat


def test_every_route_is_reached_by_its_own_paths(center: Center) -> None:
    routes = _routes(center.client.app)
    hidden = []
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        for method in getattr(route, "methods", None) or {"WS"}:
            scope = {
                "type": "websocket" if method == "WS" else "http",
                "path": re.sub(r"\{[^}]+\}", "1", path),
                "method": method,
                "root_path": "",
            }
            first = next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)
            if first is None:  # a mount of static files, asked for as a WebSocket
                continue
            if first is not route and getattr(first, "path", None) != path:
                hidden.append((method, scope["path"], path, getattr(first, "path", None)))
    # a literal segment where another route has a parameter: the literal route must come first
    assert hidden == []
    assert len(routes) > 100


#: the dependencies that may block (they read the database): the rest are async, for a sync
#: dependency costs every request a hop to a worker thread and back (the request's session, a
#: generator, is entered and left in worker threads: the next test counts those hops)
BLOCKING = {"current_token", "counter_of"}


def _sync_dependencies(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (
            inspect.iscoroutinefunction(call)
            or inspect.isgeneratorfunction(call)
            or isinstance(call, SecurityBase)  # the bearer header, read on the loop
        ):
            found.add(getattr(call, "__name__", repr(call)))
        found |= _sync_dependencies(sub)
    return found


def test_only_the_dependencies_that_read_the_database_take_a_worker_thread(
    center: Center,
) -> None:
    by_route = {
        route.path: _sync_dependencies(route.dependant)
        for route in _routes(center.client.app)
        if isinstance(route, APIRoute)
    }
    assert {path: names - BLOCKING for path, names in by_route.items() if names - BLOCKING} == {}
    # a device's fix, hundreds a second, waits for no thread but its batch's
    assert by_route["/api/osmand"] == set()
    assert by_route["/api/incidents/{incident_id}/recommendations"] == {"current_token"}


def test_a_dispatchers_request_takes_a_worker_thread_four_times_and_a_fix_never(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call to a worker thread waits for the event loop to take it up and hand it back:
    a request makes the calls its blocking work needs (the token read, the session begun, the
    endpoint, the session ended), none for a dependency or a reply check."""
    calls: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", type(func).__name__))
        return await run_sync(func, *args, **kwargs)

    body = {"lon": 126.64, "lat": 45.75, "category_code": "020100", "description": "hops"}
    incident = center.call("POST", "/api/incidents", json=body).json()
    center.as_("dispatcher")  # logged in before counting
    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    reply = center.call("GET", f"/api/incidents/{incident['id']}/recommendations")
    assert reply.status_code == 200, reply.text
    assert len(calls) == 4, calls
    calls.clear()
    reply = center.client.get("/api/osmand", params={"id": "nobody", "lat": 45.75, "lon": 126.64})
    assert reply.status_code == 401  # refused on the loop, as a known device's fix is queued
    assert calls == []
