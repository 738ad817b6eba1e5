"""The counter of a kiosk through the real app on both backends: tickets issued and checked in,
called in the queue's order, served, sent on and recorded; two clerks racing; who may do what.

Each test has catalogue items of its own (a unique code) and asks only for their tickets: the
kiosk's queue is shared by the session's tests."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from center import Center
from sqlalchemy import select

from jiaoxun.audit.models import AuditEntry
from jiaoxun.db import transaction
from jiaoxun.services.checkin import mark_no_shows
from jiaoxun.services.codes import code_sha256, new_code
from jiaoxun.services.models import (
    Booking,
    BookingState,
    ServiceItem,
    ServiceKind,
    ServiceRecord,
    Slot,
    Ticket,
)
from jiaoxun.users.models import User
from jiaoxun.users.passwords import hash_password
from jiaoxun.users.roles import Role
from jiaoxun.web.deps import now as server_now

SHANGHAI_OFFSET = timedelta(hours=8)
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def counter(center: Center) -> Center:
    """The center with a kiosk clerk at its first kiosk."""
    return center


def service(center: Center, *, fee_yuan: float = 10.0, travel_saved_yuan: float = 35.5) -> str:
    code = f"T{uuid.uuid4().hex[:10]}"
    with transaction(center.engine) as session:
        session.add(
            ServiceItem(
                code=code,
                kind=ServiceKind.TRAFFIC,
                name_zh="测试业务",
                name_en="test service",
                fee_yuan=fee_yuan,
                travel_saved_yuan=travel_saved_yuan,
                channels=["kiosk"],
                minutes=20,
                bookable=True,
                active=True,
            )
        )
    return code


def booking(
    center: Center,
    *,
    kiosk_id: int,
    service_code: str,
    starts_at: datetime,
    state: BookingState = BookingState.BOOKED,
) -> tuple[str, int]:
    """A booking made straight in the database; its code and id."""
    code = new_code()
    with transaction(center.engine) as session:
        item = session.scalars(select(ServiceItem).where(ServiceItem.code == service_code)).one()
        slot = Slot(
            kiosk_id=kiosk_id,
            service_id=item.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
            capacity=2,
            taken=1,
        )
        session.add(slot)
        session.flush()
        row = Booking(
            slot_id=slot.id,
            kiosk_id=kiosk_id,
            service_id=item.id,
            state=state,
            code_sha256=code_sha256(code),
            citizen_sha256=secrets.token_hex(32),
            name_masked="张*",
            id_masked="110101********123X",
            phone="13800138000",
            phone_masked="138****8000",
            created_at=datetime.now(UTC),
            booked_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return code, row.id


def kiosk_ids(center: Center) -> tuple[int, int]:
    """The clerk's own kiosk and another one."""
    own = center.call("GET", "/api/counter/today", user="kiosk_clerk").json()["kiosk"]["id"]
    other = next(k["id"] for k in center.client.get("/api/public/kiosks").json() if k["id"] != own)
    return own, other


def ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def refused(reply: httpx.Response, status: int, pattern: str) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) >= {"error", "message"}, body
    assert re.search(pattern, body["message"]), body["message"]
    return str(body["message"])


def clerk(center: Center, path: str, json: Any = None, **kw: Any) -> httpx.Response:
    return center.call("POST", path, user="kiosk_clerk", json=json, **kw)


def booking_state(center: Center, booking_id: int) -> BookingState:
    with transaction(center.engine) as session:
        row = session.get(Booking, booking_id)
        assert row is not None
        return row.state


