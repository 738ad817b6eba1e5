"""Debian's Chromium driven by Playwright, offline: every request must stay on this machine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

# Debian's chromium on the PATH, or the one JIAOXUN_CHROMIUM names
CHROMIUM = os.environ.get("JIAOXUN_CHROMIUM") or shutil.which("chromium") or "chromium"
# a closed network: no Google services, no component updates, no QUIC probes
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@contextmanager
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page in its own browser context, with what went wrong in it."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)  # 4xx/5xx replies, logged by Chromium
    outside: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


def open_tab(browser: Browser, url: str, **context_options: object) -> Tab:
    """Open `url` in a fresh context; requests off this machine are refused and recorded."""
    context = browser.new_context(**context_options)  # type: ignore[arg-type]
    tab = Tab(context, context.new_page())

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        loads = message.text.startswith("Failed to load resource")
        (tab.failed_loads if loads else tab.errors).append(f"{message.text} {message.location}")

    context.route("**/*", guard)
    tab.page.on("console", console)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.goto(url)
    return tab
