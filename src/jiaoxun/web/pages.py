"""The browser pages: the command center at `/`, the officer's mobile page at `/officer`.

Plain ES modules and CSS served as static files, with Leaflet from the project's npm lock file
(`node_modules`, installed by the set-up command): no build step, no CDN, no tile server.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from jiaoxun.settings import Settings

STATIC = Path(__file__).parent / "static"
_PROJECT_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
_VENDOR = {"leaflet": "leaflet/dist"}
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
