"""The routes as the server matches them: no route hides another, whatever order the routers
are included in (the busiest come first)."""

from __future__ import annotations

import re

from center import Center
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
