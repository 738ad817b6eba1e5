"""The commander's statistics page in headless Chromium against a real server holding a
simulated history (a year before the reform and the two months after it): the figure cards
with last year's values and the change, the trend's two lines, a new period or scope read
again, the tables exported as the API's own CSV and XLSX files, the print style, the English
switch, and an officer refused. One logged-in page serves the module's tests, in order."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import openpyxl
import pytest
from browser import Tab, chromium, open_tab
from live import Server, start_server
from playwright.sync_api import Browser, Page, expect

TZ = ZoneInfo("Asia/Shanghai")  # the demo city's time zone (the settings' default)


@dataclass
class Site:
    server: Server
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def reply(self, path: str, *, user: str = "commander") -> httpx.Response:
        if user not in self.tokens:
            login = {"username": user, "password": self.passwords[user]}
            token = httpx.post(f"{self.url}/api/auth/token", json=login).json()["access_token"]
            self.tokens[user] = token
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=60)

    def call(self, path: str, *, user: str = "commander") -> Any:
        reply = self.reply(path, user=user)
        assert reply.status_code == 200, reply.text
        return reply.json()


def _last_month(today: date) -> date:
    """A day of the last full month: simulated, with its month a year before simulated too."""
    return today.replace(day=1) - timedelta(days=10)


@pytest.fixture(scope="module")
def site(
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    """The demo center as its first start makes it: with its simulated history (the other
    web tests' centers start without it)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JIAOXUN_DEMO_HISTORY", "1")
        server, passwords = start_server(
            database_url=new_database("sqlite"),
            data=tmp_path_factory.mktemp("stats-pages"),
            cache_dir=cache_dir,
        )
    try:
        yield Site(server, passwords)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def desk(browser: Browser, site: Site) -> Iterator[Tab]:
    """The commander's report of last month, logged in once for the module."""
    day = _last_month(datetime.now(TZ).date())
    tab = _logged_in(browser, site, f"/stats?period=month&date={day}", "commander")
    yield tab
    assert tab.errors == [], tab.errors
    assert tab.outside == [], tab.outside
    tab.close()


def _logged_in(browser: Browser, site: Site, path: str, user: str) -> Tab:
    tab = open_tab(browser, f"{site.url}{path}", viewport={"width": 1400, "height": 1000})
    tab.page.fill("#login [name=username]", user)
    tab.page.fill("#login [name=password]", site.passwords[user])
    tab.page.click("#login button[type=submit]")
    if user in ("commander", "admin", "dispatcher"):
        tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return tab


def _wait(page: Page, script: str, arg: Any = None, *, timeout_s: float = 20) -> None:
    """Wait until `script` is true in `page` (`wait_for_function` needs eval, which the pages'
    content security policy refuses)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {script}"
        time.sleep(0.05)


def _choose(page: Page, **choice: str) -> str:
    """Set the toolbar's fields, wait for the report read with them; returns its query."""
    for name, value in choice.items():
        field = page.locator(f"#toolbar [name={name}]")
        if field.input_value() == value:
            continue
        loads = int(page.locator("#report").get_attribute("data-loaded") or 0)
        if name in ("date", "start", "end"):
            field.fill(value)
        else:
            field.select_option(value)
        _wait(page, "n => Number(document.querySelector('#report').dataset.loaded) > n", loads)
    query: str = page.evaluate("location.search")
    return query.lstrip("?")


def _card(page: Page, key: str) -> dict[str, str]:
    card = page.locator(f"#figures .figure[data-key='{key}']")
    return {
        "value": card.locator(".value").inner_text(),
        "last_year": card.locator(".last-year").inner_text(),
        "yoy": card.locator(".change.yoy").inner_text(),
        "verdict": card.locator(".verdict.yoy").inner_text(),
    }


def _pct(text: str) -> float:
    return float(text.lstrip("▲▼").rstrip("%"))


def test_the_report_holds_last_years_figures_and_the_trend(desk: Tab, site: Site) -> None:
    page = desk.page
    query = _choose(page)
    summary = site.call(f"/api/analytics/summary?{query}")
    assert summary["origins"].get("simulated", 0) > 0
    figures = {f["key"]: f for f in summary["figures"]}
    incidents = figures["incidents"]
    assert incidents["value"] > 0, incidents
    assert incidents["last_year"] > 0, incidents

    expect(page.locator("#figures .figure")).to_have_count(len(figures))
    card = _card(page, "incidents")
    assert card["value"] == f"{int(incidents['value']):,}"
    assert card["last_year"] == f"{int(incidents['last_year']):,}"
    assert abs(_pct(card["yoy"]) - incidents["yoy_pct"]) < 0.051, (card, incidents)
    assert card["verdict"] == incidents["yoy_test"]["text_zh"]
    # every figure is recorded now, the kiosks' services too: no card is greyed
    assert all(f["available"] for f in figures.values())
    expect(page.locator("#figures .figure.unavailable")).to_have_count(0)
    services = page.locator("#figures .figure[data-key='services'] .value")
    assert services.inner_text() == f"{int(figures['services']['value']):,}"

    # the trend: this period's line and last year's, the API's numbers
    lines = page.evaluate("Chart.getChart('chart-trend').data.datasets.map(d => d.data)")
    points = summary["trend"]["points"]
    assert lines == [[p["this"] for p in points], [p["last_year"] for p in points]]
    assert sum(lines[1]) > 0, "last year's line is flat at zero"

    # the tables and the heat map, from the same summary
    expect(page.locator("#tiers tbody tr")).to_have_count(len(summary["tiers"]))
    expect(page.locator("#zones tbody tr")).to_have_count(len(summary["zones"]))
    expect(page.locator("#rates .rate")).to_have_count(3)
    heat = site.call(f"/api/analytics/heat?{query}")
    pieces = [f for f in heat["features"] if f["properties"]["count"] > 0]
    assert pieces
    expect(page.locator("#heat-legend")).to_have_attribute("data-pieces", str(len(pieces)))
    assert 'href="/stats"' in httpx.get(f"{site.url}/").text  # the command center links here


def test_another_period_or_scope_is_read_again(desk: Tab, site: Site) -> None:
    page = desk.page
    month = _card(page, "incidents")["value"]
    query = _choose(page, period="year")
    year = site.call(f"/api/analytics/summary?{query}")
    expect(page.locator("#figures [data-key=incidents] .value")).to_have_text(
        f"{int(year['figures'][0]['value']):,}"
    )
    assert _card(page, "incidents")["value"] != month
    expect(page.locator("#period-label")).to_contain_text(year["period"]["label"])

    zone = site.call("/api/city/map")["layout"]["features"][0]["properties"]
    assert zone["layer"] == "zone"
    query = _choose(page, scope=f"zone:{zone['code']}")
    zoned = site.call(f"/api/analytics/summary?{query}")
    assert 0 < zoned["figures"][0]["value"] < year["figures"][0]["value"]
    expect(page.locator("#figures [data-key=incidents] .value")).to_have_text(
        f"{int(zoned['figures'][0]['value']):,}"
    )
    expect(page.locator("#period-label")).to_contain_text(zone["name"])

    # from-to: a week of the month, both ends included
    first = date.fromisoformat(page.locator("#toolbar [name=date]").input_value()).replace(day=1)
    end = first + timedelta(days=6)
    query = _choose(page, scope="city", period="custom", start=first.isoformat())
    query = _choose(page, end=end.isoformat())
    assert f"start={first}&end={end}" in query, query
    week = site.call(f"/api/analytics/summary?{query}")
    assert (week["period"]["start"], week["period"]["days"]) == (first.isoformat(), 7)
    expect(page.locator("#figures [data-key=incidents] .value")).to_have_text(
        f"{int(week['figures'][0]['value']):,}"
    )

    # a range that ends before it starts: the API's rule and value, the report marked stale
    page.locator("#toolbar [name=end]").fill((first - timedelta(days=1)).isoformat())
    expect(page.locator("#problem")).to_contain_text(f"is before its start {first}")
    expect(page.locator("body")).to_have_attribute("data-stale", "1")
    _choose(page, end=end.isoformat())
    expect(page.locator("#problem")).to_have_text("")
    _choose(page, period="month")


def _download(page: Page, button: str) -> bytes:
    with page.expect_download() as info:
        page.click(f"[data-export='{button}']")
    download = info.value
    assert download.url.startswith("blob:"), download.url  # no token in any URL
    return Path(download.path()).read_bytes()


def _cells(rows: list[list[Any]]) -> list[list[str]]:
    """Rows as text to compare a CSV with an XLSX: a number to 12 significant digits (the
    XLSX keeps 15 at most, the CSV every digit), an empty cell as ""."""

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        try:
            return f"{float(value):.12g}"
        except ValueError:
            return str(value)

    return [[text(v) for v in row] for row in rows]


def test_tables_export_the_apis_csv_and_xlsx(desk: Tab, site: Site) -> None:
    page = desk.page
    query = _choose(page)
    summary = site.call(f"/api/analytics/summary?{query}")
    for table, first in (("figures", summary["figures"][0]), ("tiers", summary["tiers"][0])):
        csv_bytes = _download(page, f"{table}.csv")
        api = site.reply(f"/api/analytics/tables/{table}.csv?{query}")
        assert api.status_code == 200, api.text
        assert csv_bytes == api.content  # the page asked for the report it shows
        rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
        header, values = rows[0], dict(zip(rows[0], rows[1], strict=True))
        for name, value in first.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert float(values[name]) == pytest.approx(value), (table, name)

        book = openpyxl.load_workbook(io.BytesIO(_download(page, f"{table}.xlsx")))
        cells = _cells([list(r) for r in book.worksheets[0].iter_rows(values_only=True)])
        assert cells[0] == header
        assert cells == _cells(rows), (cells[:3], rows[:3])


def test_print_hides_the_toolbar_and_draws_the_charts(desk: Tab) -> None:
    page = desk.page
    page.emulate_media(media="print")
    try:
        expect(page.locator("#toolbar")).to_be_hidden()
        expect(page.locator("header.bar")).to_be_hidden()
        expect(page.locator(".exports").first).to_be_hidden()
        charts = page.evaluate(
            "Object.values(Chart.instances).map(c => "
            "[c.canvas.id, c.options.animation === false, c.width, c.height])"
        )
        assert len(charts) >= 6, charts
        for name, still, width, height in charts:
            assert still, f"{name} still animates in print"
            assert min(width, height) > 0, (name, width, height)
    finally:
        page.emulate_media(media="screen")
    expect(page.locator("#toolbar")).to_be_visible()


def test_the_english_switch(desk: Tab, site: Site) -> None:
    page = desk.page
    query = _choose(page)
    incidents = site.call(f"/api/analytics/summary?{query}")["figures"][0]
    page.click("#lang")
    try:
        card = page.locator("#figures [data-key=incidents]")
        expect(card.locator("h3")).to_have_text(incidents["label_en"])
        expect(card.locator(".verdict.yoy")).to_have_text(incidents["yoy_test"]["text_en"])
        expect(page.locator("#period-label")).to_contain_text("The whole city")
        expect(page.locator("#toolbar [name=period] option[value=year]")).to_have_text("Year")
        expect(page.locator("#tiers th").first).to_have_text("Tier")
        legend = page.evaluate("Chart.getChart('chart-trend').data.datasets.map(d => d.label)")
        assert legend == ["This period", "Last year"]
    finally:
        page.click("#lang")
    expect(page.locator("#figures [data-key=incidents] h3")).to_have_text(incidents["label_zh"])


def test_an_officer_is_refused(browser: Browser, site: Site) -> None:
    for user in ("officer", "kiosk_clerk"):
        assert site.reply("/api/analytics/summary", user=user).status_code == 403
    tab = _logged_in(browser, site, "/stats", "officer")
    try:
        expect(tab.page.locator("#login .error")).to_contain_text("role officer may not")
        expect(tab.page.locator("#login")).to_be_visible()
        expect(tab.page.locator("#report")).to_be_hidden()
        assert tab.page.evaluate("sessionStorage.getItem('jx.token')") is None
    finally:
        tab.close()
