"""The patrol report as a commander reads it, and a check-in as an officer sees it, in headless
Chromium against a real server: a car drives part of a mandatory line and dwells at a point
through the OsmAnd endpoint; the command page draws its matched roads, colours the point done,
lists its figures and exports them as CSV; an officer's check-in without a dwell is unproved."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from browser import Tab, chromium, open_tab
from live import Server, start_server
from playwright.sync_api import Browser, Page, expect

UNITS_HEADER = (
    "unit,zone,patrol_km,patrol_min,order_km,order_min,outside_zone_min,"
    "visits_done,visits_required,late_points,missed_points,line_coverage"
)
DONE_GREEN = "#2e7d32"


@dataclass
class Site:
    server: Server
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # device: its secret

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, *, user: str = "commander", **kw: Any) -> Any:
        if user not in self.tokens:
            reply = httpx.post(
                f"{self.url}/api/auth/token",
                json={"username": user, "password": self.passwords[user]},
            )
            self.tokens[user] = reply.json()["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        reply = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)
        assert reply.status_code < 300, reply.text
        return reply.json()

    def drive(self, device: str, fixes: list[tuple[float, float, float]]) -> None:
        """Fixes (lon, lat, epoch s) through the no-token OsmAnd endpoint, until all are stored."""
        before = self.call("GET", "/api/tracking/stats")["accepted"]
        for lon, lat, at in fixes:
            params = {"id": device, "key": self.secrets[device], "lon": lon, "lat": lat}
            reply = httpx.get(f"{self.url}/api/osmand", params={**params, "timestamp": int(at)})
            assert reply.text == "OK", reply.text
        deadline = time.monotonic() + 20
        while (stats := self.call("GET", "/api/tracking/stats"))["accepted"] < before + len(fixes):
            assert time.monotonic() < deadline, f"fixes not stored: {stats}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def site(
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    # one shift a day, starting twelve hours from now: the test's past fixes are in this shift
    start = f"{(datetime.now(ZoneInfo('Asia/Shanghai')).hour + 12) % 24:02d}:00"
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("patrol-pages"),
        cache_dir=cache_dir,
        extra={"JIAOXUN_SHIFT_STARTS": json.dumps([start])},
    )
    try:
        yield Site(server, passwords)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _logged_in(browser: Browser, site: Site, path: str, user: str, **options: object) -> Tab:
    tab = open_tab(browser, f"{site.url}{path}", **options)
    tab.page.fill("#login [name=username]", user)
    tab.page.fill("#login [name=password]", site.passwords[user])
    tab.page.click("#login button[type=submit]")
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return tab


def _wait(page: Page, script: str, arg: Any = None, *, timeout_s: float = 20) -> None:
    """Wait until `script` is true in `page` (`wait_for_function` needs eval, which the pages'
    content security policy refuses)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {script}"
        time.sleep(0.05)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def _along(
    coords: list[list[float]], *, step_m: float, length_m: float
) -> list[tuple[float, float]]:
    """Positions every `step_m` along a line string, over its first `length_m`."""
    out = [(coords[0][0], coords[0][1])]
    done_m, carry_m = 0.0, 0.0
    for a, b in itertools.pairwise(coords):
        seg_m = _metres((a[0], a[1]), (b[0], b[1]))
        at_m = step_m - carry_m
        while at_m <= seg_m and done_m + at_m <= length_m:
            share = at_m / seg_m
            out.append((a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1])))
            at_m += step_m
        carry_m = (carry_m + seg_m) % step_m
        done_m += seg_m
        if done_m >= length_m:
            break
    return out


