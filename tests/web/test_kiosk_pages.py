"""The citizen's page and the clerk's counter in headless Chromium, against the real app served
by uvicorn in this process on SQLite and on PostgreSQL (its clock, the `now` dependency, is moved
to the evening of the appointment): a citizen on a phone books a holiday-evening slot, the clerk
checks him in by code, calls him ahead of a walk-in issued earlier, serves him, and the service
shows in the kiosk's figures and the statistics; a full slot and an invalid ID number are
refused on the page with the server's message; "my booking", found by the code the phone kept,
moves the booking to another slot and cancels it, the server's free places following."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import live
import pytest
from browser import Tab, chromium, open_tab
from live import served_in_thread
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from jiaoxun.city.models import Kiosk
from jiaoxun.db import transaction
from jiaoxun.services.models import DayKind, OpeningHours, ServiceItem, ServiceKind
from jiaoxun.settings import Settings
from jiaoxun.web.deps import now as server_now

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo city's time zone (the settings' default)
CITIZEN_ID = "11010519491231002X"  # a valid resident ID number (GB 11643 check character)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
EVENING = ["18:00", "18:20", "18:40", "19:00", "19:20", "19:40"]  # 20-minute slots, 18:00-20:00


def valid_id(n: int) -> str:
    """A valid ID number for citizen `n` (born on day n of 1980), check character computed."""
    body = f"230102{date(1980, 1, 1) + timedelta(days=n):%Y%m%d}{n % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


@dataclass
class Site(live.Site):
    """The app served on a port of its own; `set_clock` moves its `now`."""

    desk: dict[str, Any] = field(default_factory=dict)

    def set_clock(self, at: datetime | None) -> None:
        if at is None:
            self.app.dependency_overrides.pop(server_now, None)
        else:
            self.app.dependency_overrides[server_now] = lambda: at


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    settings = Settings(
        database_url=new_database(request.param),
        data_dir=tmp_path_factory.mktemp("kiosk-pages"),
        cache_dir=cache_dir,
        jt808_port=0,
        public_requests_per_min=100_000,
        login_failures_per_address=100_000,
    )
    with served_in_thread(settings) as (app, engine, url, passwords):
        site = Site(app, engine, url, passwords)
        site.desk = _desk(site)
        try:
            yield site
        finally:
            site.set_clock(None)


def _desk(site: Site) -> dict[str, Any]:
    """A service of the tests' own at the first kiosk (the clerk's): 20-minute slots with two
    places from 18:00 to 20:00 (after hours) on holidays; a day 6 days ahead declared a holiday
    through the statistics' calendar route, as an admin does."""
    code = f"K-{uuid.uuid4().hex[:6].upper()}"
    with transaction(site.engine) as session:
        kiosk = session.scalars(select(Kiosk).order_by(Kiosk.id)).first()
        assert kiosk is not None
        item = ServiceItem(
            code=code,
            kind=ServiceKind.TRAFFIC,
            name_zh="机动车驾驶证期满换证（测试）",
            name_en="Driving licence renewal (test)",
            documents=[
                {
                    "name_zh": "居民身份证",
                    "name_en": "Resident ID card",
                    "form": "original",
                    "validity": "有效期内",
                },
                {
                    "name_zh": "驾驶证",
                    "name_en": "Driving licence",
                    "form": "original",
                    "validity": "",
                },
            ],
            channels=["kiosk"],
            fee_yuan=10.0,
            time_limit_days=0,
            travel_saved_yuan=26.9,
            minutes=20,
        )
        session.add(item)
        session.flush()
        session.add(
            OpeningHours(
                kiosk_id=kiosk.id,
                service_id=item.id,
                day_kind=DayKind.HOLIDAY,
                starts="18:00",
                ends="20:00",
                after_hours=True,
                capacity=2,
            )
        )
        kiosk_id, kiosk_name = kiosk.id, kiosk.name
        lon, lat = kiosk.lon, kiosk.lat
    holiday = datetime.now(SHANGHAI).date() + timedelta(days=6)
    body = {"workday": False, "holiday": "测试节"}
    reply = site.call("PUT", f"/api/analytics/calendar/{holiday}", user="admin", json=body)
    assert reply.status_code == 200, reply.text
    return {
        "code": code,
        "kiosk_id": kiosk_id,
        "kiosk_name": kiosk_name,
        "lon": lon,
        "lat": lat,
        "holiday": holiday,
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _wait(page: Page, script: str, arg: Any = None, *, timeout_s: float = 20) -> None:
    """Wait until `script` is true in `page` (`wait_for_function` needs eval, which the pages'
    content security policy refuses)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {script}"
        time.sleep(0.05)


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


def _phone(browser: Browser, site: Site) -> Tab:
    """The citizen's page on a phone standing at the clerk's kiosk, position allowed."""
    desk = site.desk
    tab = open_tab(
        browser,
        f"{site.url}/kiosk",
        **PHONE,
        permissions=["geolocation"],
        geolocation={"longitude": desk["lon"] + 0.001, "latitude": desk["lat"] + 0.001},
    )
    tab.page.set_default_timeout(10_000)
    tab.page.wait_for_selector("body[data-ready='1']")
    return tab


def _to_the_holiday(tab: Tab, site: Site) -> None:
    """Nearest kiosk by the phone's position, the tests' service, the holiday."""
    page, desk = tab.page, site.desk
    page.click("#locate")
    first = page.locator("#kiosks li button").first
    expect(first).to_have_attribute("data-kiosk", str(desk["kiosk_id"]))
    expect(first.locator(".minutes")).to_have_text(re.compile(r"^\d+ 分钟$"))
    _shot(page, "kiosk-nearest")
    first.click()
    page.click(f"#service-list [data-service='{desk['code']}']")
    expect(page.locator("#service-detail .fee")).to_contain_text("10")
    day = page.locator(f"#days [data-date='{desk['holiday']}']")
    day.click()
    expect(page.locator("#slots .slot")).to_have_count(len(EVENING))


def test_a_citizen_books_a_holiday_evening_and_the_clerk_serves_him(
    browser: Browser, site: Site
) -> None:
    desk = site.desk
    phone = _phone(browser, site)
    page = phone.page
    _to_the_holiday(phone, site)
    # the day is marked a holiday by its name, its slots after hours
    day = page.locator(f"#days [data-date='{desk['holiday']}']")
    expect(day).to_have_class(re.compile(r"\bholiday\b"))
    expect(day).to_contain_text("节假日 测试节")
    times = page.locator("#slots .slot").evaluate_all("(b) => b.map((x) => x.dataset.time)")
    assert times == EVENING
    expect(page.locator("#slots .slot.after-hours")).to_have_count(len(EVENING))
    expect(page.locator("#slots .slot").first).to_contain_text("延时")
    # the kiosk's hours of the week: the holiday's evening window marked after hours
    hours = page.locator(f"#hours li[data-date='{desk['holiday']}']")
    expect(hours).to_contain_text("节假日")
    expect(hours.locator(".window.after-hours")).to_contain_text("18:00–20:00延时")

    # book 18:00: a place held while the form is filled in, then the code and its QR
    page.click("#slots .slot[data-time='18:00']")
    expect(page.locator("#held")).to_contain_text("名额保留至")
    page.fill("#citizen-form [name=name]", "王小明")
    page.fill("#citizen-form [name=id_number]", CITIZEN_ID)
    page.fill("#citizen-form [name=phone]", "13912345678")
    page.click("#book")
    expect(page.locator("#booked")).to_be_visible()
    code = page.locator("#booked-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z-]{6,}", code), code
    qr = page.locator("#booked-qr img").get_attribute("src") or ""
    assert qr.startswith("data:image/svg+xml"), qr[:60]
    assert page.evaluate("JSON.parse(localStorage.getItem('jx.kiosk.codes'))[0]") == code
    # my booking: found again by the kept code, booked for 18:00 on the holiday
    page.click("#booked-mine")
    expect(page.locator("#mine-detail .state")).to_have_text("已预约")
    expect(page.locator("#mine-detail .when")).to_contain_text("18:00")
    assert page.locator("#find-form [name=code]").input_value() == code
    _clean(phone)
    phone.close()

    # the holiday evening: a walk-in at 17:50, the booked citizen checks in at 17:55, the clerk
    # calls at 18:01
    site.set_clock(_evening(desk["holiday"], 17, 50))
    try:
        _served_at_the_counter(browser, site, code)
    finally:
        site.set_clock(None)


def _evening(day: date, hour: int, minute: int) -> datetime:
    """`hour:minute` of `day` at the kiosks."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _served_at_the_counter(browser: Browser, site: Site, code: str) -> None:
    desk = site.desk
    tab = open_tab(browser, f"{site.url}/counter", viewport={"width": 1400, "height": 900})
    page = tab.page
    page.set_default_timeout(10_000)
    page.fill("#login [name=username]", "kiosk_clerk")
    page.fill("#login [name=password]", site.passwords["kiosk_clerk"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    expect(page.locator("#kiosk-name")).to_have_text(desk["kiosk_name"])
    if not page.locator("#open").is_disabled():
        page.click("#open")
    expect(page.locator("#staffed")).to_have_text("在岗")
    before = page.locator("#figures [data-stat=served_today]").inner_text()

    page.select_option("#walk-in [name=service]", desk["code"])
    page.click("#walk-in button[type=submit]")
    expect(page.locator("#issued")).to_contain_text("号码")
    walk_in = page.locator("#issued").inner_text().split()[1]

    site.set_clock(
        datetime.combine(desk["holiday"], datetime.min.time(), tzinfo=SHANGHAI).replace(
            hour=17, minute=55
        )
    )
    box = page.locator("#check-in [name=code]")
    box.fill(code)
    box.press("Enter")  # as a scanner ends what it types
    expect(page.locator("#checked-in")).to_contain_text("号码")
    booked = page.locator("#checked-in").inner_text().split()[1]
    assert booked != walk_in
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    # his slot has begun: he goes ahead of the walk-in who came before him
    site.set_clock(_evening(desk["holiday"], 18, 1))
    page.click("#call-next")
    expect(page.locator("#ticket .number")).to_have_text(booked)
    expect(page.locator("#ticket .chip.booked")).to_be_visible()
    expect(page.locator(f"#queue tr[data-number='{walk_in}'] .state")).to_have_text("等候")
    page.click("[data-act=serve]")
    expect(page.locator("#ticket .state")).to_have_text("办理中")
    chosen = page.locator("#done [name=services]").evaluate(
        "(s) => [...s.selectedOptions].map((o) => o.value)"
    )
    assert chosen == [desk["code"]]
    page.click("#done button[type=submit]")
    expect(page.locator(f"#queue tr[data-number='{booked}'] .state")).to_have_text("办结")
    expect(page.locator("#figures [data-stat=served_today]")).to_have_text(str(int(before) + 1))
    expect(page.locator("#figures [data-stat=booked_served]")).not_to_have_text("0")
    expect(page.locator("#figures [data-stat=travel_saved]")).to_contain_text("26.9")

    # the statistics count the service and its travel saved, at the kiosk, on the holiday
    query = f"period=day&date={desk['holiday']}&scope=kiosk:{desk['kiosk_id']}"
    reply = site.call("GET", f"/api/analytics/summary?{query}", user="commander")
    assert reply.status_code == 200, reply.text
    figures = {f["key"]: f for f in reply.json()["figures"]}
    assert figures["services"]["value"] == 1
    assert figures["services"]["available"] is True
    assert figures["money_saved"]["value"] == pytest.approx(26.9)
    _clean(tab)
    tab.close()


def test_a_full_slot_is_refused_with_the_servers_message(browser: Browser, site: Site) -> None:
    desk = site.desk
    phone = _phone(browser, site)
    page = phone.page
    _to_the_holiday(phone, site)
    slot = page.locator("#slots .slot[data-time='19:40']")
    expect(slot).to_contain_text("余 2")
    starts_at = slot.get_attribute("data-starts")
    # two other citizens take both places while this one reads the page
    for n in (1, 2):
        body = {
            "kiosk_id": desk["kiosk_id"],
            "service": desk["code"],
            "starts_at": starts_at,
            "name": "李四",
            "id_number": valid_id(n),
            "phone": f"1391000000{n}",
        }
        reply = site.call("POST", "/api/public/bookings", json=body)
        assert reply.status_code == 201, reply.text
    hold = {"kiosk_id": desk["kiosk_id"], "service": desk["code"], "starts_at": starts_at}
    refused = site.call("POST", "/api/public/holds", json=hold)
    assert refused.status_code == 409, refused.text
    slot.click()
    expect(page.locator("#slot-error")).to_have_text(refused.json()["message"])
    assert "full" in refused.json()["message"]
    # the slots read again: 19:40 is full now and cannot be chosen
    expect(page.locator("#slots .slot[data-time='19:40']")).to_be_disabled()
    expect(page.locator("#book")).to_be_disabled()
    _clean(phone, refused=(409,))
    phone.close()


def test_an_invalid_id_number_is_refused_naming_the_rule(browser: Browser, site: Site) -> None:
    phone = _phone(browser, site)
    page = phone.page
    _to_the_holiday(phone, site)
    page.click("#slots .slot[data-time='19:20']")
    expect(page.locator("#held")).to_contain_text("名额保留至")
    page.fill("#citizen-form [name=name]", "张三")
    page.fill("#citizen-form [name=id_number]", CITIZEN_ID[:-1] + "1")  # a wrong check character
    page.fill("#citizen-form [name=phone]", "13912345679")
    page.click("#book")
    error = page.locator("#citizen-form .error[data-for=id_number]")
    expect(error).to_contain_text("GB 11643")
    expect(page.locator("#citizen-form [name=id_number]")).to_be_focused()
    expect(page.locator("#booked")).to_be_hidden()
    # in English: the page's words switch, the server's message stays as it came
    page.click("#lang")
    expect(page.locator("#book")).to_have_text("Book")
    expect(page.locator(f"#days [data-date='{site.desk['holiday']}']")).to_contain_text(
        "holiday 测试节"
    )
    expect(error).to_contain_text("GB 11643")
    _clean(phone, refused=(422,))
    phone.close()


def _free(site: Site) -> dict[str, int]:
    """The server's free places of the tests' service on the holiday, by local time."""
    desk = site.desk
    query = f"kiosk_id={desk['kiosk_id']}&service={desk['code']}&start={desk['holiday']}&days=1"
    reply = site.call("GET", f"/api/public/slots?{query}")
    assert reply.status_code == 200, reply.text
    (day,) = reply.json()["days"]
    return {slot["local_time"]: slot["free"] for slot in day["slots"]}


def test_my_booking_by_a_stored_code_changes_the_slot_then_cancels(
    browser: Browser, site: Site
) -> None:
    desk = site.desk
    first = _free(site)
    starts_at = datetime.combine(desk["holiday"], datetime.min.time(), tzinfo=SHANGHAI).replace(
        hour=18, minute=20
    )
    body = {
        "kiosk_id": desk["kiosk_id"],
        "service": desk["code"],
        "starts_at": starts_at.isoformat(),
        "name": "赵六",
        "id_number": valid_id(30),
        "phone": "13910000030",
    }
    reply = site.call("POST", "/api/public/bookings", json=body)
    assert reply.status_code == 201, reply.text
    code = reply.json()["code"]
    booked = _free(site)
    assert booked["18:20"] == first["18:20"] - 1
    # the phone kept the code from an earlier visit
    phone = _phone(browser, site)
    page = phone.page
    page.evaluate("(code) => localStorage.setItem('jx.kiosk.codes', JSON.stringify([code]))", code)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click(".steps [data-view=mine]")
    expect(page.locator("#find-form [name=code]")).to_have_value(code)
    page.click(f"#saved-codes button:text-is('{code}')")
    expect(page.locator("#mine-detail .state")).to_have_text("已预约")
    expect(page.locator("#mine-detail .when")).to_contain_text("18:20")

    # moved to 18:40 of the same day: its own slot is not offered
    page.click(f"#change-days [data-date='{desk['holiday']}']")
    expect(page.locator("#change-slots .slot[data-time='18:20']")).to_have_count(0)
    expect(page.locator("#change")).to_be_disabled()
    page.click("#change-slots .slot[data-time='18:40']")
    page.click("#change")
    expect(page.locator("#mine .saved")).to_have_text("已改约")
    expect(page.locator("#mine-detail .when")).to_contain_text("18:40")
    state = page.evaluate("() => window.jx.booking")
    assert state["code"] == code
    assert state["state"] == "booked"
    assert datetime.fromisoformat(state["starts_at"]) == starts_at.replace(minute=40)
    moved = _free(site)
    assert moved["18:20"] == first["18:20"]
    assert moved["18:40"] == booked["18:40"] - 1

    # cancelled on the second press: the place is free again, nothing left to change
    page.click("#cancel")
    expect(page.locator("#cancel")).to_have_text("再按一次确认取消")
    expect(page.locator("#mine-detail .state")).to_have_text("已预约")
    page.click("#cancel")
    expect(page.locator("#mine .saved")).to_have_text("预约已取消")
    expect(page.locator("#mine-detail .state")).to_have_text("已取消")
    expect(page.locator("#mine-actions")).to_be_hidden()
    assert page.evaluate("() => window.jx.booking.state") == "cancelled"
    after = _free(site)
    assert (after["18:20"], after["18:40"]) == (first["18:20"], first["18:40"])
    found = site.call("POST", "/api/public/bookings/find", json={"code": code})
    assert found.status_code == 200, found.text
    assert found.json()["state"] == "cancelled"
    _clean(phone)
    phone.close()


def test_the_command_page_shows_each_kiosks_counter(browser: Browser, site: Site) -> None:
    """The kiosk markers carry the status route's staffed state and queue length."""
    kiosk_id = site.desk["kiosk_id"]
    reply = site.call("POST", "/api/counter/open", user="kiosk_clerk")
    assert reply.status_code in (200, 409), reply.text  # open already after the first test
    status = site.call("GET", "/api/kiosks/status", user="commander")
    assert status.status_code == 200, status.text
    mine = next(row for row in status.json() if row["kiosk_id"] == kiosk_id)
    assert mine["staffed"] is True
    tab = open_tab(browser, f"{site.url}/", viewport={"width": 1400, "height": 900})
    page = tab.page
    page.set_default_timeout(10_000)
    page.fill("#login [name=username]", "commander")
    page.fill("#login [name=password]", site.passwords["commander"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    _wait(page, "() => Array.isArray(window.jx.kioskStatus)")
    shown = page.evaluate("(id) => window.jx.kioskStatus.find((k) => k.kiosk_id === id)", kiosk_id)
    assert shown == mine
    staffed = page.locator(".jx-kiosk[data-staffed='1']")
    expect(staffed).to_have_count(sum(1 for row in status.json() if row["staffed"]))
    staffed.first.hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text(f"在岗 · 排队 {mine['waiting']}")
    _clean(tab)
    tab.close()
