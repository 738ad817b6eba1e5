"""The browser pages: the command center at `/`, the officer's mobile page at `/officer`, the
API's documentation at `/docs`, user administration at `/admin`, the commander's statistics at
`/stats`, the commander's duty rosters at `/duty`, the citizen's kiosk services at `/kiosk` (no
login, phone-first) and the kiosk clerk's counter at `/counter`.

Plain ES modules and CSS served as static files, with Leaflet and Swagger UI from the project's
npm lock file (`node_modules`, installed by the set-up command): no build step, no CDN, no tile
server. The API description (`/openapi.json`) needs a bearer token unless the docs setting is
"public"; "off" serves neither it nor `/docs`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from jiaoxun.settings import Settings
from jiaoxun.web.deps import current_user

STATIC = Path(__file__).parent / "static"
_PROJECT_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
_VENDOR = {"leaflet": "leaflet/dist", "swagger-ui": "swagger-ui-dist", "chartjs": "chart.js/dist"}
log = logging.getLogger(__name__)


def mount_pages(app: FastAPI, settings: Settings) -> None:
    """Serve the pages, their scripts and the front-end packages they import."""
    node_modules = settings.node_modules or _PROJECT_NODE_MODULES
    for name, folder in _VENDOR.items():
        path = node_modules / folder
        if path.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=path), name=f"vendor-{name}")
        else:
            log.warning("front-end package %s missing at %s: run scripts/setup", name, path)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def command_center() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/officer", include_in_schema=False)
    def officer() -> FileResponse:
        return FileResponse(STATIC / "officer.html", headers={"Cache-Control": "no-cache"})

    @app.get("/m", include_in_schema=False)
    def officer_short() -> RedirectResponse:
        return RedirectResponse("/officer")

    @app.get("/admin", include_in_schema=False)
    def user_administration() -> FileResponse:
        return FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-cache"})

    @app.get("/stats", include_in_schema=False)
    def statistics() -> FileResponse:
        return FileResponse(STATIC / "stats.html", headers={"Cache-Control": "no-cache"})

    @app.get("/duty", include_in_schema=False)
    def duty_rosters() -> FileResponse:
        return FileResponse(STATIC / "duty.html", headers={"Cache-Control": "no-cache"})

    @app.get("/kiosk", include_in_schema=False)
    def citizen_services() -> FileResponse:
        return FileResponse(STATIC / "kiosk.html", headers={"Cache-Control": "no-cache"})

    @app.get("/counter", include_in_schema=False)
    def kiosk_counter() -> FileResponse:
        return FileResponse(STATIC / "counter.html", headers={"Cache-Control": "no-cache"})

    if settings.docs != "off":
        _mount_docs(app, login=settings.docs == "login")


def _mount_docs(app: FastAPI, *, login: bool) -> None:
    """Swagger UI at /docs (its page logs in when the description needs a token)."""

    @app.get(
        "/openapi.json",
        include_in_schema=False,
        dependencies=[Depends(current_user)] if login else [],
    )
    def description() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", headers={"Cache-Control": "no-cache"})
