"""The API documentation at /docs: Swagger UI from the local npm package, never a CDN; the API
description behind a bearer token unless JIAOXUN_DOCS=public; nothing at all with "off"."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import chromium, open_tab
from center import Center
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live import Server, start_server

from jiaoxun.settings import Settings
from jiaoxun.web.pages import mount_pages


def _pages(docs: str) -> TestClient:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount_pages(app, Settings(docs=docs))  # type: ignore[arg-type]
    return TestClient(app)


def _no_url_off_the_machine(html: str) -> None:
    assert re.findall(r"""(?:src|href)=["'](?!/|data:)([^"']*)""", html) == []


def test_docs_off_serves_neither_page_nor_description() -> None:
    client = _pages("off")
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_public_docs_need_no_token() -> None:
    client = _pages("public")
    assert client.get("/openapi.json").status_code == 200
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    _no_url_off_the_machine(page.text)
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_description_needs_a_token_by_default(center: Center) -> None:
    assert center.client.get("/openapi.json").status_code == 401
    described = center.client.get("/openapi.json", headers=center.as_("dispatcher"))
    assert described.status_code == 200
    assert "/api/incidents" in described.json()["paths"]
    _no_url_off_the_machine(center.client.get("/docs").text)
    assert center.client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


@pytest.fixture(scope="module")
def server(
    new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("docs"),
        cache_dir=cache_dir,
    )
    yield server, passwords
    server.stop()


def test_swagger_ui_loads_from_this_machine_under_the_policy(
    server: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    """Log in on /docs, see every operation, and try one: no request leaves 127.0.0.1 and the
    content security policy refuses nothing (a refusal is a console error)."""
    site, passwords = server
    shots = Path(os.environ.get("JIAOXUN_SCREENSHOTS") or tmp_path)
    with chromium() as browser:
        tab = open_tab(browser, f"{site.url}/docs")
        try:
            page = tab.page
            page.fill("#login [name=username]", "commander")
            page.fill("#login [name=password]", passwords["commander"])
            page.click("#login button[type=submit]")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() >= 14
            health = page.locator(".opblock", has_text="/api/health")
            health.locator(".opblock-summary").click()
            health.locator("button.try-out__btn").click()
            health.locator("button.execute").click()
            status = health.locator(".live-responses-table tbody .response-col_status")
            status.wait_for(timeout=10_000)
            assert status.inner_text().strip() == "200"
            page.screenshot(path=str(shots / "docs.png"))
            assert tab.outside == [], f"requests left the machine: {tab.outside}"
            assert tab.errors == [], f"errors in the page: {tab.errors}"
            # the one refusal: the description asked for before the log-in
            assert [
                re.findall(r"status of (\d+).*'url': '([^']*)", f) for f in tab.failed_loads
            ] == [[("401", f"{site.url}/openapi.json")]]
        finally:
            tab.close()
