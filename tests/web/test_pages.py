"""The command-center page and the officer's page in headless Chromium against a real server:
a 110 call from a map click to a closed incident, with a multi-point dispatch, the order driven
from the officer's phone, and the unit moving live from OsmAnd fixes."""

from __future__ import annotations

import math
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from browser import Tab, chromium, open_tab
from live import Server, start_server
from playwright.sync_api import Browser, Page, Route, expect

from jiaoxun.db import make_engine, transaction
from jiaoxun.users.passwords import hash_password
from jiaoxun.users.roles import Role
from jiaoxun.users.service import create_user, unit_id_of

ROBBERY = "010200"  # priority 1: three units from distinct zones (一点报警，多点响应)


@dataclass
class Site:
    server: Server
    passwords: dict[str, str]
    tokens: dict[str, str]
    shots: Path
    last_fix: dict[str, int] = field(default_factory=dict)  # device: its last fix's time
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

    def fix(self, device: str, lon: float, lat: float, at: float | None = None) -> None:
        """A position through the no-token OsmAnd endpoint, as Traccar Client sends it, once
        stored. Its time is a whole second after the device's last one: a phone's second fix
        in the same second is a duplicate, which the server drops."""
        stamp = max(int(at or time.time()), self.last_fix.get(device, 0) + 1)
        self.last_fix[device] = stamp
        before = self.call("GET", "/api/tracking/stats")
        params = {"id": device, "key": self.secrets[device], "lon": lon, "lat": lat}
        params["timestamp"] = stamp
        reply = httpx.get(f"{self.url}/api/osmand", params=params)
        assert reply.text == "OK", reply.text
        deadline = time.monotonic() + 10
        while (stats := self.call("GET", "/api/tracking/stats"))["accepted"] == before["accepted"]:
            assert stats["rejected"] == before["rejected"], stats
            assert time.monotonic() < deadline, "the fix was neither stored nor refused"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def site(
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    database_url = new_database("sqlite")
    server, passwords = start_server(
        database_url=database_url,
        data=tmp_path_factory.mktemp("pages"),
        cache_dir=cache_dir,
    )
    shots = Path(os.environ.get("JIAOXUN_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    site = Site(server, passwords, {}, shots)
    try:
        # a second officer, of another zone, for the check-in and form tests
        engine = make_engine(database_url)
        with transaction(engine) as session:
            create_user(
                session,
                username="officer2",
                password_hash=hash_password(password := secrets.token_urlsafe(12)),
                role=Role.OFFICER,
                unit_id=unit_id_of(session, "JX05-2"),
                must_change_password=False,
            )
        engine.dispose()
        site.passwords["officer2"] = password
        # every car gets a terminal and a fresh position at its kiosk
        kiosks = {
            f["properties"]["zone"]: f["geometry"]["coordinates"]
            for f in site.call("GET", "/api/city/map")["layout"]["features"]
            if f["properties"]["layer"] == "kiosk"
        }
        for unit in site.call("GET", "/api/units"):
            device = f"car-{unit['call_sign']}"
            body = {"device_id": device, "protocol": "osmand", "unit_id": unit["id"]}
            site.secrets[device] = site.call("POST", "/api/devices", json=body)["secret"]
            site.fix(device, *kiosks[unit["zone"]])
        yield site
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _logged_in(browser: Browser, site: Site, path: str, user: str, **options: object) -> Tab:
    options = {"viewport": {"width": 1440, "height": 900}, **options}
    tab = open_tab(browser, f"{site.url}{path}", **options)
    _log_in(tab, site, user)
    return tab


def _log_in(tab: Tab, site: Site, user: str) -> None:
    tab.page.fill("#login [name=username]", user)
    tab.page.fill("#login [name=password]", site.passwords[user])
    tab.page.click("#login button[type=submit]")
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def _phone(browser: Browser, site: Site, user: str, lon: float, lat: float) -> Tab:
    """The officer's page on a phone that lets the page read its position (lon, lat)."""
    return _logged_in(
        browser,
        site,
        "/officer",
        user,
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        permissions=["geolocation"],
        geolocation={"longitude": lon, "latitude": lat},
    )


def _clean(tab: Tab, *, refused: tuple[int, ...] = ()) -> None:
    """Nothing left the machine, no script failed, and requests were refused only with the
    expected statuses (each at least once)."""
    assert tab.outside == [], f"requests left the machine: {tab.outside}"
    assert tab.errors == [], f"errors in the page: {tab.errors}"
    statuses = {int(m) for m in re.findall(r"status of (\d{3})", " ".join(tab.failed_loads))}
    assert statuses == set(refused), tab.failed_loads
    assert len(tab.failed_loads) == len(re.findall("status of", " ".join(tab.failed_loads)))


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def _marker(page: Page, unit_id: int) -> tuple[float, float]:
    lat, lng = page.evaluate(
        "id => { const p = jx.units.markers.get(id).getLatLng(); return [p.lat, p.lng]; }", unit_id
    )
    return lng, lat


def _wait(page: Page, script: str, arg: Any = None, *, timeout_s: float = 30) -> None:
    """Wait until `script` is true in `page`: `page.wait_for_function` compiles it with eval,
    which the pages' content security policy refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {script}"
        time.sleep(0.05)


def _wait_marker_at(page: Page, unit_id: int, lon: float, lat: float) -> None:
    _wait(
        page,
        """([id, lon, lat]) => {
            const p = jx.units.markers.get(id)?.getLatLng();
            return p && Math.abs(p.lng - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6;
        }""",
        [unit_id, lon, lat],
        timeout_s=10,
    )


def _click_map(page: Page, lon: float, lat: float) -> None:
    """A real mouse click on the map where (lon, lat) is drawn."""
    page.evaluate(
        "([lon, lat]) => { jx.city.map.setView([lat, lon], 16, {animate: false}); }", [lon, lat]
    )
    x, y = page.evaluate(
        "([lon, lat]) => { const p = jx.city.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lon, lat],
    )
    page.locator("#map").click(position={"x": x, "y": y})


def test_a_call_from_map_click_to_closed_incident(browser: Browser, site: Site) -> None:
    me = site.call("GET", "/api/me", user="officer")
    unit = me["unit"]
    home = (unit["lon"], unit["lat"])
    scene = (home[0] + 0.004, home[1] + 0.001)  # about 330 m from the kiosk
    car = f"car-{unit['call_sign']}"
    site.fix(car, home[0] + 0.002, home[1] + 0.0005)  # nearer the scene than its zone mates

    desk = _logged_in(browser, site, "/", "dispatcher")
    page = desk.page
    _wait_marker_at(page, unit["id"], home[0] + 0.002, home[1] + 0.0005)

    # intake: category by search, location by clicking the map
    page.fill("#category-search", "抢劫")
    page.click(f"#category-list li[data-code='{ROBBERY}']")
    _click_map(page, *scene)
    location = page.locator("#location")
    expect(location).to_have_attribute("data-lon", re.compile(r"^126\."))
    picked = (
        float(location.get_attribute("data-lon") or 0),
        float(location.get_attribute("data-lat") or 0),
    )
    assert _metres(picked, scene) < 5, (picked, scene)
    page.fill("[name=address]", "测试街 1 号")
    page.fill("[name=caller_name]", "张先生")
    page.fill("[name=caller_phone]", "13800000000")
    page.fill("[name=description]", "<b>两名男子</b>抢包后向北逃跑")
    page.click("#intake button[type=submit]")

    # the detail shows the call, untouched by markup, and every unit ranked by road ETA
    detail = page.locator("#detail")
    expect(detail.locator(".description")).to_have_text("<b>两名男子</b>抢包后向北逃跑")
    expect(page.locator("#dispatch-plan")).to_have_text("一键多点派遣 (3)")
    candidates = page.locator(".candidates tbody tr")
    expect(candidates).to_have_count(len(site.call("GET", "/api/units")))
    first = candidates.first
    expect(first).to_have_attribute("data-unit", str(unit["id"]))
    expect(first.locator(".reason")).to_have_text("警务室待命")  # the API's "at kiosk"
    expect(page.locator("path.jx-route")).to_have_count(3)
    incident_id = int(detail.get_attribute("data-incident") or 0)
    rec = site.call("GET", f"/api/incidents/{incident_id}/recommendations", user="dispatcher")
    assert rec["chosen"][0] == unit["id"]
    assert len({c["zone"] for c in rec["candidates"] if c["unit_id"] in rec["chosen"]}) == 3
    page.wait_for_timeout(1000)  # the routes' requests settle before the picture
    page.screenshot(path=site.shots / "command-center.png")

    # one action sends the plan's three units
    page.click("#dispatch-plan")
    orders = page.locator(".orders tr")
    expect(orders).to_have_count(3)
    expect(page.locator(".orders tr[data-state='issued']")).to_have_count(3)

    # the officer's phone, in a second browser
    phone = _phone(browser, site, "officer", home[0] + 0.003, home[1] + 0.0008)
    mobile = phone.page
    expect(mobile.locator("#order-state")).to_have_attribute("data-state", "issued")
    expect(mobile.locator("path.jx-route")).to_have_count(1)
    mobile.click("[data-next=acknowledged]")
    expect(mobile.locator("#order-state")).to_have_attribute("data-state", "acknowledged")
    mobile.click("[data-next=en_route]")
    expect(mobile.locator("#order-state")).to_have_attribute("data-state", "en_route")
    expect(page.locator(".orders tr[data-state='en_route']")).to_have_count(1)

    # the car's terminal reports through OsmAnd; the command page moves the unit
    # (the last three seconds: the phone's fix below must be newer, as it is on the street)
    now = time.time()
    for step in (1, 2, 3):
        site.fix(
            car, home[0] + 0.002 + 0.0005 * step, home[1] + 0.0005 + 0.0001 * step, now - 3 + step
        )
    _wait_marker_at(page, unit["id"], home[0] + 0.0035, home[1] + 0.0008)

    # the phone reports its own position when the officer allows it
    phone.context.set_geolocation({"longitude": scene[0], "latitude": scene[1]})
    mobile.check("#share")
    _wait(mobile, "Number(document.querySelector('#share-state').dataset.sent) >= 1")
    _wait_marker_at(page, unit["id"], *scene)
    _wait(
        mobile,
        "([lon, lat]) => { const p = jx.self.getLatLng();"
        " return Math.abs(p.lng - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6; }",
        list(scene),
    )
    mobile.screenshot(path=site.shots / "officer.png")

    mobile.click("[data-next=arrived]")
    expect(mobile.locator("#order-state")).to_have_attribute("data-state", "arrived")
    mobile.click("[data-next=done]")
    expect(mobile.locator("#order")).to_have_text("当前没有警令")
    expect(page.locator(".orders tr[data-state='done']")).to_have_count(1)

    # close with an outcome: the incident leaves the queue
    page.select_option(".close [name=outcome_code]", "resolved")
    page.fill(".close [name=outcome_text]", "嫌疑人已控制")
    page.click(".close button[type=submit]")
    expect(detail.locator("h2 .state")).to_have_text("已结案")
    expect(detail.locator(".timeline li").last).to_contain_text("dispatcher 警情 已处置→已结案")
    expect(page.locator(f"#queue li[data-id='{incident_id}']")).to_have_count(0)
    closed = site.call("GET", f"/api/incidents/{incident_id}", user="dispatcher")
    assert closed["state"] == "closed"
    assert closed["outcome_code"] == "resolved"
    by_officer = [
        e["to_state"]
        for e in closed["timeline"]
        if e["username"] == "officer" and e["entity"] == "order"
    ]
    assert by_officer == ["acknowledged", "en_route", "arrived", "done"]
    _clean(desk)
    _clean(phone)
    desk.close()
    phone.close()


def test_a_car_that_moves_while_the_page_loads_is_drawn_where_it_went(
    browser: Browser, site: Site
) -> None:
    """The page subscribes to the stream before it reads the fleet: a fix stored between the
    two reaches the map (a page that read first and subscribed after lost it for good)."""
    unit = next(u for u in site.call("GET", "/api/units") if u["call_sign"] == "JX03-1")
    moved = (unit["lon"] + 0.001, unit["lat"] + 0.0005)
    tab = open_tab(browser, f"{site.url}/", viewport={"width": 1440, "height": 900})

    def fleet_then_move(route: Route) -> None:
        reply = route.fetch()  # the fleet as the server holds it now
        site.fix(f"car-{unit['call_sign']}", *moved)  # then the car moves
        route.fulfill(response=reply)

    tab.page.route("**/api/units", fleet_then_move, times=1)
    _log_in(tab, site, "dispatcher")
    _wait_marker_at(tab.page, unit["id"], *moved)
    _clean(tab)
    tab.close()


def test_a_wrong_password_is_named_on_the_login_form(browser: Browser, site: Site) -> None:
    tab = open_tab(browser, site.url)
    tab.page.fill("#login [name=username]", "dispatcher")
    tab.page.fill("#login [name=password]", "not the password")
    tab.page.click("#login button[type=submit]")
    expect(tab.page.locator("#login .error")).to_have_text("wrong user name or password")
    expect(tab.page.locator("#desk")).to_be_hidden()
    # a kiosk clerk has no business on the command page: told why, and not let in
    tab.page.fill("#login [name=username]", "kiosk_clerk")
    tab.page.fill("#login [name=password]", site.passwords["kiosk_clerk"])
    tab.page.click("#login button[type=submit]")
    expect(tab.page.locator("#login .error")).to_contain_text("role kiosk_clerk may not")
    expect(tab.page.locator("#desk")).to_be_hidden()
    assert tab.page.evaluate("sessionStorage.getItem('jx.token')") is None
    _clean(tab, refused=(401, 403))
    tab.close()


def test_tabs_search_language_and_live_log(browser: Browser, site: Site) -> None:
    desk = _logged_in(browser, site, "/", "dispatcher")
    page = desk.page
    expect(page.locator("[data-tab=intake]")).to_have_text("接警")
    expect(page.locator("#live")).to_have_text("实时连接")

    # a place found by name becomes the call's location and address
    place = site.call("GET", "/api/places", params={"q": "红旗大街", "limit": 1})[0]
    page.fill("#place-search", "红旗大街")
    page.locator("#place-list li").first.click()
    expect(page.locator("#location")).to_have_attribute("data-lon", str(place["lon"]))
    expect(page.locator("[name=address]")).to_have_value(place["name"])

    # every unit with its status; a status change arrives live, in the list and the log
    units = site.call("GET", "/api/units")
    page.click("[data-tab=units]")
    expect(page.locator("#units tr")).to_have_count(len(units))
    unit = next(u for u in units if u["status"] in {"available", "at_kiosk"})
    site.call("POST", f"/api/units/{unit['id']}/status", json={"status": "off_duty"})
    expect(page.locator(f"#units tr[data-id='{unit['id']}'] .status")).to_have_text("下勤")
    page.click("[data-tab=log]")
    expect(page.locator("#log li").first).to_contain_text(f"{unit['call_sign']} → 下勤")

    # the patrol view lists the zone's mandatory points
    features = site.call("GET", "/api/city/map")["layout"]["features"]
    zone = unit["zone"]
    points = [f for f in features if f["properties"]["layer"] == "patrol_point"]
    page.click("[data-tab=patrol]")
    page.select_option("#patrol-zone", zone)
    expect(page.locator("#patrol tr[data-point]")).to_have_count(
        sum(1 for f in points if f["properties"]["zone"] == zone)
    )
    lines = [f for f in features if f["properties"]["layer"] == "patrol_line"]
    expect(page.locator("#patrol tr[data-line]")).to_have_count(
        sum(1 for f in lines if f["properties"]["zone"] == zone)
    )

    # a second call from the same spot is flagged in the queue's detail
    first, second = (
        site.call(
            "POST",
            "/api/incidents",
            user="dispatcher",
            json={"lon": place["lon"], "lat": place["lat"], "category_code": "020100"},
        )
        for _ in range(2)
    )
    page.click("[data-tab=queue]")
    timer = page.locator(f"#queue li[data-id='{second['id']}'] .timer")
    expect(timer).to_have_attribute("data-bounds", "60,180,300")  # the 1-3-5 tiers, in seconds
    expect(timer).to_have_class(re.compile(r"\bok\b"))
    page.click(f"#queue li[data-id='{second['id']}']")
    expect(page.locator("#detail .warning")).to_contain_text(first["number"])
    for incident in (first, second):
        site.call(
            "POST",
            f"/api/incidents/{incident['id']}/cancel",
            user="dispatcher",
            json={"reason": "test call"},
        )
    expect(page.locator(f"#queue li[data-id='{second['id']}']")).to_have_count(0)

    # English by the switch, kept over a reload, and back
    page.click("#lang")
    expect(page.locator("[data-tab=intake]")).to_have_text("Intake")
    page.click("[data-tab=units]")
    expect(page.locator(f"#units tr[data-id='{unit['id']}'] .status")).to_have_text("Off duty")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("[data-tab=intake]")).to_have_text("Intake")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("#lang")
    expect(page.locator("[data-tab=intake]")).to_have_text("接警")
    site.call("POST", f"/api/units/{unit['id']}/status", json={"status": "available"})
    _clean(desk)
    desk.close()


def test_officer_checks_in_and_records_matters(browser: Browser, site: Site) -> None:
    me = site.call("GET", "/api/me", user="officer2")
    point = next(
        f
        for f in site.call("GET", "/api/city/map")["layout"]["features"]
        if f["properties"]["layer"] == "patrol_point"
        and f["properties"]["zone"] == me["unit"]["zone"]
    )
    lon, lat = point["geometry"]["coordinates"]
    phone = _phone(browser, site, "officer2", lon, lat)
    mobile = phone.page
    expect(mobile.locator("#unit")).to_have_text(me["unit"]["call_sign"])
    expect(mobile.locator("#order")).to_have_text("当前没有警令")

    # standing at the point, with the phone's position shared for a moment: a check-in by hand
    # is stored but, with no dwell in the track, not proved and not counted
    mobile.check("#share")
    _wait(mobile, "Number(document.querySelector('#share-state').dataset.sent) >= 1")
    row = mobile.locator(f"#points li[data-point='{point['properties']['id']}']")
    row.locator("button").click()
    expect(mobile.locator("#check-in-proof")).to_have_attribute("data-proved", "false")
    expect(row.locator("small")).to_contain_text("0/")
    expect(row.locator("small")).to_contain_text("1 未证实")

    # a violation with a bad plate is refused by name, then recorded
    form = mobile.locator("form[data-kind=violation]")
    form.locator("[name=plate]").fill("ABC")
    form.locator("[name=violation]").select_option("illegal_parking")
    form.locator("button").click()
    expect(form.locator(".error")).to_contain_text("plate")
    form.locator("[name=plate]").fill("黑A12345")
    form.locator("button").click()
    expect(mobile.locator("#saved")).to_contain_text("已登记")
    mobile.click("[data-form=assistance]")
    form = mobile.locator("form[data-kind=assistance]")
    form.locator("[name=assistance]").select_option("directions")
    form.locator("[name=people_helped]").fill("2")
    form.locator("button").click()
    expect(mobile.locator("#saved")).to_contain_text("已登记")
    mobile.click("[data-form=stop_check]")
    form = mobile.locator("form[data-kind=stop_check]")
    form.locator("[name=persons]").fill("2")
    form.locator("[name=vehicles]").fill("1")
    form.locator("[name=plate]").fill("黑AD12345")
    form.locator("button").click()
    expect(mobile.locator("#saved")).to_contain_text("已登记")

    recorded = site.call("GET", "/api/activities", params={"unit_id": me["unit"]["id"]})
    assert [a["kind"] for a in recorded] == ["stop_check", "assistance", "violation"]
    assert recorded[2]["details"]["plate"] == "黑A12345"
    assert recorded[1]["details"]["people_helped"] == 2
    assert (recorded[0]["details"]["persons"], recorded[0]["details"]["vehicles"]) == (2, 1)
    assert all(a["recorded_by"] == "officer2" for a in recorded)
    assert all(_metres((a["lon"], a["lat"]), (lon, lat)) < 1 for a in recorded)
    _clean(phone, refused=(422,))
    phone.close()
