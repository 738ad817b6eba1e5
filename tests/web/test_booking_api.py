"""Citizens book kiosk appointments through the public API: holds, bookings, the full slot, one
open booking per citizen and service, changes, cancellations, the waiting list and its offers,
holds that run out, 30 citizens racing for 2 places; and nothing personal kept in full."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from center import Center
from sqlalchemy import func, select

from jiaoxun.audit.models import AuditEntry
from jiaoxun.city.models import Kiosk
from jiaoxun.db import transaction
from jiaoxun.services.booking import expire_holds
from jiaoxun.services.models import (
    Booking,
    DayKind,
    Notification,
    OpeningHours,
    ServiceItem,
    ServiceKind,
    Slot,
)
from jiaoxun.services.slots import BookingRules
from jiaoxun.settings import Settings
from jiaoxun.web.deps import now as server_now

SHANGHAI = ZoneInfo("Asia/Shanghai")


def checked(body: str) -> str:
    """17 digits and their ISO 7064 MOD 11-2 check character (GB 11643)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def valid_id(n: int) -> str:
    """A valid ID number for citizen `n`, born on day n of 1990."""
    return checked(f"220802{date(1990, 1, 1) + timedelta(days=n):%Y%m%d}{n % 1000:03d}")


def phone(n: int) -> str:
    return f"139{n:08d}"


@pytest.fixture(scope="module")
def desk(center: Center) -> Iterator[dict[str, Any]]:
    """A service of the tests' own at the first kiosk: evening slots of 20 minutes with 2 places
    on workdays and holidays, one 09:00 slot with 1 place on rest days; a holiday 10 days
    ahead and a rest day 12 days ahead, declared in the calendar."""
    code = f"T-{uuid.uuid4().hex[:6].upper()}"
    today = datetime.now(SHANGHAI).date()
    holiday, restday = today + timedelta(days=10), today + timedelta(days=12)
    with transaction(center.engine) as session:
        kiosk = session.scalars(select(Kiosk).order_by(Kiosk.id)).first()
        assert kiosk is not None
        item = ServiceItem(
            code=code,
            kind=ServiceKind.TRAFFIC,
            name_zh="驾驶证期满换证",
            name_en="Driving licence renewal",
            documents=[],
            channels=["kiosk"],
            travel_saved_yuan=26.9,
            fee_yuan=10.0,
            minutes=20,
        )
        session.add(item)
        session.flush()
        for kind in (DayKind.WORKDAY, DayKind.HOLIDAY):
            session.add(
                OpeningHours(
                    kiosk_id=kiosk.id,
                    service_id=item.id,
                    day_kind=kind,
                    starts="18:00",
                    ends="20:00",
                    after_hours=True,
                    capacity=2,
                )
            )
        session.add(
            OpeningHours(
                kiosk_id=kiosk.id,
                service_id=item.id,
                day_kind=DayKind.RESTDAY,
                starts="09:00",
                ends="09:20",
                after_hours=True,
                capacity=1,
            )
        )
        kiosk_id = kiosk.id
    for day, body in (
        (holiday, {"workday": False, "holiday": "Test Festival"}),
        (restday, {"workday": False, "holiday": ""}),
    ):
        reply = center.call("PUT", f"/api/analytics/calendar/{day}", user="admin", json=body)
        assert reply.status_code == 200, reply.text
    return {"code": code, "kiosk_id": kiosk_id, "holiday": holiday, "restday": restday}


def at(day: date, hh_mm: str) -> str:
    hour, minute = map(int, hh_mm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC).isoformat()


def book(center: Center, desk: dict[str, Any], starts_at: str, n: int, **extra: Any) -> Any:
    body = {
        "kiosk_id": desk["kiosk_id"],
        "service": desk["code"],
        "starts_at": starts_at,
        "name": "王小明",
        "id_number": valid_id(n),
        "phone": phone(n),
    }
    return center.client.post("/api/public/bookings", json=body | extra)


def slots(center: Center, desk: dict[str, Any], day: date) -> dict[str, Any]:
    reply = center.client.get(
        "/api/public/slots",
        params={"kiosk_id": desk["kiosk_id"], "service": desk["code"], "start": day, "days": 1},
    )
    assert reply.status_code == 200, reply.text
    (found,) = reply.json()["days"]
    return found  # type: ignore[no-any-return]