def test_the_whole_cycle(counter: Center) -> None:
    center = counter
    own, _ = kiosk_ids(center)
    first, second, third = (
        service(center, fee_yuan=0.0, travel_saved_yuan=30.0),
        service(center, fee_yuan=10.0, travel_saved_yuan=35.5),
        service(center, fee_yuan=25.0, travel_saved_yuan=12.0),
    )
    before = ok(center.call("GET", "/api/counter/today", user="kiosk_clerk"))

    opened = ok(clerk(center, "/api/counter/open"))
    assert opened["staffed"] is True
    assert opened["kiosk"]["id"] == own
    public = {k["id"]: k for k in center.client.get("/api/public/kiosks").json()}
    assert public[own]["staffed"] is True
    assert set(public[own]) == {"id", "name", "landmark", "lon", "lat", "zone_code"} | {
        "staffed",
        "waiting",
    }

    walk_in = ok(clerk(center, "/api/counter/tickets", {"service": first}), 201)
    priority = ok(clerk(center, "/api/counter/tickets", {"service": first, "priority": True}), 201)
    assert re.fullmatch(r"A\d{3}", walk_in["number"]), walk_in
    assert re.fullmatch(r"P\d{3}", priority["number"]), priority
    assert walk_in["state"] == "waiting"
    assert not walk_in["booked"]

    # a booked citizen whose slot began 5 minutes ago (today still, in Beijing) checks in:
    # he goes first
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = datetime.combine(now.astimezone(BEIJING).date(), time(), tzinfo=BEIJING)
    slot_start = max(now - timedelta(minutes=5), midnight.astimezone(UTC))
    code, booking_id = booking(center, kiosk_id=own, service_code=first, starts_at=slot_start)
    booked = ok(clerk(center, "/api/counter/check-in", {"code": code}), 201)
    assert re.fullmatch(r"B\d{3}", booked["number"])
    assert booked["booked"] is True
    assert datetime.fromisoformat(booked["slot_starts_at"]) == slot_start
    assert booking_state(center, booking_id) == BookingState.CHECKED_IN
    refused(clerk(center, "/api/counter/check-in", {"code": code}), 409, "checked_in")

    called = ok(clerk(center, "/api/counter/call-next", {"services": [first]}))
    assert called["id"] == booked["id"]
    assert called["state"] == "called"
    path = f"/api/counter/tickets/{booked['id']}"
    refused(clerk(center, f"{path}/done", {"services": [first]}), 409, r"serving.*called")
    assert ok(clerk(center, f"{path}/serve"))["state"] == "serving"
    moved = ok(clerk(center, f"{path}/transfer", {"service": second}), 201)
    assert moved["transferred_from_id"] == booked["id"]
    assert moved["service"] == second
    assert moved["issued_at"] == booked["issued_at"]
    assert moved["state"] == "waiting"
    refused(clerk(center, f"{path}/serve"), 409, r"transferred")

    # the transferred citizen keeps his place: ahead of the walk-ins still waiting
    again = ok(clerk(center, "/api/counter/call-next", {"services": [first, second]}))
    assert again["id"] == moved["id"]
    path = f"/api/counter/tickets/{moved['id']}"
    ok(clerk(center, f"{path}/serve"))
    finished = ok(clerk(center, f"{path}/done", {"services": [second, third]}))
    assert finished["ticket"]["state"] == "done"
    records = {r["service"]: r for r in finished["records"]}
    assert set(records) == {second, third}
    assert (records[second]["fee_yuan"], records[second]["travel_saved_yuan"]) == (10.0, 35.5)
    assert (records[third]["fee_yuan"], records[third]["travel_saved_yuan"]) == (25.0, 12.0)
    assert all(r["booked"] for r in records.values())
    assert booking_state(center, booking_id) == BookingState.SERVED
    with transaction(center.engine) as session:
        first_ticket = session.get(Ticket, booked["id"])
        assert first_ticket is not None
        assert first_ticket.serving_at is not None
        waited_s = (first_ticket.serving_at - first_ticket.issued_at).total_seconds()
        rows = session.scalars(
            select(ServiceRecord).where(ServiceRecord.ticket_id == moved["id"])
        ).all()
        assert len(rows) == 2
        assert all(r.booking_id == booking_id for r in rows)
        assert all(r.waited_s == pytest.approx(waited_s) for r in rows)
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "ticket", AuditEntry.entity_id == str(moved["id"])
            )
        ).all()
        assert {"issue", "call", "served", "done", "record"} <= set(actions)

    # then the priority walk-in: called again, and he never came
    nxt = ok(clerk(center, "/api/counter/call-next", {"services": [first]}))
    assert nxt["id"] == priority["id"]
    path = f"/api/counter/tickets/{priority['id']}"
    assert ok(clerk(center, f"{path}/recall"))["recalls"] == 1
    assert ok(clerk(center, f"{path}/no-show"))["state"] == "no_show"
    refused(clerk(center, f"{path}/recall"), 409, r"called.*no_show")

    # then the walk-in, served for one service
    last = ok(clerk(center, "/api/counter/call-next", {"services": [first]}))
    assert last["id"] == walk_in["id"]
    ok(clerk(center, f"/api/counter/tickets/{last['id']}/serve"))
    walked = ok(clerk(center, f"/api/counter/tickets/{last['id']}/done", {"services": [first]}))
    assert [r["booked"] for r in walked["records"]] == [False]
    refused(
        clerk(center, "/api/counter/call-next", {"services": [first]}),
        404,
        f"no one is waiting for {first}",
    )

    after = ok(center.call("GET", "/api/counter/today", user="kiosk_clerk"))
    stats, was = after["stats"], before["stats"]
    assert stats["served_today"] - was["served_today"] == 3
    assert stats["booked_served"] - was["booked_served"] == 2
    assert stats["walk_in_served"] - was["walk_in_served"] == 1
    assert stats["travel_saved_yuan"] - was["travel_saved_yuan"] == pytest.approx(77.5)
    assert stats["served_total"] - was["served_total"] == 3
    assert stats["mean_wait_s"] is not None
    shown = next(b for b in after["bookings"] if b["id"] == booking_id)
    assert shown["state"] == "served"
    assert shown["phone_masked"] == "138****8000"
    assert "13800138000" not in str(after)
    assert "phone" not in shown
    states = {t["id"]: t["state"] for t in after["tickets"]}
    assert states[booked["id"]] == "transferred"
    assert states[moved["id"]] == "done"
    assert states[priority["id"]] == "no_show"
    assert states[walk_in["id"]] == "done"

    status = {k["kiosk_id"]: k for k in ok(center.call("GET", "/api/kiosks/status"))}
    assert status[own]["staffed"] is True
    assert status[own]["clerks"] >= 1
    assert status[own]["served_today"] >= 3
    assert status[own]["booked_today"] >= 1
    ok(clerk(center, "/api/counter/close"))
    refused(clerk(center, "/api/counter/close"), 409, "no open counter")


