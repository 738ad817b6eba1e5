"""The duty pages in headless Chromium, against the real app served by uvicorn in this process on
SQLite and on PostgreSQL: the commander solves this month's roster on the duty page, sees its
status, objective and bound, publishes it and reads a kiosk's calendar (34 officers, the shift of
each worked day as the API gives it), in Chinese and in English; a demand no force can meet shows
the solver's reasons; the officer sees his next shifts on his phone; a kiosk whose crewed cars
are all sent out shows as unstaffed on the command page and on the clerk's counter, where
walk-ins stop.

The module has a server of its own: publishing a roster changes every car's crew. At the clerk's
kiosk no officer is rostered at the counter (its counter demand set to 0 first), so that dispatch
alone can empty it."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import live
import pytest
from browser import Tab, chromium, open_tab
from live import served_in_thread
from playwright.sync_api import Browser, Page, expect

from jiaoxun.db import transaction
from jiaoxun.services.models import DayKind, OpeningHours, ServiceItem, ServiceKind
from jiaoxun.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo city's time zone (the settings' default)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1500, "height": 1000}}
SOLVE_TIMEOUT_MS = 90_000
TIGHT = {
    "code": "tight",
    "name_zh": "紧",
    "name_en": "tight",
    "shifts": [
        {"code": "D", "name_zh": "白班", "name_en": "day", "start": "08:00", "hours": 12},
        {"code": "N", "name_zh": "夜班", "name_en": "night", "start": "20:00", "hours": 12},
    ],
    "teams": 2,
    "cycle": ["D", "N", "-", "-"],
}


class Site(live.Site):
    """The app served on a port of its own."""

    clerk_kiosk: dict[str, Any]
    terminals: dict[str, tuple[str, int]]  # a car terminal's secret and its last fix's time

    def json(self, method: str, path: str, *, user: str = "commander", **kw: Any) -> Any:
        reply = self.call(method, path, user=user, **kw)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    settings = Settings(
        database_url=new_database(request.param),
        data_dir=tmp_path_factory.mktemp("duty-pages"),
        cache_dir=cache_dir,
        jt808_port=0,
        public_requests_per_min=100_000,
        login_failures_per_address=100_000,
    )
    with served_in_thread(settings) as (app, engine, url, passwords):
        site = Site(app, engine, url, passwords)
        site.terminals = {}
        site.clerk_kiosk = site.json("GET", "/api/counter/today", user="kiosk_clerk")["kiosk"]
        _no_counter_post_at(site, site.clerk_kiosk["id"])
        yield site


def _no_counter_post_at(site: Site, kiosk_id: int) -> None:
    """The 4t3s demands of the kiosk with no officer at its counter."""
    rows = [
        d for d in site.json("GET", "/api/duty/demands?pattern=4t3s") if d["kiosk_id"] == kiosk_id
    ]
    fields = ("kiosk_id", "shift", "day_kind", "cars", "crew", "patrol")
    demands = [{k: d[k] for k in fields} | {"counter": 0} for d in rows]
    site.json("PUT", "/api/duty/demands", json={"pattern": "4t3s", "demands": demands})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _this_month() -> str:
    return datetime.now(SHANGHAI).strftime("%Y-%m")


def _shot(page: Page, name: str) -> None:
    """A screenshot of the page when JIAOXUN_SCREENSHOTS names a folder (to look at by eye)."""
    folder = os.environ.get("JIAOXUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _clean(tab: Tab, *, refused: tuple[int, ...] = ()) -> None:
    """Nothing left the machine, no script failed, and requests were refused only with the
    expected statuses."""
    assert tab.outside == [], f"requests left the machine: {tab.outside}"
    assert tab.errors == [], f"errors in the page: {tab.errors}"
    statuses = {int(m) for m in re.findall(r"status of (\d{3})", " ".join(tab.failed_loads))}
    assert statuses == set(refused), tab.failed_loads


def _open(browser: Browser, site: Site, path: str, user: str, **options: Any) -> Tab:
    tab = open_tab(browser, f"{site.url}{path}", **(options or DESKTOP))
    page = tab.page
    page.set_default_timeout(10_000)
    page.fill("#login [name=username]", user)
    page.fill("#login [name=password]", site.passwords[user])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return tab


def _published(site: Site) -> dict[str, Any]:
    """This month's roster in force: the one published, or one solved and published now."""
    month = _this_month()
    rosters = site.json("GET", f"/api/duty/rosters?month={month}")
    roster = next((r for r in rosters if r["state"] == "published"), None)
    if roster is None:
        body = {"month": month, "pattern": "4t3s", "time_limit_s": 30}
        roster = site.json("POST", "/api/duty/rosters", json=body)
        assert roster["status"] in {"optimal", "feasible"}, roster
        path = f"/api/duty/rosters/{roster['id']}/publish"
        roster = site.json("POST", path, json={"version": roster["version"]})
    return dict(roster)