def test_a_holiday_evening_is_offered_and_booked_and_kept_masked(
    center: Center, desk: dict[str, Any]
) -> None:
    day = slots(center, desk, desk["holiday"])
    assert (day["day_kind"], day["holiday"]) == ("holiday", "Test Festival")
    assert [s["local_time"] for s in day["slots"]] == [
        "18:00",
        "18:20",
        "18:40",
        "19:00",
        "19:20",
        "19:40",
    ]
    assert all(s["after_hours"] and s["free"] == 2 for s in day["slots"])

    held = center.client.post(
        "/api/public/holds",
        json={
            "kiosk_id": desk["kiosk_id"],
            "service": desk["code"],
            "starts_at": at(desk["holiday"], "18:40"),
        },
    )
    assert held.status_code == 201, held.text
    code = held.json()["code"]
    assert slots(center, desk, desk["holiday"])["slots"][2]["free"] == 1  # held is taken
    booked = book(center, desk, at(desk["holiday"], "18:40"), 1, code=code)
    assert booked.status_code == 201, booked.text
    reply = booked.json()
    assert reply["code"] == code
    assert reply["booking"]["state"] == "booked"
    assert reply["booking"]["id_masked"] == valid_id(1)[:4] + "*" * 10 + valid_id(1)[-4:]
    assert reply["booking"]["phone_masked"] == phone(1)[:3] + "****" + phone(1)[-4:]
    assert reply["booking"]["name_masked"] == "王*明"
    assert [m["kind"] for m in reply["booking"]["messages"]] == ["booked"]
    assert slots(center, desk, desk["holiday"])["slots"][2]["free"] == 1

    found = center.client.post("/api/public/bookings/find", json={"code": code.lower()})
    assert found.status_code == 200
    assert found.json()["starts_at"] == reply["booking"]["starts_at"]
    with transaction(center.engine) as session:
        row = session.scalar(
            select(Booking).where(Booking.id_masked == reply["booking"]["id_masked"])
        )
        assert row is not None
        assert valid_id(1) not in repr(vars(row))  # the ID number is kept only as a keyed hash
        assert code not in repr(vars(row))  # and the code only as its hash
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "booking", AuditEntry.entity_id == str(row.id)
            )
        ).one()
        assert (entry.action, entry.to_state) == ("booking.book", "booked")
        assert valid_id(1) not in str(entry.detail)
        assert phone(1) not in str(entry.detail)
        reminder = session.scalar(
            select(Notification).where(
                Notification.booking_id == row.id, Notification.kind == "reminder"
            )
        )
        assert reminder is not None
        assert reminder.due_at == row_slot_start(session, row) - timedelta(days=1)


def row_slot_start(session: Any, booking: Booking) -> datetime:
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    return slot.starts_at


def test_a_full_slot_is_refused_with_the_rule(center: Center, desk: dict[str, Any]) -> None:
    starts_at = at(desk["holiday"], "19:00")
    assert book(center, desk, starts_at, 2).status_code == 201
    assert book(center, desk, starts_at, 3).status_code == 201
    refused = book(center, desk, starts_at, 4)
    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"
    assert "is full (all 2 places are booked)" in refused.json()["message"]
    assert slots(center, desk, desk["holiday"])["slots"][3]["free"] == 0


def test_one_open_booking_per_citizen_and_service(center: Center, desk: dict[str, Any]) -> None:
    assert book(center, desk, at(desk["holiday"], "19:20"), 5).status_code == 201
    again = book(center, desk, at(desk["holiday"], "19:40"), 5)
    assert again.status_code == 409
    assert "one open booking per citizen and service" in again.json()["message"]
    # the refused booking took no place
    assert slots(center, desk, desk["holiday"])["slots"][5]["free"] == 2


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("id_number", "110105194912310021", "GB 11643"),
        ("id_number", checked("11010519491331002"), "birth date"),
        ("phone", "12345", "mobile"),
        ("name", "", "name"),
    ],
)
def test_a_bad_citizen_detail_is_refused_naming_its_rule(
    center: Center, desk: dict[str, Any], field: str, value: str, rule: str
) -> None:
    reply = book(center, desk, at(desk["holiday"], "18:00"), 6, **{field: value})
    assert reply.status_code == 422, reply.text
    assert rule in reply.json()["message"]
    assert value == "" or value not in reply.json()["message"] or field != "id_number"


@pytest.mark.parametrize(
    ("when", "rule"),
    [
        (lambda d: at(d["holiday"], "18:10"), "no slot of"),
        (lambda d: at(d["holiday"], "08:00"), "no slot of"),
        (lambda d: at(date.today() + timedelta(days=60), "18:00"), "days ahead at most"),
        (lambda d: datetime.now(UTC).isoformat(), "minutes before it starts"),
    ],
)
def test_a_time_that_is_no_bookable_slot_is_refused(
    center: Center, desk: dict[str, Any], when: Any, rule: str
) -> None:
    reply = book(center, desk, when(desk), 7)
    assert reply.status_code == 422, reply.text
    assert rule in reply.json()["message"]


