"""Orders that reach the officer and, unsigned, the dispatcher, in headless Chromium against the
real app served by uvicorn in this process on SQLite and on PostgreSQL, with an acknowledgement
limit of 2 s and a duty round every 0.5 s.

The officer's phone rings (Web Audio), vibrates and shows a system notification for a new order,
under a banner with its incident and an acknowledge button, once: a reload does not ring again.
An order nobody signs for puts a red banner with an alarm on the command page, with its audit row;
it goes once the officer signs. The pages' Notification and navigator.vibrate are wrapped by a
recorder that calls the real ones (the browser context has the notifications permission)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import live
import pytest
from browser import Tab, chromium, open_tab
from live import served_in_thread
from playwright.sync_api import Browser, Page, expect

from jiaoxun.settings import Settings

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1440, "height": 900}}
SPOT = (126.65, 45.745)  # on the demo city's roads
CATEGORY = "050200"
# what the page asks of the phone, recorded on the way to the real thing
RECORDER = """
(() => {
  const seen = { notifications: [], vibrations: [] };
  window.__seen = seen;
  const Real = window.Notification;
  if (Real) {
    const Recorded = function (title, options) {
      seen.notifications.push({ title, body: options?.body, tag: options?.tag });
      return new Real(title, options);
    };
    Recorded.prototype = Real.prototype;
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    Recorded.requestPermission = (...args) => Real.requestPermission(...args);
    window.Notification = Recorded;
  }
  const vibrate = navigator.vibrate?.bind(navigator);
  if (vibrate) {
    navigator.vibrate = (pattern) => {
      seen.vibrations.push(pattern);
      return vibrate(pattern);
    };
  }
})();
"""


class Site(live.Site):
    def json(self, method: str, path: str, *, user: str = "dispatcher", **kw: Any) -> Any:
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
        data_dir=tmp_path_factory.mktemp("order-alerts"),
        cache_dir=cache_dir,
        jt808_port=0,
        ack_limit_s=2.0,
        duty_round_s=0.5,
        login_failures_per_address=100_000,
    )
    with served_in_thread(settings) as (app, engine, url, passwords):
        yield Site(app, engine, url, passwords)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def incident(site: Site) -> Iterator[dict[str, Any]]:
    """A call with an address of its own; cancelled after the test (its unit free again)."""
    address = f"中山路{uuid.uuid4().hex[:4]}号"
    body = {"lon": SPOT[0], "lat": SPOT[1], "category_code": CATEGORY, "address": address}
    created = site.json("POST", "/api/incidents", json=body)
    yield created
    site.json("POST", f"/api/incidents/{created['id']}/cancel", json={"reason": "test over"})


def _page(browser: Browser, site: Site, path: str, user: str, **options: Any) -> Tab:
    """A page with the recorder in it and notifications allowed, logged in by a tap."""
    tab = open_tab(browser, "about:blank", permissions=["notifications"], **options)
    tab.context.add_init_script(RECORDER)
    page = tab.page
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}{path}")
    page.fill("#login [name=username]", user)
    page.fill("#login [name=password]", site.passwords[user])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return tab


def _alerts(page: Page, order_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "(id) => (window.jx.alerts ?? []).filter((a) => a.order_id === id)", order_id
    )
    return found


def _dispatch(site: Site, incident: dict[str, Any]) -> dict[str, Any]:
    unit_id = site.json("GET", "/api/me", user="officer")["unit"]["id"]
    path = f"/api/incidents/{incident['id']}/dispatch"
    (order,) = site.json("POST", path, json={"unit_ids": [unit_id], "reason": "nearest"})
    return dict(order)


def _shot(page: Page, name: str) -> None:
    """A screenshot when JIAOXUN_SCREENSHOTS names a folder (to look at by eye)."""
    folder = os.environ.get("JIAOXUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _clean(tab: Tab) -> None:
    assert tab.outside == [], f"requests left the machine: {tab.outside}"
    assert tab.errors == [], f"errors in the page: {tab.errors}"


def test_a_new_order_rings_the_officer_once(
    browser: Browser, site: Site, incident: dict[str, Any]
) -> None:
    phone = open_tab(browser, f"{site.url}/officer", **PHONE)
    page = phone.page
    expect(page.locator("#sound-hint")).to_have_text("点按开启提醒")  # no tap yet: no sound
    expect(page.locator("#ask-notify")).to_have_text("开启通知")  # not allowed yet: ask
    phone.close()
    phone = _page(browser, site, "/officer", "officer", **PHONE)
    page = phone.page
    expect(page.locator("#sound-hint")).to_be_hidden()  # the log-in tap unlocked the sound
    expect(page.locator("#ask-notify")).to_be_hidden()  # allowed: nothing to ask
    order = _dispatch(site, incident)
    banner = page.locator("#order-alert")
    expect(banner.locator("h2")).to_have_text("新指令")
    expect(banner.locator(".what")).to_have_text(
        f"P{incident['priority']} {incident['category_name']}"
    )
    expect(banner.locator(".where")).to_have_text(incident["address"])
    page.wait_for_function(
        """(id) => ["ring", "vibrate", "notify"].every(
             (kind) => jx.alerts.some((a) => a.kind === kind && a.order_id === id))""",
        arg=order["id"],
    )
    _shot(page, "officer-new-order")
    ring = next(a for a in _alerts(page, order["id"]) if a["kind"] == "ring")
    assert (ring["pattern"], ring["audible"]) == ("order", True)
    seen = page.evaluate("() => window.__seen")
    (notification,) = seen["notifications"]
    assert notification["title"] == "新指令"
    assert notification["tag"] == str(order["id"])
    assert incident["address"] in notification["body"]
    assert incident["category_name"] in notification["body"]
    assert len(seen["vibrations"]) == 1
    # a reconnect while still unsigned: the banner again, the alarm not
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(banner).to_be_visible()
    expect(banner.locator(".where")).to_have_text(incident["address"])
    page.wait_for_timeout(600)  # the order's escalation reaches the phone too, and reloads it
    assert _alerts(page, order["id"]) == []
    assert page.evaluate("() => window.__seen") == {"notifications": [], "vibrations": []}
    page.click("#lang")
    expect(banner.locator("h2")).to_have_text("New order")
    expect(banner.locator("button")).to_have_text("Acknowledge")
    banner.locator("button").click()
    expect(banner).to_be_hidden()
    expect(page.locator("#order-state")).to_have_attribute("data-state", "acknowledged")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_timeout(600)
    assert _alerts(page, order["id"]) == []
    assert page.evaluate("() => window.__seen.notifications") == []
    expect(banner).to_be_hidden()
    detail = site.json("GET", f"/api/incidents/{incident['id']}")
    (signed,) = detail["orders"]
    assert (signed["state"], signed["acknowledged_at"] is not None) == ("acknowledged", True)
    _clean(phone)
    phone.close()


def test_an_order_nobody_signs_for_alarms_the_command_page(
    browser: Browser, site: Site, incident: dict[str, Any]
) -> None:
    desk = _page(browser, site, "/", "dispatcher", **DESK)
    page = desk.page
    order = _dispatch(site, incident)
    row = page.locator(f"#escalated li[data-order='{order['id']}']")
    expect(row).to_be_visible(timeout=8_000)  # 2 s limit, a round every 0.5 s
    expect(page.locator("#escalations h2")).to_have_text("超时未签收的指令")
    expect(row).to_contain_text(order["call_sign"])
    expect(row).to_contain_text(incident["number"])
    _shot(page, "center-escalation")
    kinds = {(a["kind"], a.get("pattern")) for a in _alerts(page, order["id"])}
    assert kinds == {("escalation", None), ("ring", "escalation")}
    audit = site.json(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "order", "entity_id": str(order["id"])},
    )
    (raised,) = [e for e in audit if e["action"] == "escalate"]
    assert raised["username"] == "system"
    assert "the limit of 2 s" in raised["reason"]
    page.reload()  # a dispatcher who reloads finds it again, from the incident's orders
    page.wait_for_selector("body[data-ready='1']")
    expect(row).to_be_visible()
    expect(row).to_contain_text(incident["number"])
    row.locator("button").click()
    expect(page.locator("#detail h2")).to_contain_text(incident["number"])
    site.json(
        "POST", f"/api/orders/{order['id']}/status", user="officer", json={"state": "acknowledged"}
    )
    expect(row).to_be_hidden()
    expect(page.locator("#escalations")).to_be_hidden()
    assert page.evaluate("() => window.jx.escalated.size") == 0
    (signed,) = site.json("GET", f"/api/incidents/{incident['id']}")["orders"]
    assert signed["state"] == "acknowledged"
    assert signed["escalated_at"] is not None  # signed late: the record stays
    _clean(desk)
    desk.close()
