"""The pages' side of accounts in headless Chromium against a real server: after a first login
the command page and the officer's page ask for a new password before anything else, and the
admin page creates, resets and disables users."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import Tab, chromium, open_tab
from live import Server, start_server
from playwright.sync_api import Browser, expect


@pytest.fixture(scope="module")
def served(
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server whose seeded users still have the passwords it printed on first start."""
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("account-pages"),
        cache_dir=cache_dir,
        own_passwords=False,
    )
    yield server, passwords
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _log_in(tab: Tab, username: str, password: str) -> None:
    tab.page.fill("#login [name=username]", username)
    tab.page.fill("#login [name=password]", password)
    tab.page.click("#login button[type=submit]")


def _new_password(tab: Tab, new: str, repeat: str | None = None) -> None:
    form = tab.page.locator("#password-change")
    form.locator("[name=new]").fill(new)
    form.locator("[name=repeat]").fill(new if repeat is None else repeat)
    form.locator("button[type=submit]").click()


def _clean(tab: Tab, *, refused: int = 0, inline_styles: bool = False) -> None:
    assert tab.outside == [], tab.outside
    errors = tab.errors
    if inline_styles:  # officer.html's own style="…" attribute, which the CSP refuses
        errors = [e for e in errors if not e.startswith("Applying inline style violates")]
    assert errors == [], errors
    assert len(tab.failed_loads) == refused, tab.failed_loads


def test_the_command_page_asks_for_a_new_password_first(
    browser: Browser, served: tuple[Server, dict[str, str]]
) -> None:
    server, passwords = served
    tab = open_tab(browser, f"{server.url}/", viewport={"width": 1440, "height": 900})
    _log_in(tab, "dispatcher", passwords["dispatcher"])
    form = tab.page.locator("#password-change")
    expect(form).to_be_visible()
    expect(tab.page.locator("#desk")).to_be_hidden()
    expect(form.locator("[name=current]")).to_be_hidden()  # just typed at the log-in form
    _new_password(tab, "a long new passphrase", "another passphrase")
    expect(form.locator(".error")).to_have_text("两次输入的新密码不一致")
    _new_password(tab, "too short")
    expect(form.locator(".error")).to_have_text("password must have at least 12 characters, got 9")
    _new_password(tab, "dispatcher's own words")
    expect(form.locator(".error")).to_have_text("password must not contain the user name")
    _new_password(tab, "a long new passphrase")
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    expect(form).to_be_hidden()
    expect(tab.page.locator("#who")).to_have_text("dispatcher (dispatcher)")
    tab.page.screenshot(path=str(server.log.parent / "after-change.png"))
    tab.page.reload()  # the token stays good, and asks nothing more
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    expect(tab.page.locator("#password-change")).to_be_hidden()
    _clean(tab, refused=2)  # the two refused new passwords (422)
    tab.page.click("#logout")
    expect(tab.page.locator("#login")).to_be_visible()
    tab.close()


def test_the_officer_page_asks_too(browser: Browser, served: tuple[Server, dict[str, str]]) -> None:
    server, passwords = served
    tab = open_tab(
        browser,
        f"{server.url}/officer",
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        permissions=["geolocation"],
        geolocation={"longitude": 126.64, "latitude": 45.75},
    )
    tab.page.evaluate("localStorage.setItem('jx.lang', 'en')")
    tab.page.reload()
    _log_in(tab, "officer", passwords["officer"])
    expect(tab.page.locator("#password-change h1")).to_have_text("Set a new password")
    _new_password(tab, "an officer passphrase", "a different one")
    expect(tab.page.locator("#password-change .error")).to_have_text("The two new passwords differ")
    _new_password(tab, "patrol by night and day")
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    expect(tab.page.locator("#duty")).to_be_visible()
    _clean(tab, inline_styles=True)
    tab.close()


def test_the_admin_page_creates_resets_and_disables_users(
    browser: Browser, served: tuple[Server, dict[str, str]]
) -> None:
    server, passwords = served
    tab = open_tab(browser, f"{server.url}/admin", viewport={"width": 1280, "height": 900})
    _log_in(tab, "admin", passwords["admin"])
    _new_password(tab, "the keeper of the keys")
    page = tab.page
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    expect(page.locator("#users tr")).to_have_count(5)  # the users seeded on first start
    page.fill("#create [name=username]", "li.ming")
    page.select_option("#create [name=role]", "officer")
    expect(page.locator("#create [name=kiosk_id]")).to_be_hidden()
    page.select_option("#create [name=unit_id]", label="JX05-2")
    page.click("#create button[type=submit]")
    issued = page.locator("#issued code")
    expect(issued).to_have_text(re.compile(r"^[\w-]{16}$"), timeout=10_000)
    first = issued.inner_text()
    row = page.locator("#users tr[data-user='li.ming']")
    expect(row.locator(".standing")).to_have_text("正常, 须改密码")
    expect(row.locator("td").nth(2)).to_have_text("JX05-2")
    row.locator("[data-action=reset]").click()
    expect(issued).not_to_have_text(first)
    row.locator("[data-action=disable]").click()
    expect(row.locator(".standing")).to_have_text("已停用, 须改密码")
    expect(row.locator("[data-action=enable]")).to_be_visible()
    # no button disables the admin himself
    expect(page.locator("#users tr[data-user='admin'] [data-action=disable]")).to_have_count(0)
    page.screenshot(path=str(server.log.parent / "admin.png"))
    _clean(tab)
    tab.close()