def test_a_booking_is_changed_and_cancelled_and_its_places_come_back(
    center: Center, desk: dict[str, Any]
) -> None:
    workday = desk["holiday"] + timedelta(days=1)
    while slots(center, desk, workday)["day_kind"] != "workday":
        workday += timedelta(days=1)
    reply = book(center, desk, at(workday, "18:00"), 8)
    assert reply.status_code == 201, reply.text
    code = reply.json()["code"]
    moved = center.client.post(
        "/api/public/bookings/change", json={"code": code, "starts_at": at(workday, "18:20")}
    )
    assert moved.status_code == 200, moved.text
    free = [s["free"] for s in slots(center, desk, workday)["slots"][:2]]
    assert free == [2, 1]
    cancelled = center.client.post("/api/public/bookings/cancel", json={"code": code})
    assert cancelled.json()["state"] == "cancelled"
    with transaction(center.engine) as session:
        row = session.scalars(select(Booking).where(Booking.phone_masked.like("139%"))).all()
        assert all(b.phone is None for b in row if b.state == "cancelled")  # kept no longer
        assert any(b.state == "cancelled" for b in row)
    assert [s["free"] for s in slots(center, desk, workday)["slots"][:2]] == [2, 2]
    kinds = [m["kind"] for m in cancelled.json()["messages"]]
    assert kinds[:2] == ["cancelled", "changed"]
    assert "booked" in kinds
    again = center.client.post("/api/public/bookings/cancel", json={"code": code})
    assert again.status_code == 409
    assert "cancelled booking cannot be cancelled" in again.json()["message"]
    unknown = center.client.post("/api/public/bookings/find", json={"code": "2345678923"})
    assert unknown.status_code == 404


def test_a_freed_place_is_offered_to_the_first_one_waiting_and_then_to_the_next(
    center: Center, desk: dict[str, Any]
) -> None:
    day = desk["restday"]
    waiting = {
        "kiosk_id": desk["kiosk_id"],
        "service": desk["code"],
        "day": day.isoformat(),
        "name": "李四",
    }
    early = center.client.post(
        "/api/public/waitlist", json=waiting | {"id_number": valid_id(20), "phone": phone(20)}
    )
    assert early.status_code == 409
    assert "are free on" in early.json()["message"]
    first = book(center, desk, at(day, "09:00"), 21)
    assert first.status_code == 201
    codes = []
    for n in (22, 23):
        joined = center.client.post(
            "/api/public/waitlist", json=waiting | {"id_number": valid_id(n), "phone": phone(n)}
        )
        assert joined.status_code == 201, joined.text
        codes.append(joined.json()["code"])
    cancelled = center.client.post(
        "/api/public/bookings/cancel", json={"code": first.json()["code"]}
    )
    assert cancelled.status_code == 200
    offered = center.client.post("/api/public/bookings/find", json={"code": codes[0]})
    assert offered.status_code == 200, offered.text
    assert offered.json()["state"] == "held"
    assert offered.json()["messages"][0]["kind"] == "offer"
    assert slots(center, desk, day)["slots"][0]["free"] == 0  # kept for him

    # he does not confirm in time: the place goes on to the next one waiting
    settings: Settings = center.client.app.state.jiaoxun.settings
    rules = BookingRules.from_settings(settings)
    later = datetime.now(UTC) + rules.offer + timedelta(minutes=1)
    with transaction(center.engine) as session:
        assert expire_holds(session, now=later, rules=rules) >= 1
    lapsed = center.client.post("/api/public/bookings/find", json={"code": codes[0]})
    assert lapsed.json()["state"] == "expired"
    second = center.client.post("/api/public/bookings/confirm", json={"code": codes[1]})
    assert second.status_code == 200, second.text
    assert second.json()["state"] == "booked"
    assert slots(center, desk, day)["slots"][0]["free"] == 0
    late = center.client.post("/api/public/bookings/confirm", json={"code": codes[0]})
    assert late.status_code == 409


def test_a_hold_not_used_in_time_frees_its_place(center: Center, desk: dict[str, Any]) -> None:
    day = desk["restday"] + timedelta(days=7)  # a weekday or rest day: find its only 09:00
    body = {"kiosk_id": desk["kiosk_id"], "service": desk["code"]}
    found = slots(center, desk, day)
    starts_at = found["slots"][-1]["starts_at"]
    capacity = found["slots"][-1]["capacity"]
    holds = []
    for _ in range(capacity):
        reply = center.client.post("/api/public/holds", json=body | {"starts_at": starts_at})
        assert reply.status_code == 201, reply.text
        holds.append(reply.json()["code"])
    assert (
        center.client.post("/api/public/holds", json=body | {"starts_at": starts_at}).status_code
        == 409
    )
    app = center.client.app
    app.dependency_overrides[server_now] = lambda: datetime.now(UTC) + timedelta(minutes=11)
    try:
        reply = book(center, desk, starts_at, 30)
        assert reply.status_code == 201, reply.text  # the lapsed holds gave their places back
        stale = book(center, desk, starts_at, 31, code=holds[0])
        assert stale.status_code == 409
        assert "the hold ended" in stale.json()["message"]
    finally:
        app.dependency_overrides.pop(server_now, None)


