"""The traffic pages in headless Chromium, against the real app served by uvicorn in this process
on SQLite and on PostgreSQL: an officer on his phone records a two-car fender bender that the
eligibility check sends to self-settlement (three photos, the parties, both signatures, the
agreement number), and an accident with an injury that goes the general way (the scene-protection
steps timed by the server, the hand-over); both show on the command page's map and list. A
violation recorded on the phone with the engine number's tail is found by plate at the kiosk (the
citizen's lookup) and at the counter, where the clerk decides it and takes the fine. Bad input on
the page shows the server's rule: a bad plate, a wrong ID number, the settlement without the
photos, the hand-over before the scene is protected."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import live
import pytest
from browser import Tab, chromium, open_tab
from live import served_in_thread
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from jiaoxun.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo city's time zone (the settings' default)
SPOT = {"longitude": 126.65, "latitude": 45.745}  # on the demo city's roads (the API tests' spot)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PARTY_A = {
    "name": "张三",
    "id_number": "11010519491231002X",  # GB 11643's example, check character X
    "phone": "13800138000",
    "plate": "吉A12345",
    "insurer": "中国人保",
    "policy_number": "PDZA202622010000001",
}
PARTY_B = {
    "name": "李四",
    "id_number": "23010219800102001X",
    "phone": "13900139000",
    "plate": "吉AD12345",
    "insurer": "平安保险",
    "policy_number": "11201002600000002",
}


class Site(live.Site):
    """The app served on a port of its own."""

    def json(self, method: str, path: str, *, user: str = "commander", **kw: Any) -> Any:
        reply = self.call(method, path, user=user, **kw)
        assert reply.status_code < 300, reply.text
        return reply.json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Site]:
    settings = Settings(
        database_url=new_database(request.param),
        data_dir=tmp_path_factory.mktemp("traffic-pages"),
        cache_dir=cache_dir,
        jt808_port=0,
        public_requests_per_min=100_000,
        login_failures_per_address=100_000,
    )
    with served_in_thread(settings) as (app, engine, url, passwords):
        yield Site(app, engine, url, passwords)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _image(kind: str, fmt: str = "PNG") -> dict[str, Any]:
    """A small real photo (a drawn car's outline and its label) as Playwright uploads a file."""
    picture = Image.new("RGB", (640, 480), (200, 210, 220))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((120, 200, 520, 360), outline=(20, 20, 120), width=8)
    draw.text((140, 120), kind, fill=(0, 0, 0))
    data = io.BytesIO()
    picture.save(data, format=fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return {"name": f"{kind}.{fmt.lower()}", "mimeType": mime, "buffer": data.getvalue()}


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


def _log_in(tab: Tab, site: Site, user: str) -> None:
    page = tab.page
    page.set_default_timeout(10_000)
    page.fill("#login [name=username]", user)
    page.fill("#login [name=password]", site.passwords[user])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def _officer(browser: Browser, site: Site) -> Tab:
    """The officer's page on a phone standing at the scene, its position allowed."""
    tab = open_tab(
        browser, f"{site.url}/officer", **PHONE, permissions=["geolocation"], geolocation=SPOT
    )
    _log_in(tab, site, "officer")
    return tab


def _clock(iso: str) -> str:
    """HH:MM:SS of an API time in the city, as the pages show it."""
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%H:%M:%S")


def _record_the_scene(page: Page, *, weather: str, place: str) -> int:
    """The record step: weather, collision, damage, place, the phone's position; saved."""
    page.click("#acc-to-record")
    expect(page.locator("#accident")).to_have_attribute("data-step", "record")
    page.click(f"#acc-body [data-name=weather] [data-value={weather}]")
    expect(page.locator(f"[data-name=weather] [data-value={weather}]")).to_have_class("on")
    page.fill("#acc-body [name=collision_point]", "甲车前部与乙车尾部")
    page.fill("#acc-body [name=damage]", "乙车后保险杠凹陷")
    page.fill("#acc-body [name=place]", place)
    expect(page.locator("#acc-gps")).to_have_attribute("data-from", "gps")
    expect(page.locator("#acc-gps")).to_contain_text("126.65000, 45.74500")
    page.click("#acc-save")
    expect(page.locator("#acc-number")).to_have_text(re.compile(r"SG\d{8}\d{6}$"))
    return int(page.evaluate("() => window.jx.traffic.accident.id"))


def _party(page: Page, seq: int, party: dict[str, str], liability: str) -> None:
    box = page.locator(f"#acc-body fieldset.party[data-seq='{seq}']")
    for name, value in party.items():
        box.locator(f"[name={name}]").fill(value)
    box.locator("[name=liability]").select_option(liability)


def test_a_fender_bender_is_settled_by_the_parties_on_the_phone(
    browser: Browser, site: Site
) -> None:
    phone = _officer(browser, site)
    page = phone.page
    expect(page.locator("#accident")).to_be_hidden()  # until asked for: the page is for orders too
    page.click("#open-accident")
    # the check's defaults are a fender bender's: two cars, nobody hurt, papers valid
    decision = page.locator("#acc-decision")
    expect(decision).to_have_attribute("data-procedure", "self_settlement")
    expect(decision).to_contain_text("自行协商")
    expect(page.locator("[data-question=motor_vehicles] output")).to_have_text("2")
    expect(page.locator("[data-question=injured] output")).to_have_text("0")
    # a car without valid insurance could not settle online: the reason shows live, then undone
    insurance = page.locator("[data-question=insurance_valid]")
    insurance.locator("[data-value=false]").click()
    expect(decision).to_have_attribute("data-procedure", "simple")
    expect(decision.locator("[data-rule='art19.insurance_valid']")).to_have_text("交强险无效")
    insurance.locator("[data-value=true]").click()
    expect(decision).to_have_attribute("data-procedure", "self_settlement")
    _shot(page, "accident-check")

    accident_id = _record_the_scene(page, weather="snow", place="中央大街与西十二道街交口")
    expect(page.locator("#accident")).to_have_attribute("data-step", "photos")
    expect(page.locator("#acc-missing")).to_contain_text("车辆前部侧面、车辆后部侧面、碰撞部位")
    page.set_input_files("[data-kind=front_side] input[type=file]", _image("front_side"))
    expect(page.locator("[data-kind=front_side]")).to_have_attribute("data-taken", "true")
    expect(page.locator("#acc-missing")).to_have_text("缺少照片：车辆后部侧面、碰撞部位")
    _shot(page, "accident-photos")
    assert page.locator("[data-kind=rear_side] input").get_attribute("capture") == "environment"
    # the page reloaded (a phone's tab thrown out of memory) resumes the open accident
    number = page.locator("#acc-number").inner_text()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#acc-number")).to_have_text(number)
    expect(page.locator("#accident")).to_have_attribute("data-step", "photos")
    expect(page.locator("[data-kind=front_side]")).to_have_attribute("data-taken", "true")
    page.click("#acc-body button.big")  # on with one photo: the others follow

    # the parties: a wrong check character is refused naming the rule, nothing typed is lost
    expect(page.locator("#accident")).to_have_attribute("data-step", "parties")
    _party(page, 1, {**PARTY_A, "id_number": PARTY_A["id_number"][:-1] + "1"}, "full")
    _party(page, 2, PARTY_B, "none")
    page.click("#acc-parties-save")
    _shot(page, "accident-parties-refused")
    error = page.locator("#accident > .error")
    expect(error).to_contain_text("party 1")
    expect(error).to_contain_text("GB 11643")
    party_b = page.locator("fieldset.party[data-seq='2']")
    expect(party_b.locator("[name=policy_number]")).to_have_value(PARTY_B["policy_number"])
    page.fill("fieldset.party[data-seq='1'] [name=id_number]", PARTY_A["id_number"])
    page.click("#acc-parties-save")
    expect(page.locator("#accident")).to_have_attribute("data-step", "sign")
    expect(error).to_have_text("")

    # both sign; settling without the other two photos is refused with the server's message
    for seq, party in ((1, PARTY_A), (2, PARTY_B)):
        row = page.locator(f".signatures li[data-seq='{seq}']")
        row.locator("input").fill(party["name"])
        row.locator("button.sign").click()
        expect(row).to_have_attribute("data-state", "signed")
    page.click("#acc-settle")
    expect(error).to_contain_text("missing: rear_side, impact")
    refused = site.call(
        "POST",
        f"/api/traffic/accidents/{accident_id}/settle",
        user="officer",
        json={"version": page.evaluate("() => jx.traffic.accident.version")},
    )
    assert refused.status_code == 422, refused.text
    expect(error).to_contain_text(refused.json()["message"])

    page.click("#acc-steps [data-step=photos]")
    page.set_input_files("[data-kind=rear_side] input[type=file]", _image("rear_side", "JPEG"))
    expect(page.locator("[data-kind=rear_side]")).to_have_attribute("data-taken", "true")
    page.set_input_files("[data-kind=impact] input[type=file]", _image("impact"))
    expect(page.locator("[data-kind=impact]")).to_have_attribute("data-taken", "true")
    expect(page.locator("#acc-missing")).to_have_text("三张照片齐全")
    page.click("#acc-steps [data-step=sign]")
    page.click("#acc-settle")
    expect(page.locator("#accident")).to_have_attribute("data-step", "done")
    agreement = page.locator("#acc-result")
    expect(agreement).to_have_text(re.compile(r"^XY\d+"))
    expect(page.locator("#acc-state")).to_have_text("已结案")
    _shot(page, "accident-settled")

    record = site.json("GET", f"/api/traffic/accidents/{accident_id}")
    assert record["state"] == "settled"
    assert record["procedure"] == "self_settlement"
    assert record["agreement_number"] == agreement.inner_text()
    assert sorted(p["kind"] for p in record["photos"]) == ["front_side", "impact", "rear_side"]
    assert {p["content_type"] for p in record["photos"]} == {"image/png", "image/jpeg"}
    assert record["missing_photos"] == []
    assert (record["weather"], record["place"]) == ("snow", "中央大街与西十二道街交口")
    assert abs(record["lon"] - 126.65) < 1e-9
    assert abs(record["lat"] - 45.745) < 1e-9
    parties = record["parties"]
    assert [(p["plate"], p["liability"]) for p in parties] == [
        ("吉A12345", "full"),
        ("吉AD12345", "none"),
    ]
    assert all(p["signed_name"] and p["signed_at"] and not p["refused"] for p in parties)
    _clean(phone, refused=(422,))
    phone.close()
    _on_the_command_page(browser, site, accident_id, "自行协商", "已结案")


def test_an_accident_with_an_injury_goes_the_general_way(browser: Browser, site: Site) -> None:
    phone = _officer(browser, site)
    page = phone.page
    page.click("#open-accident")
    decision = page.locator("#acc-decision")
    expect(decision).to_have_attribute("data-procedure", "self_settlement")
    page.click("[data-question=injured] button[aria-label='+']")
    expect(page.locator("[data-question=injured] output")).to_have_text("1")
    page.click("[data-question=minor_injuries_only] [data-value=false]")
    expect(decision).to_have_attribute("data-procedure", "general")
    expect(decision.locator("[data-rule='art13.injury']")).to_have_text("有人员受伤")
    # in English: the page's words and the server's reasons switch, the answers stay
    page.click("#lang")
    expect(decision).to_contain_text("General procedure")
    expect(decision.locator("[data-rule='art13.injury']")).to_have_text("1 injured")
    expect(page.locator("[data-question=minor_injuries_only] [aria-pressed=true]")).to_have_text(
        "No"
    )
    page.click("#lang")
    expect(decision).to_contain_text("一般程序")
    accident_id = _record_the_scene(page, weather="ice", place="红旗大街")
    expect(page.locator("#accident")).to_have_attribute("data-step", "scene")
    expect(page.locator("#acc-steps button")).to_have_count(4)

    # two steps, then a hand-over too early: the server names the steps not done
    order = ["cordon", "injured_helped", "vehicles_placed", "parties_found", "evidence_fixed"]
    shown = []  # the time the page showed for each step
    for step in order[:2]:
        shown.append(_tap(page, step))
    _shot(page, "accident-scene")
    page.click("#acc-to-handover")
    to = "哈尔滨市公安局交通警察支队事故处理大队"
    page.fill("#acc-body input", to)
    page.click("#acc-hand-over")
    error = page.locator("#accident > .error")
    expect(error).to_contain_text("vehicles_placed, parties_found, evidence_fixed")
    page.click("#acc-steps [data-step=scene]")
    for step in order[2:]:
        shown.append(_tap(page, step))
    page.click("#acc-to-handover")
    expect(page.locator("#acc-body input")).to_have_value(to)  # kept from the first try
    page.click("#acc-hand-over")
    expect(page.locator("#acc-state")).to_have_text("已移交")
    expect(page.locator("#acc-result")).to_have_text(to)
    _shot(page, "accident-handed-over")

    record = site.json("GET", f"/api/traffic/accidents/{accident_id}")
    assert (record["state"], record["procedure"]) == ("handed_over", "general")
    assert record["handed_over_to"] == to
    assert (record["injured"], record["missing_steps"]) == (1, [])
    assert [s["step"] for s in record["steps"]] == order
    done = [datetime.fromisoformat(s["done_at"]) for s in record["steps"]]
    assert done == sorted(done)
    assert all(s["done_by"] == "officer" for s in record["steps"])
    assert shown == [_clock(s["done_at"]) for s in record["steps"]]  # the server's times
    page.click("#acc-new")  # the next accident starts from a fender bender's answers
    expect(page.locator("#acc-decision")).to_have_attribute("data-procedure", "self_settlement")
    _clean(phone, refused=(422,))
    phone.close()
    _on_the_command_page(browser, site, accident_id, "一般程序", "已移交")


def _tap(page: Page, step: str) -> str:
    """Tap a scene-protection step; returns the time the page shows for it."""
    row = page.locator(f".scene li[data-step={step}]")
    row.locator("button").click()
    expect(row).to_have_attribute("data-done", "true")
    expect(row.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    return row.locator("time").inner_text()


def _on_the_command_page(
    browser: Browser, site: Site, accident_id: int, procedure: str, state: str
) -> None:
    """The accident is a marker among the incidents and a row of the accidents' tab, its
    procedure and state in the popup."""
    tab = open_tab(browser, f"{site.url}/", viewport={"width": 1440, "height": 900})
    _log_in(tab, site, "dispatcher")
    page = tab.page
    assert page.evaluate("(id) => jx.accidents.markers.has(id)", accident_id)
    page.click(".tabs [data-tab=accidents]")
    row = page.locator(f"#accidents li[data-id='{accident_id}']")
    expect(row).to_contain_text(procedure)
    expect(row).to_contain_text(state)
    row.click()
    popup = page.locator(f".accident-popup[data-id='{accident_id}']")
    expect(popup.locator(".procedure")).to_contain_text(procedure)
    expect(popup.locator(".state")).to_have_text(state)
    _clean(tab)
    tab.close()


def test_a_violation_recorded_on_the_phone_is_found_at_the_kiosk_and_the_counter(
    browser: Browser, site: Site
) -> None:
    codes = site.json("GET", "/api/traffic/codes", user="officer")
    code = next(c for c in codes if c["points"] > 0 and c["fine_yuan"] > 0)
    plate, tail = "吉B6M3R8", "K73519"
    phone = _officer(browser, site)
    page = phone.page
    page.click("#open-violation")
    form = page.locator("#vio-form")
    # a bad plate shows the server's rule as it is typed
    bad = site.call("POST", "/api/traffic/plates/check", user="officer", json={"plate": "吉A1234O"})
    assert bad.status_code == 422, bad.text
    form.locator("[name=plate]").fill("吉A1234O")
    expect(page.locator("#vio-plate")).to_have_attribute("data-ok", "false")
    expect(page.locator("#vio-plate")).to_contain_text(bad.json()["message"])
    form.locator("[name=plate]").fill(plate)
    expect(page.locator("#vio-plate")).to_have_attribute("data-ok", "true")
    kind = site.json("POST", "/api/traffic/plates/check", user="officer", json={"plate": plate})
    expect(page.locator("#vio-plate")).to_contain_text(kind["zh"])
    # the offence found by its name, with its points and fine
    form.locator("[name=search]").fill(code["name_zh"][:4])
    choice = page.locator(f"#vio-codes li[data-code='{code['code']}']")
    expect(choice).to_contain_text(f"{code['points']} 记分")
    choice.click()
    expect(page.locator("#vio-code")).to_have_attribute("data-code", code["code"])
    form.locator("[name=engine_tail]").fill(tail.lower())
    form.locator("[name=note]").fill("占用公交专用道")
    form.locator("[name=place]").fill("红旗大街与中山路交口")
    page.set_input_files("#vio-form [name=photo]", _image("evidence", "JPEG"))
    form.locator("button[type=submit]").click()
    saved = page.locator("#vio-saved")
    expect(saved).to_have_attribute("data-number", re.compile(r".+"))
    number = saved.get_attribute("data-number")
    expect(form.locator(".error")).to_have_text("")
    _shot(page, "violation-recorded")
    _clean(phone, refused=(422,))
    phone.close()

    found = site.json(
        "POST", "/api/traffic/violations/lookup", user="officer", json={"plate": plate}
    )
    (violation,) = [v for v in found["violations"] if v["number"] == number]
    assert (violation["code"], violation["state"], violation["note"]) == (
        code["code"],
        "pending",
        "占用公交专用道",
    )
    assert [p["kind"] for p in violation["photos"]] == ["evidence"]

    # the citizen at the kiosk: plate and engine tail
    kiosk = open_tab(browser, f"{site.url}/kiosk", **PHONE)
    kpage = kiosk.page
    kpage.set_default_timeout(10_000)
    kpage.wait_for_selector("body[data-ready='1']")
    kpage.click(".steps [data-view=violations]")
    kpage.fill("#violations-form [name=plate]", plate)
    kpage.fill("#violations-form [name=engine_tail]", tail)
    kpage.click("#violations-form button[type=submit]")
    row = kpage.locator(f"#violations li[data-number='{number}']")
    expect(row.locator(".points")).to_have_text(f"{code['points']} 记分")
    expect(row.locator(".fine")).to_contain_text(f"{code['fine_yuan']:g}")
    expect(row.locator(".state")).to_have_text("待处理")
    expect(row.locator(".place")).to_have_text("红旗大街与中山路交口")
    _shot(kpage, "kiosk-violations")
    _clean(kiosk)
    kiosk.close()

    # the clerk at the counter: found by plate, decided, paid
    counter = open_tab(browser, f"{site.url}/counter", viewport={"width": 1400, "height": 900})
    _log_in(counter, site, "kiosk_clerk")
    cpage = counter.page
    cpage.fill("#violation-lookup [name=plate]", plate)
    cpage.click("#violation-lookup button[type=submit]")
    row = cpage.locator(f"#violation-list li[data-number='{number}']")
    expect(row.locator(".state")).to_have_text("待处理")
    row.locator("button.decide").click()
    expect(row).to_have_attribute("data-state", "decided")
    row.locator("button.pay").click()
    expect(row).to_have_attribute("data-state", "paid")
    expect(row.locator(".state")).to_have_text("已缴款")
    _clean(counter)
    counter.close()
    found = site.json(
        "POST", "/api/traffic/violations/lookup", user="officer", json={"plate": plate}
    )
    (violation,) = [v for v in found["violations"] if v["number"] == number]
    assert violation["state"] == "paid"
    assert violation["decision_number"]
    assert violation["paid_at"]


def test_the_stretches_with_most_accidents_are_drawn(browser: Browser, site: Site) -> None:
    unit_id = site.json("GET", "/api/me", user="officer")["unit"]["id"]
    body = {
        "unit_id": unit_id,
        "lon": SPOT["longitude"],
        "lat": SPOT["latitude"],
        "weather": "rain",
        "collision": "scrape",
    }
    for _ in range(2):
        site.json("POST", "/api/traffic/accidents", user="officer", json=body)
    stretches = site.json("GET", "/api/traffic/accidents/stretches")
    top = stretches[0]
    assert top["accidents"] >= 2
    tab = open_tab(browser, f"{site.url}/", viewport={"width": 1440, "height": 900})
    _log_in(tab, site, "dispatcher")
    page = tab.page
    page.click(".tabs [data-tab=accidents]")
    first = page.locator("#accident-stretches li").first
    expect(first).to_have_text(f"{top['road'] or '–'} · {top['accidents']}")
    drawn = page.evaluate("() => jx.accidents.stretchLayer.getLayers().length")
    assert drawn == len([s for s in stretches if len(s["line"]) >= 2])
    assert drawn >= 1
    _clean(tab)
    tab.close()