def test_a_booked_no_show_and_the_rules_of_check_in(counter: Center) -> None:
    center = counter
    own, other = kiosk_ids(center)
    code_item = service(center)
    now = datetime.now(UTC).replace(microsecond=0)

    code, booking_id = booking(center, kiosk_id=own, service_code=code_item, starts_at=now)
    ticket = ok(clerk(center, "/api/counter/check-in", {"code": code}), 201)
    assert (
        ok(clerk(center, "/api/counter/call-next", {"services": [code_item]}))["id"] == ticket["id"]
    )
    ok(clerk(center, f"/api/counter/tickets/{ticket['id']}/no-show"))
    assert booking_state(center, booking_id) == BookingState.NO_SHOW

    elsewhere, _ = booking(center, kiosk_id=other, service_code=code_item, starts_at=now)
    refused(clerk(center, "/api/counter/check-in", {"code": elsewhere}), 409, f"kiosk {other}")
    cancelled, _ = booking(
        center,
        kiosk_id=own,
        service_code=code_item,
        starts_at=now + timedelta(seconds=1),
        state=BookingState.CANCELLED,
    )
    refused(clerk(center, "/api/counter/check-in", {"code": cancelled}), 409, "cancelled")
    tomorrow, _ = booking(
        center, kiosk_id=own, service_code=code_item, starts_at=now + timedelta(days=1)
    )
    refused(clerk(center, "/api/counter/check-in", {"code": tomorrow}), 409, "not for today")
    early_at = now + timedelta(minutes=90)
    early, _ = booking(center, kiosk_id=own, service_code=code_item, starts_at=early_at)
    same_day = (early_at + SHANGHAI_OFFSET).date() == (now + SHANGHAI_OFFSET).date()
    refused(
        clerk(center, "/api/counter/check-in", {"code": early}),
        409,
        "opens 60 minutes before" if same_day else "not for today",
    )
    # too late: past the no-show limit (the housekeeping may have marked it a no-show first)
    late_at = now - timedelta(minutes=20)
    late, late_id = booking(center, kiosk_id=own, service_code=code_item, starts_at=late_at)
    if (late_at + SHANGHAI_OFFSET).date() == (now + SHANGHAI_OFFSET).date():
        refused(
            clerk(center, "/api/counter/check-in", {"code": late}),
            409,
            "closes 15 minutes after|no_show",
        )
    with transaction(center.engine) as session:
        marked = mark_no_shows(session, now=now, after=timedelta(minutes=15))
        assert marked >= 0
    assert booking_state(center, late_id) == BookingState.NO_SHOW

    refused(clerk(center, "/api/counter/check-in", {"code": new_code()}), 404, "no booking")
    refused(clerk(center, "/api/counter/check-in", {"code": "0OIL"}), 422, "booking code")