def test_the_commander_solves_publishes_and_reads_the_calendar(
    browser: Browser, site: Site
) -> None:
    kiosk = site.clerk_kiosk
    # a day of the month declared a holiday, as an admin does through the statistics' calendar
    holiday = f"{_this_month()}-15"
    body = {"workday": False, "holiday": "测试节"}
    site.json("PUT", f"/api/analytics/calendar/{holiday}", user="admin", json=body)
    tab = _open(browser, site, f"/duty?kiosk={kiosk['id']}", "commander")
    page = tab.page
    expect(page.locator("#toolbar [name=month]")).to_have_value(_this_month())
    expect(page.locator("#toolbar [name=pattern]")).to_have_value("4t3s")
    expect(page.locator("#calendar-kiosk")).to_have_text(kiosk["name"])
    page.fill("#toolbar [name=time_limit_s]", "30")
    page.click("#solve")
    # the server solves for seconds: the page counts them while the button waits
    expect(page.locator("#busy")).to_contain_text("正在求解")
    expect(page.locator("#busy")).to_have_text(re.compile(r"正在求解 [1-9]\d* 秒 / 30 秒"))
    expect(page.locator("#solve")).to_be_disabled()
    expect(page.locator("#busy")).to_be_hidden(timeout=SOLVE_TIMEOUT_MS)
    expect(page.locator("#problem")).to_have_text("")

    status = page.locator("#result [data-key='duty.status']")
    assert status.get_attribute("data-status") in {"optimal", "feasible"}
    roster = site.json("GET", f"/api/duty/rosters?month={_this_month()}")[0]
    assert roster["id"] == page.evaluate("() => window.jx.calendar.roster.id")
    expect(status).to_have_text("最优" if roster["status"] == "optimal" else "可行")
    expect(page.locator("#result [data-key='duty.objective']")).to_have_text(
        f"{roster['objective']:.1f}"
    )
    expect(page.locator("#result [data-key='duty.bound']")).to_have_text(f"{roster['bound']:.1f}")
    assert roster["bound"] <= roster["objective"] + 1e-6
    expect(page.locator("#roster-state")).to_have_text("草案")
    expect(page.locator("#why")).to_be_hidden()

    page.click("#publish")
    expect(page.locator("#roster-state")).to_have_text("已发布")
    expect(page.locator("#publish")).to_be_hidden()
    row = page.locator(f"#rosters tr[data-roster='{roster['id']}']")
    expect(row).to_have_attribute("data-state", "published")
    assert site.json("GET", f"/api/duty/rosters?month={_this_month()}")[0]["state"] == "published"

    # the kiosk's calendar: its 34 officers, each worked day's cell as the API has it
    calendar = site.json("GET", f"/api/duty/rosters/{roster['id']}?kiosk_id={kiosk['id']}")
    rows = page.locator("#calendar tbody tr")
    expect(rows).to_have_count(34)
    assert len(calendar["officers"]) == 34
    expect(page.locator("#calendar thead th.day")).to_have_count(len(calendar["days"]))
    expect(page.locator("#calendar tbody td.work")).to_have_count(len(calendar["shifts"]))
    for shift in calendar["shifts"][:: max(1, len(calendar["shifts"]) // 6)]:
        cell = page.locator(
            f"#calendar tr[data-officer='{shift['officer_id']}'] td[data-day='{shift['day']}']"
        )
        expect(cell).to_have_attribute("data-shift", shift["shift"])
        expect(cell).to_contain_text(shift["shift"])
        title = cell.get_attribute("title") or ""
        assert (shift["call_sign"] or {"counter": "窗", "patrol": "巡"}[shift["post"]]) in title
    night = next(s for s in calendar["shifts"] if s["shift"] == "N")
    cell = page.locator(
        f"#calendar tr[data-officer='{night['officer_id']}'] td[data-day='{night['day']}']"
    )
    expect(cell).to_have_class(re.compile(r"\bnight\b"))
    # the heads of each day and shift at the foot
    day = calendar["days"][0]
    heads = sum(1 for s in calendar["shifts"] if s["day"] == day and s["shift"] == "A")
    foot = page.locator(f"#calendar tfoot tr[data-shift='A'] td[data-day='{day}']")
    expect(foot).to_have_text(str(heads))
    head = page.locator(f"#calendar thead th[data-day='{holiday}']")
    expect(head).to_have_class(re.compile(r"\bholiday\b"))
    expect(head).to_have_attribute("title", f"{holiday} 节假日 测试节")
    saturday = next(d for d in calendar["days"] if datetime.fromisoformat(d).weekday() == 5)
    expect(page.locator(f"#calendar thead th[data-day='{saturday}']")).to_have_class(
        re.compile(r"\brestday\b")
    )
    licensed = next(o for o in calendar["officers"] if o["licence"])
    expect(
        page.locator(f"#calendar tr[data-officer='{licensed['id']}'] .skill.driver")
    ).to_have_text("驾")
    _shot(page, "duty-calendar")

    # every car and its crew now; the officers on duty with no device flagged
    expect(page.locator("#crews tbody tr")).to_have_count(len(site.json("GET", "/api/duty/crews")))
    flags = site.json("GET", "/api/duty/attendance")
    assert flags
    assert {f["flag"] for f in flags} == {"no_device"}
    expect(page.locator("#attendance tbody tr.flag")).to_have_count(len(flags))
    expect(page.locator("#attendance tbody tr.flag").first).to_contain_text("无终端")

    page.click("#lang")
    expect(page.locator("[data-i18n='duty.calendar']")).to_have_text("Calendar")
    expect(page.locator("#roster-state")).to_have_text("published")
    expect(page.locator("#solve")).to_have_text("Solve")
    expect(
        page.locator(f"#calendar tr[data-officer='{licensed['id']}'] .skill.driver")
    ).to_have_text("Dr")
    _shot(page, "duty-calendar-en")
    _clean(tab)
    tab.close()


def test_a_demand_no_force_can_meet_shows_why(browser: Browser, site: Site) -> None:
    kiosk = site.clerk_kiosk
    made = site.call("PUT", "/api/duty/patterns/tight", user="commander", json={"body": TIGHT})
    assert made.status_code in (200, 409), made.text  # made already on this server
    tab = _open(
        browser, site, f"/duty?kiosk={kiosk['id']}&pattern=tight&month=2027-02", "commander"
    )
    page = tab.page
    # three cars of six a shift, day and night, every kind of day: 36 officers a day, 34 at hand
    rows = page.locator("#demands tbody tr")
    expect(rows).to_have_count(6)
    for shift in ("D", "N"):
        for kind in ("workday", "restday", "holiday"):
            page.fill(f"#demands [name='{shift}.{kind}.cars']", "3")
            page.fill(f"#demands [name='{shift}.{kind}.crew']", "6")
    page.click("#demands button[type=submit]")
    expect(page.locator("#demands .saved")).to_have_text("已保存")
    saved = [
        d
        for d in site.json("GET", "/api/duty/demands?pattern=tight")
        if d["kiosk_id"] == kiosk["id"]
    ]
    assert {(d["cars"], d["crew"]) for d in saved} == {(3, 6)}
    assert len(saved) == 6

    # leave for one of the kiosk's officers, added on the page and listed, then taken back
    officer = site.json("GET", f"/api/duty/officers?kiosk_id={kiosk['id']}")[3]
    form = page.locator("#absence")
    form.locator("[name=officer_id]").select_option(str(officer["id"]))
    form.locator("[name=kind]").select_option("leave")
    form.locator("[name=first_day]").fill("2027-02-10")
    form.locator("[name=last_day]").fill("2027-02-12")
    form.locator("[name=reason]").fill("探亲")
    form.locator("button[type=submit]").click()
    listed = page.locator(f"#absences tr[data-officer='{officer['id']}']")
    expect(listed).to_contain_text("探亲")
    expect(listed).to_contain_text(officer["badge"])
    (leave,) = site.json("GET", "/api/duty/absences?month=2027-02")
    assert (leave["officer_id"], leave["first_day"], leave["last_day"]) == (
        officer["id"],
        "2027-02-10",
        "2027-02-12",
    )
    # a leave that ends before it begins: the server's rule on the page
    form.locator("[name=last_day]").fill("2027-02-01")
    form.locator("button[type=submit]").click()
    expect(form.locator(".error")).to_contain_text("before it begins")
    listed.locator("button").click()
    expect(listed).to_have_count(0)
    assert site.json("GET", "/api/duty/absences?month=2027-02") == []

    page.fill("#toolbar [name=time_limit_s]", "10")
    page.click("#solve")
    expect(page.locator("#busy")).to_be_hidden(timeout=SOLVE_TIMEOUT_MS)
    roster = site.json("GET", "/api/duty/rosters?month=2027-02")[0]
    assert roster["status"] == "infeasible", roster
    why = page.locator("#why li")
    expect(page.locator("#why")).to_be_visible()
    expect(why).to_have_count(len(roster["why"]))
    assert why.all_inner_texts() == roster["why"]
    assert any(f"kiosk {kiosk['id']}" in sentence for sentence in roster["why"])
    expect(page.locator("#result [data-key='duty.status']")).to_have_text("无解")
    expect(page.locator("#publish")).to_be_hidden()
    _clean(tab, refused=(422,))
    tab.close()


def test_the_duty_page_is_the_commanders(browser: Browser, site: Site) -> None:
    tab = open_tab(browser, f"{site.url}/duty", **DESKTOP)
    page = tab.page
    page.set_default_timeout(10_000)
    page.fill("#login [name=username]", "dispatcher")
    page.fill("#login [name=password]", site.passwords["dispatcher"])
    page.click("#login button[type=submit]")
    expect(page.locator("#login .error")).to_have_text("勤务排班仅限指挥长和系统管理员")
    expect(page.locator("#roster")).to_be_hidden()
    _clean(tab)
    tab.close()


def test_the_officer_sees_his_next_shifts_on_his_phone(browser: Browser, site: Site) -> None:
    _published(site)
    mine = site.json("GET", "/api/me/shifts", user="officer")
    assert mine, "the officer has no shift ahead in the published roster"
    tab = _open(
        browser,
        site,
        "/officer",
        "officer",
        **PHONE,
        permissions=["geolocation"],
        geolocation={"longitude": 126.65, "latitude": 45.745},
    )
    page = tab.page
    items = page.locator("#my-shifts-list li.shift")
    expect(items).to_have_count(min(8, len(mine)))
    first, shown = mine[0], items.first
    starts = datetime.fromisoformat(first["starts_at"]).astimezone(SHANGHAI)
    ends = datetime.fromisoformat(first["ends_at"]).astimezone(SHANGHAI)
    expect(shown).to_have_attribute("data-day", first["day"])
    expect(shown.locator(".name")).to_contain_text(first["shift"])
    expect(shown.locator(".times")).to_have_text(f"{starts:%H:%M}–{ends:%H:%M}")
    where = (
        first["call_sign"]
        if first["post"] == "car"
        else {"counter": "警务室窗口", "patrol": "步巡"}[first["post"]]
    )
    expect(shown.locator(".where")).to_contain_text(where)
    names = {"A": "白班", "P": "中班", "N": "夜班"}
    expect(shown.locator(".name")).to_contain_text(names[first["shift"]])
    page.locator("#my-shifts").scroll_into_view_if_needed()
    _shot(page, "duty-officer-shifts")
    box = page.locator("#my-shifts").bounding_box()
    assert box is not None
    assert box["width"] <= 390
    _clean(tab)
    tab.close()


def _kiosk_units(site: Site, kiosk_id: int) -> list[dict[str, Any]]:
    """The kiosk's cars with a crew now."""
    return [
        c for c in site.json("GET", "/api/duty/crews") if c["kiosk_id"] == kiosk_id and c["crew"]
    ]


def _fix_at(site: Site, unit_id: int, lon: float, lat: float) -> None:
    """A terminal of the car (registered once) reports it at (lon, lat) now, a second at
    least after its last fix."""
    device = f"duty-car-{unit_id}"
    if device not in site.terminals:
        body = {"device_id": device, "protocol": "osmand", "unit_id": unit_id}
        reply = site.call("POST", "/api/devices", user="commander", json=body)
        assert reply.status_code == 201, reply.text
        site.terminals[device] = (reply.json()["secret"], 0)
    secret, last = site.terminals[device]
    stamp = max(int(time.time()), last + 1)
    site.terminals[device] = (secret, stamp)
    params = {"id": device, "key": secret, "lon": lon, "lat": lat, "timestamp": stamp}
    fixed = site.call("GET", "/api/osmand", params=params)
    assert fixed.status_code == 200, fixed.text


def _valid_id(n: int) -> str:
    """A valid resident ID number (GB 11643 check character) for citizen `n`."""
    body = f"230102{date(1980, 1, 1) + timedelta(days=n):%Y%m%d}{n % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


@pytest.fixture(scope="module")
def due_booking(site: Site) -> dict[str, Any]:
    """A citizen booked at the clerk's kiosk for a slot that starts within two hours: a service
    of the tests' own, bookable all day on every kind of day."""
    kiosk_id = site.clerk_kiosk["id"]
    code = f"D-{uuid.uuid4().hex[:6].upper()}"
    with transaction(site.engine) as session:
        item = ServiceItem(
            code=code,
            kind=ServiceKind.TRAFFIC,
            name_zh="补领机动车行驶证（测试）",
            name_en="Replacement vehicle licence (test)",
            documents=[],
            channels=["kiosk"],
            fee_yuan=0.0,
            time_limit_days=0,
            travel_saved_yuan=20.0,
            minutes=20,
        )
        session.add(item)
        session.flush()
        for kind in DayKind:
            session.add(
                OpeningHours(
                    kiosk_id=kiosk_id,
                    service_id=item.id,
                    day_kind=kind,
                    starts="00:00",
                    ends="23:40",
                    capacity=2,
                )
            )
    slots = site.json("GET", f"/api/public/slots?kiosk_id={kiosk_id}&service={code}&days=2")
    now = datetime.now(SHANGHAI)
    soon = [
        slot["starts_at"]
        for day in slots["days"]
        for slot in day["slots"]
        if slot["free"]
        and now < datetime.fromisoformat(slot["starts_at"]) < now + timedelta(hours=1)
    ]
    assert soon, slots
    citizen = {"name": "赵六", "id_number": _valid_id(7), "phone": "13712345678"}
    body = {"kiosk_id": kiosk_id, "service": code, "starts_at": soon[0], **citizen}
    booked = site.json("POST", "/api/public/bookings", json=body)
    return dict(booked["booking"])


def _stand_by(site: Site) -> tuple[list[dict[str, Any]], float, float]:
    """The clerk's kiosk's crewed cars reported at the kiosk and standing by there; with its
    position."""
    kiosk = site.clerk_kiosk
    features = site.json("GET", "/api/city/map", user="dispatcher")["layout"]["features"]
    lon, lat = next(
        f["geometry"]["coordinates"]
        for f in features
        if f["properties"]["layer"] == "kiosk" and f["properties"]["id"] == kiosk["id"]
    )
    units = _kiosk_units(site, kiosk["id"])
    assert units, "the clerk's kiosk has no crewed car"
    for unit in units:
        _fix_at(site, unit["unit_id"], lon, lat)
        body = {"status": "at_kiosk", "reason": "back at the kiosk"}
        site.json("POST", f"/api/units/{unit['unit_id']}/status", user="dispatcher", json=body)
    return units, lon, lat


@contextmanager
def _sent_out(site: Site, units: list[dict[str, Any]], lon: float, lat: float) -> Iterator[None]:
    """All of `units` dispatched to an incident at (lon, lat), cancelled at the end."""
    incident = site.json(
        "POST",
        "/api/incidents",
        user="dispatcher",
        json={"lon": lon, "lat": lat, "category_code": "020100"},
    )
    body = {"unit_ids": [u["unit_id"] for u in units]}
    site.json("POST", f"/api/incidents/{incident['id']}/dispatch", user="dispatcher", json=body)
    try:
        yield
    finally:
        path = f"/api/incidents/{incident['id']}/cancel"
        site.call("POST", path, user="dispatcher", json={"reason": "test"})


def test_a_kiosk_emptied_by_dispatch_shows_unstaffed_on_both_pages(
    browser: Browser, site: Site, due_booking: dict[str, Any]
) -> None:
    kiosk = site.clerk_kiosk
    units, lon, lat = _stand_by(site)
    status = {k["kiosk_id"]: k for k in site.json("GET", "/api/kiosks/status", user="dispatcher")}
    assert status[kiosk["id"]]["staffed"], status[kiosk["id"]]
    assert status[kiosk["id"]]["clerks"] == 0
    assert status[kiosk["id"]]["on_hand"]["counter_officers"] == 0

    center = _open(browser, site, "/", "dispatcher")
    marker = center.page.locator(f".jx-kiosk[title='{kiosk['name']}']")
    expect(marker).to_have_attribute("data-staffed", "1")
    expect(marker).to_have_attribute("data-flagged", "0")
    expect(marker.locator(".jx-empty")).to_have_count(0)
    counter = _open(browser, site, "/counter", "kiosk_clerk")
    banner = counter.page.locator("#staffing")
    expect(banner).to_have_attribute("data-staffed", "1")
    expect(banner.locator("[data-key='counter.standing'] b")).to_have_text(str(len(units)))
    expect(counter.page.locator("#walk-in button[type=submit]")).to_be_enabled()
    # the cars standing by staff the kiosk, yet the clerk's own counter is still to open
    expect(counter.page.locator("#open")).to_be_enabled()
    expect(counter.page.locator("#close")).to_be_disabled()

    with _sent_out(site, units, lon, lat):
        # the clerk's page reads the day every 5 s: the banner turns red, walk-ins stop
        expect(banner).to_have_attribute("data-staffed", "0", timeout=15_000)
        expect(banner).to_contain_text("无人值守")
        expect(banner.locator("[data-key='counter.out'] b")).to_have_text(str(len(units)))
        expect(counter.page.locator("#walk-in button[type=submit]")).to_be_disabled()
        expect(counter.page.locator("#walk-in-stopped")).to_have_text("无人值守，暂停现场取号")
        _shot(counter.page, "duty-counter-unstaffed")
        # the command page reads the kiosks every 20 s, or at once on a reload
        center.page.reload()
        center.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        expect(marker).to_have_attribute("data-staffed", "0")
        expect(marker.locator(".jx-empty")).to_have_text("无人")
        # the booking due within two hours is to be rebooked
        expect(marker).to_have_attribute("data-flagged", "1")
        marker.dispatch_event("click")  # under the incident's marker, at the kiosk
        popup = center.page.locator(".kiosk-status")
        cars = popup.locator("[data-key='kiosk.status.cars']")
        expect(cars).to_contain_text(f"出警 {len(units)}")
        expect(cars).to_contain_text("待命 0")
        expect(popup.locator("[data-key='kiosk.status.flagged']")).to_have_text("1")
        _shot(center.page, "duty-kiosk-empty")
    _clean(center)
    _clean(counter)
    center.close()
    counter.close()


def test_the_counter_marks_the_bookings_to_rebook(
    browser: Browser, site: Site, due_booking: dict[str, Any]
) -> None:
    units, lon, lat = _stand_by(site)
    counter = _open(browser, site, "/counter", "kiosk_clerk")
    page = counter.page
    with _sent_out(site, units, lon, lat):
        expect(page.locator("#staffing")).to_have_attribute("data-staffed", "0", timeout=15_000)
        today = site.json("GET", "/api/counter/today", user="kiosk_clerk")
        assert [b["flagged"] for b in today["bookings"]] == [True]
        row = page.locator("#bookings tbody tr[data-flagged='1']")
        expect(row).to_have_count(1, timeout=2_000)
        expect(row.locator(".chip.flagged")).to_have_text("需改约")
    counter.close()