def _duty_of_a_zone(site: Site) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A car, a mandatory line and a point needing one visit, all of one zone."""
    features = site.call("GET", "/api/city/map")["layout"]["features"]
    units = site.call("GET", "/api/units")
    officer_unit = site.call("GET", "/api/me", user="officer")["unit"]["id"]
    for unit in units:
        if unit["id"] == officer_unit:
            continue
        mine = [f for f in features if f["properties"].get("zone") == unit["zone"]]
        lines = [f for f in mine if f["properties"]["layer"] == "patrol_line"]
        points = [
            f
            for f in mine
            if f["properties"]["layer"] == "patrol_point"
            and f["properties"]["visits_per_shift"] == 1
        ]
        if lines and points:
            return unit, max(lines, key=lambda f: f["properties"]["length_m"]), points[0]
    raise AssertionError("no zone has a mandatory line and a one-visit point")


def test_the_commander_reads_a_cars_patrol(browser: Browser, site: Site) -> None:
    unit, line, point = _duty_of_a_zone(site)
    device = f"car-{unit['call_sign']}"
    body = {"device_id": device, "protocol": "osmand", "unit_id": unit["id"]}
    site.secrets[device] = site.call("POST", "/api/devices", json=body)["secret"]

    desk = _logged_in(browser, site, "/", "commander", viewport={"width": 1440, "height": 900})
    page = desk.page
    page.click("[data-tab=patrol]")
    page.select_option("#patrol-zone", unit["zone"])
    row = page.locator(f"#patrol tr[data-unit='{unit['id']}']")
    expect(row.locator(".km")).to_have_text("0.0")
    opened = time.monotonic()

    # 36 km/h along part of the line, a fix every 5 s; ten minutes later, a dwell at the point
    now = time.time()
    t0 = now - 40 * 60
    half_m = min(line["properties"]["length_m"] * 0.6, 2000)
    drive = _along(line["geometry"]["coordinates"], step_m=50, length_m=half_m)
    fixes = [(lon, lat, t0 + 5 * i) for i, (lon, lat) in enumerate(drive)]
    lon, lat = point["geometry"]["coordinates"]
    dwell_s = point["properties"]["dwell_min"] * 60 + 120
    arrive = fixes[-1][2] + 600
    fixes += [
        (lon + 0.00001 * (i % 2), lat, arrive + 20 * i) for i in range(int(dwell_s // 20) + 1)
    ]
    assert fixes[-1][2] < now - 60
    site.drive(device, fixes)

    # the check-in event reloads the tab, long before the minute's refresh would
    point_row = page.locator(f"#patrol tr[data-point='{point['properties']['id']}']")
    expect(point_row).to_have_attribute("data-status", "done", timeout=15_000)
    assert time.monotonic() - opened < 55, "reloaded by the minute's timer, not the check-in"
    loads = int(page.locator("#patrol").get_attribute("data-loaded") or 0)
    assert loads <= 4, f"{loads} loads of the report for {len(fixes)} fixes: one per event?"
    expect(point_row.locator("td").last).to_have_text("已到")
    fill = page.evaluate(
        "id => jx.city.pointLayers.get(id).options.fillColor", point["properties"]["id"]
    )
    assert fill == DONE_GREEN

    # the unit's figures, its matched roads on the map, and the line it partly drove
    km = float(row.locator(".km").inner_text())
    assert km > 0.3, km
    expect(row.locator(".roads")).to_contain_text("道路匹配至")
    expect(row.locator(".check-ins")).to_have_text("1")
    expect(page.locator("#patrol-shift")).to_contain_text("本班")
    driven = page.locator(f"path.jx-driven.unit-{unit['id']}")
    expect(driven).to_have_count(1)
    line_row = page.locator(f"#patrol tr[data-line='{line['properties']['id']}']")
    covered = int(line_row.locator("td").nth(2).inner_text().rstrip("%"))
    assert 0 < covered < 100, covered
    assert (
        page.evaluate(
            "id => jx.city.lineLayers.get(id).options.dashArray", line["properties"]["id"]
        )
        is None
    )

    # one unit of the zone at a time: another unit's choice hides this car's roads
    others = [
        u
        for u in site.call("GET", "/api/units")
        if u["zone"] == unit["zone"] and u["id"] != unit["id"]
    ]
    page.select_option("#patrol-unit", str(unit["id"]))
    expect(driven).to_have_count(1)
    expect(page.locator("#patrol tr[data-unit]")).to_have_count(1)
    if others:
        page.select_option("#patrol-unit", str(others[0]["id"]))
        expect(driven).to_have_count(0)
        expect(point_row).to_have_attribute("data-status", "pending")  # not his visit
    page.select_option("#patrol-unit", "")
    expect(driven).to_have_count(1)

    # the CSV, fetched with the token and saved from a Blob: no token in any URL
    with page.expect_download() as info:
        page.click("#patrol-csv")
    download = info.value
    assert download.url.startswith("blob:"), download.url
    lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == UNITS_HEADER
    mine = next(r for r in lines[1:] if r.startswith(f"{unit['call_sign']},"))
    assert float(mine.split(",")[2]) > 0.3, mine

    # in English, the same figures
    page.click("#lang")
    expect(row.locator(".roads")).to_contain_text("roads as of")
    expect(point_row.locator("td").last).to_have_text("visited")
    assert desk.errors == [], desk.errors
    assert desk.outside == [], desk.outside
    page.click("#lang")
    desk.close()


def test_an_officers_check_in_without_a_dwell_is_not_proved(browser: Browser, site: Site) -> None:
    me = site.call("GET", "/api/me", user="officer")
    point = next(
        f
        for f in site.call("GET", "/api/city/map")["layout"]["features"]
        if f["properties"]["layer"] == "patrol_point"
        and f["properties"]["zone"] == me["unit"]["zone"]
    )
    lon, lat = point["geometry"]["coordinates"]
    phone = _logged_in(
        browser,
        site,
        "/officer",
        "officer",
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        permissions=["geolocation"],
        geolocation={"longitude": lon, "latitude": lat},
    )
    mobile = phone.page
    # the phone's one fix at the point, and at once a check-in: no dwell, so no visit
    mobile.check("#share")
    _wait(mobile, "Number(document.querySelector('#share-state').dataset.sent) >= 1")
    row = mobile.locator(f"#points li[data-point='{point['properties']['id']}']")
    expect(row).to_have_attribute("data-status", "pending")
    row.locator("button").click()
    proof = mobile.locator("#check-in-proof")
    expect(proof).to_have_attribute("data-proved", "false")
    expect(proof).to_contain_text("未证实")
    expect(row.locator("small")).to_contain_text("0/")
    expect(row.locator("small")).to_contain_text("1 未证实")
    mobile.click("#lang")
    expect(proof).to_contain_text("not proved: your GPS did not stay at the point for the dwell")
    expect(row).to_have_attribute("data-status", "pending")
    mine = site.call("GET", "/api/patrol/report", user="officer")["units"][0]
    visit = next(p for p in mine["duty"]["points"] if p["point_id"] == point["properties"]["id"])
    assert (visit["visits"], visit["unproved"]) == (0, 1)
    mobile.click("#lang")
    assert phone.errors == [], phone.errors
    assert phone.outside == [], phone.outside
    phone.close()