def test_thirty_citizens_racing_for_two_places_get_exactly_two(
    center: Center, desk: dict[str, Any]
) -> None:
    starts_at = at(desk["holiday"], "18:20")
    answers: list[int] = []
    gate = threading.Barrier(30)

    def citizen(n: int) -> None:
        gate.wait()
        answers.append(book(center, desk, starts_at, 100 + n).status_code)

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 201] + [409] * 28
    with transaction(center.engine) as session:
        slot = session.scalars(
            select(Slot).where(Slot.starts_at == datetime.fromisoformat(starts_at))
        ).one()
        held = session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.slot_id == slot.id, Booking.state == "booked")
        )
        assert (slot.taken, held) == (2, 2)


def test_the_qr_of_a_code_and_the_violations_lookup(center: Center, desk: dict[str, Any]) -> None:
    reply = book(center, desk, at(desk["holiday"], "19:40"), 40)
    code = reply.json()["code"]
    qr = center.client.post("/api/public/bookings/qr", json={"code": code})
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.content.startswith(b"<?xml")
    assert b"<svg" in qr.content
    lookup = center.client.post(
        "/api/public/violations/lookup", json={"plate": "吉G12345", "engine_tail": "A12345"}
    )
    assert lookup.status_code == 200
    assert lookup.json()["available"] is True
    assert lookup.json()["violations"] == []
    bad = center.client.post(
        "/api/public/violations/lookup", json={"plate": "吉G12345", "engine_tail": "12-345"}
    )
    assert bad.status_code == 422


def test_the_nearest_kiosk_by_road(center: Center, desk: dict[str, Any]) -> None:
    with transaction(center.engine) as session:
        kiosk = session.get(Kiosk, desk["kiosk_id"])
        assert kiosk is not None
        lon, lat = kiosk.lon + 0.001, kiosk.lat
    reply = center.client.post("/api/public/kiosks/nearest", json={"lon": lon, "lat": lat})
    assert reply.status_code == 200, reply.text
    kiosks = reply.json()["kiosks"]
    assert kiosks[0]["id"] == desk["kiosk_id"]
    times = [k["travel_time_s"] for k in kiosks]
    assert times == sorted(times)
    assert len(kiosks) == 9
    assert center.client.post("/api/public/kiosks/nearest", json={}).status_code == 422


def test_one_address_keeps_only_a_few_holds_open(center: Center, desk: dict[str, Any]) -> None:
    day = desk["holiday"] + timedelta(days=3)
    while slots(center, desk, day)["day_kind"] != "workday":
        day += timedelta(days=1)
    starts = [s["starts_at"] for s in slots(center, desk, day)["slots"]]
    body = {"kiosk_id": desk["kiosk_id"], "service": desk["code"]}
    codes = []
    for starts_at in starts[:3]:
        reply = center.client.post("/api/public/holds", json=body | {"starts_at": starts_at})
        assert reply.status_code == 201, reply.text
        codes.append(reply.json()["code"])
    refused = center.client.post("/api/public/holds", json=body | {"starts_at": starts[3]})
    assert refused.status_code == 429
    assert "at most 3 places may be held at once" in refused.json()["message"]
    assert int(refused.headers["retry-after"]) > 0
    assert book(center, desk, starts[0], 50, code=codes[0]).status_code == 201
    again = center.client.post("/api/public/holds", json=body | {"starts_at": starts[3]})
    assert again.status_code == 201  # a hold booked is no longer open
    for code in [*codes[1:], again.json()["code"]]:
        assert (
            center.client.post("/api/public/bookings/cancel", json={"code": code}).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("path", "body", "params"),
    [
        ("/api/public/holds", {"starts_at": "9999-12-31T23:59:59Z"}, None),
        ("/api/public/bookings", {"starts_at": "0001-01-01T00:00:00Z"}, None),
        ("/api/public/slots", None, {"start": "9999-12-31", "days": 366}),
        ("/api/public/waitlist", {"day": "9999-12-31"}, None),
    ],
)
def test_the_ends_of_the_calendar_are_refused_not_crashed_on(
    center: Center, desk: dict[str, Any], path: str, body: Any, params: Any
) -> None:
    base = {"kiosk_id": desk["kiosk_id"], "service": desk["code"]}
    if params is not None:
        reply = center.client.get(path, params=base | params)
    else:
        citizen = {"name": "张三", "id_number": valid_id(60), "phone": phone(60)}
        extra = citizen if path != "/api/public/holds" else {}
        reply = center.client.post(path, json=base | extra | body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == "invalid_input"