def test_mark_no_shows_only_past_the_limit(counter: Center) -> None:
    center = counter
    own, _ = kiosk_ids(center)
    item = service(center)
    now = datetime.now(UTC).replace(microsecond=0)
    _, gone = booking(center, kiosk_id=own, service_code=item, starts_at=now - timedelta(hours=2))
    _, soon = booking(center, kiosk_id=own, service_code=item, starts_at=now + timedelta(hours=2))
    with transaction(center.engine) as session:
        assert mark_no_shows(session, now=now, after=timedelta(minutes=15)) >= 1
    assert booking_state(center, gone) == BookingState.NO_SHOW
    assert booking_state(center, soon) == BookingState.BOOKED


def test_two_clerks_race(counter: Center) -> None:
    """Two clerks (the kiosk's and a commander at it) issue and call at once: every ticket
    has its own number and is called exactly once."""
    center = counter
    own, _ = kiosk_ids(center)
    item = service(center)
    as_commander = {"params": {"kiosk_id": own}}
    callers: list[tuple[str, dict[str, Any]]] = [("kiosk_clerk", {}), ("commander", as_commander)]
    for user, _kw in callers:
        center.login(user)
    issued: list[httpx.Response] = []
    called: list[httpx.Response] = []
    lock = threading.Lock()

    def run(
        user: str, kw: dict[str, Any], path: str, body: Any, into: list[httpx.Response]
    ) -> None:
        for _ in range(5):
            reply = center.call("POST", path, user=user, json=body, **kw)
            with lock:
                into.append(reply)

    for path, body, into in (
        ("/api/counter/tickets", {"service": item}, issued),
        ("/api/counter/call-next", {"services": [item]}, called),
    ):
        threads = [
            threading.Thread(target=run, args=(user, kw, path, body, into)) for user, kw in callers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [r.status_code for r in issued] == [201] * 10, [r.text for r in issued]
    assert len({r.json()["number"] for r in issued}) == 10
    assert [r.status_code for r in called] == [200] * 10, [r.text for r in called]
    assert sorted(r.json()["id"] for r in called) == sorted(r.json()["id"] for r in issued)
    refused(
        center.call(
            "POST",
            "/api/counter/call-next",
            user="commander",
            json={"services": [item]},
            **as_commander,
        ),
        404,
        "no one is waiting",
    )


def test_who_may_work_at_a_counter(counter: Center) -> None:
    center = counter
    own, other = kiosk_ids(center)
    item = service(center)
    refused(
        clerk(center, "/api/counter/tickets", {"service": item}, params={"kiosk_id": other}),
        403,
        f"own kiosk {own} only",
    )
    refused(
        center.call("POST", "/api/counter/tickets", user="commander", json={"service": item}),
        422,
        "kiosk_id",
    )
    refused(
        center.call("GET", "/api/counter/today", user="admin", params={"kiosk_id": 2_000_000}),
        404,
        "no kiosk 2000000",
    )
    there = ok(
        center.call(
            "POST",
            "/api/counter/tickets",
            user="admin",
            json={"service": item},
            params={"kiosk_id": other},
        ),
        201,
    )
    # a ticket of another kiosk is not the clerk's to move
    refused(clerk(center, f"/api/counter/tickets/{there['id']}/serve"), 404, f"kiosk {own}")
    for user in ("dispatcher", "officer"):
        refused(center.call("POST", "/api/counter/open", user=user), 403, "serve citizens")
    refused(center.call("GET", "/api/kiosks/status", user="kiosk_clerk"), 403, "read operations")
    ok(center.call("GET", "/api/kiosks/status", user="officer"))

    # a clerk whose kiosk was taken away works nowhere
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    with transaction(center.engine) as session:
        session.add(
            User(
                username=name,
                password_hash=hash_password(password),
                role=Role.KIOSK_CLERK,
                kiosk_id=None,
                active=True,
                created_at=datetime.now(UTC),
                must_change_password=False,
                failed_logins=0,
            )
        )
    center.passwords[name] = password
    refused(center.call("GET", "/api/counter/today", user=name), 403, f"{name} has no kiosk")


def test_bad_input_is_refused_by_rule(counter: Center) -> None:
    center = counter
    item = service(center)
    other_item = service(center)
    refused(clerk(center, "/api/counter/tickets", {"service": "NO-SUCH"}), 404, "NO-SUCH")
    refused(clerk(center, "/api/counter/tickets", {"service": item, "x": 1}), 422, ".")
    refused(clerk(center, "/api/counter/tickets", {"service": item, "priority": "maybe"}), 422, ".")
    refused(clerk(center, "/api/counter/tickets", {"service": ""}), 422, ".")
    refused(clerk(center, "/api/counter/call-next", {"services": ["NO-SUCH"]}), 404, "NO-SUCH")
    refused(clerk(center, "/api/counter/tickets/0/serve"), 422, ".")
    refused(clerk(center, "/api/counter/tickets/2000000000/serve"), 404, "no ticket 2000000000")

    ticket = ok(clerk(center, "/api/counter/tickets", {"service": item}), 201)
    path = f"/api/counter/tickets/{ticket['id']}"
    refused(clerk(center, f"{path}/serve"), 409, r"served only when called.*waiting")
    refused(clerk(center, f"{path}/no-show"), 409, "waiting")
    ok(clerk(center, "/api/counter/call-next", {"services": [item]}))
    refused(clerk(center, f"{path}/transfer", {"service": item}), 422, "already for")
    refused(clerk(center, f"{path}/transfer", {}), 422, ".")
    ok(clerk(center, f"{path}/serve"))
    refused(clerk(center, f"{path}/done", {"services": []}), 422, ".")
    refused(clerk(center, f"{path}/done", {"services": [item, item]}), 422, "each service once")
    refused(clerk(center, f"{path}/done", {"services": ["NO-SUCH"]}), 404, "NO-SUCH")
    ok(clerk(center, f"{path}/done", {"services": [item, other_item]}))
    refused(clerk(center, f"{path}/done", {"services": [item]}), 409, "done")
    with transaction(center.engine) as session:
        rows = session.scalars(
            select(ServiceRecord).where(ServiceRecord.ticket_id == ticket["id"])
        ).all()
        assert len(rows) == 2, "a refused done records nothing"


def test_late_in_the_evening_the_day_shows_the_bookings_due_after_midnight(
    counter: Center,
) -> None:
    """At 23:30 the clerk sees the 00:20 booking, which an empty kiosk must flag to rebook; the
    one of 02:00, beyond the two hours ahead, waits for its own day."""
    center = counter
    own, _ = kiosk_ids(center)
    item = service(center)
    evening = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    local = (evening + SHANGHAI_OFFSET).replace(hour=23, minute=30, second=0)
    now = local - SHANGHAI_OFFSET
    _, soon = booking(
        center, kiosk_id=own, service_code=item, starts_at=now + timedelta(minutes=50)
    )
    _, later = booking(
        center, kiosk_id=own, service_code=item, starts_at=now + timedelta(hours=150 / 60)
    )
    app = center.client.app
    app.dependency_overrides[server_now] = lambda: now
    try:
        today = ok(center.call("GET", "/api/counter/today", user="kiosk_clerk"))
    finally:
        app.dependency_overrides.pop(server_now, None)
    ids = [b["id"] for b in today["bookings"]]
    assert soon in ids
    assert later not in ids
