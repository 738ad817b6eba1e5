"""The force on duty through the API, on both backends: the demo force, a month rostered by
CP-SAT and published, the crews following it at the shift under way, swaps, the recommender
skipping an uncrewed car, a kiosk emptied by dispatch, attendance from the tracks.

The module has a command center of its own: publishing a roster changes every car's crew."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from center import Center
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import running_center
from jiaoxun.audit.models import AuditEntry
from jiaoxun.city.models import Kiosk
from jiaoxun.duty.attendance import attendance
from jiaoxun.duty.crews import apply_shift_change
from jiaoxun.duty.models import DutyShift, LedgerEntry, Post
from jiaoxun.services.models import ServiceItem
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.units.models import Officer

TZ_NAME = "Asia/Shanghai"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def duty(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("duty"), cache_dir, request.param
    ) as center:
        yield center


def ok(reply: Any, code: int = 200) -> Any:
    assert reply.status_code == code, reply.text
    return reply.json() if reply.content else None


def local_month(center: Center) -> str:
    tz = center.client.app.state.jiaoxun.settings.tz
    return datetime.now(tz).strftime("%Y-%m")


def kiosk_points(center: Center) -> dict[str, tuple[float, float]]:
    """Where each zone's kiosk stands, by zone code."""
    layout = ok(center.call("GET", "/api/city/map"))["layout"]["features"]
    return {
        f["properties"]["zone"]: tuple(f["geometry"]["coordinates"])
        for f in layout
        if f["properties"]["layer"] == "kiosk"
    }


def call_at(center: Center, lon: float, lat: float) -> dict[str, Any]:
    body = {"lon": lon, "lat": lat, "category_code": "020100"}
    return ok(center.call("POST", "/api/incidents", json=body), 201)


def walk_in_service(center: Center) -> str:
    with Session(center.engine) as session:
        items = session.scalars(select(ServiceItem).order_by(ServiceItem.code)).all()
    return next(i.code for i in items if "kiosk" in (i.channels or ["kiosk"]) and i.active)


def clerk_kiosk(center: Center) -> int:
    return ok(center.call("GET", "/api/counter/today", user="kiosk_clerk"))["kiosk"]["id"]


@pytest.fixture(scope="module")
def published(duty: Center) -> dict[str, Any]:
    """This month rostered for the demo force and published, with no counter post at the
    clerk's kiosk (so that dispatch alone can empty it), the crews applied by the server."""
    own = clerk_kiosk(duty)
    rows = [
        d
        for d in ok(duty.call("GET", "/api/duty/demands?pattern=4t3s", user="commander"))
        if d["kiosk_id"] == own
    ]
    body = {
        "pattern": "4t3s",
        "demands": [
            {k: d[k] for k in ("kiosk_id", "shift", "day_kind", "cars", "crew", "patrol")}
            | {"counter": 0}
            for d in rows
        ],
    }
    ok(duty.call("PUT", "/api/duty/demands", user="commander", json=body))
    first = datetime.strptime(local_month(duty), "%Y-%m").date()
    away = next(o for o in ok(duty.call("GET", f"/api/duty/officers?kiosk_id={own}")))
    leave = {
        "officer_id": away["id"],
        "kind": "leave",
        "first_day": first.isoformat(),
        "last_day": (first + timedelta(days=4)).isoformat(),
        "reason": "annual leave",
    }
    ok(duty.call("POST", "/api/duty/absences", user="commander", json=leave), 201)
    roster = ok(
        duty.call(
            "POST",
            "/api/duty/rosters",
            user="commander",
            json={"month": local_month(duty), "pattern": "4t3s", "time_limit_s": 40},
        ),
        201,
    )
    assert roster["status"] in {"optimal", "feasible"}, roster
    body = {"version": roster["version"]}
    published = ok(
        duty.call("POST", f"/api/duty/rosters/{roster['id']}/publish", user="commander", json=body)
    )
    calendar = ok(duty.call("GET", f"/api/duty/rosters/{roster['id']}", user="commander"))
    wait_for_crews(duty, calendar)
    return {"roster": published, "calendar": calendar, "own": own, "leave": leave}


def under_way(calendar: dict[str, Any]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        s
        for s in calendar["shifts"]
        if datetime.fromisoformat(s["starts_at"]) <= now < datetime.fromisoformat(s["ends_at"])
    ]


def rostered_crews(calendar: dict[str, Any]) -> dict[int, set[int]]:
    crews: dict[int, set[int]] = defaultdict(set)
    for s in under_way(calendar):
        if s["post"] == "car":
            crews[s["unit_id"]].add(s["officer_id"])
    return dict(crews)


def crews_now(center: Center) -> dict[int, set[int]]:
    rows = ok(center.call("GET", "/api/duty/crews"))
    return {r["unit_id"]: {o["id"] for o in r["crew"]} for r in rows if r["crew"]}


def unit_of(center: Center, unit_id: int) -> dict[str, Any]:
    return next(u for u in ok(center.call("GET", "/api/units")) if u["id"] == unit_id)


def wait_for_crews(center: Center, calendar: dict[str, Any], *, within_s: float = 20.0) -> None:
    """The server's duty round makes the roster the crews within a few seconds."""
    deadline = time.monotonic() + within_s
    while crews_now(center) != rostered_crews(calendar):
        assert time.monotonic() < deadline, (crews_now(center), rostered_crews(calendar))
        time.sleep(0.5)


# --- the organisation ---


def test_the_demo_force_is_the_articles(duty: Center) -> None:
    brigades = ok(duty.call("GET", "/api/duty/brigades"))
    assert Tally(b["kind"] for b in brigades) == {"traffic_patrol": 4, "highway": 1}
    officers = ok(duty.call("GET", "/api/duty/officers"))
    assert len(officers) == 310
    per_kiosk = Tally(o["kiosk_id"] for o in officers if o["kiosk_id"])
    assert len(per_kiosk) == 9
    assert set(per_kiosk.values()) == {34}
    for kiosk in per_kiosk:
        mine = [o for o in officers if o["kiosk_id"] == kiosk]
        assert sum(bool(o["licence"]) for o in mine) >= 12, kiosk
        assert sum(o["accident"] for o in mine) >= 9, kiosk
    patterns = {p["code"] for p in ok(duty.call("GET", "/api/duty/patterns"))}
    assert {"4t3s", "4t2s", "cq3"} <= patterns


def test_an_officer_edited_and_audited(duty: Center) -> None:
    officer = ok(duty.call("GET", "/api/duty/officers"))[-1]
    change = {"rank": "一级警司", "licence": "B2"}
    path = f"/api/duty/officers/{officer['id']}"
    changed = ok(duty.call("PATCH", path, user="commander", json=change))
    assert changed["licence"] == "B2"
    assert changed["rank"] == "一级警司"
    bad = duty.call("PATCH", path, user="commander", json={"licence": "Z9"})
    assert bad.status_code == 422
    assert "licence" in bad.text
    assert duty.call("PATCH", path, user="dispatcher", json=change).status_code == 403
    emptied = duty.call("PATCH", path, user="commander", json={"accident": None})
    assert emptied.status_code == 422
    assert "accident" in emptied.json()["message"]
    with Session(duty.engine) as session:
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "officer", AuditEntry.entity_id == str(officer["id"])
            )
        ).all()
    assert audit
    assert audit[-1].username == "commander"


def test_a_custom_pattern_checked_and_versioned(duty: Center) -> None:
    body = {
        "code": "two12",
        "name_zh": "两班",
        "name_en": "two twelves",
        "shifts": [
            {"code": "D", "name_zh": "白班", "name_en": "day", "start": "08:00", "hours": 12},
            {"code": "N", "name_zh": "夜班", "name_en": "night", "start": "20:00", "hours": 12},
        ],
        "teams": 2,
        "cycle": ["D", "N", "-", "-"],
    }
    made = ok(duty.call("PUT", "/api/duty/patterns/two12", user="commander", json={"body": body}))
    assert made["version"] == 1
    stale = duty.call("PUT", "/api/duty/patterns/two12", user="commander", json={"body": body})
    assert stale.status_code == 409
    assert "version" in stale.text
    wrong = {**body, "cycle": ["D", "X", "-", "-"]}
    bad = duty.call(
        "PUT", "/api/duty/patterns/two12", user="commander", json={"body": wrong, "version": 1}
    )
    assert bad.status_code == 422
    assert "X" in bad.json()["message"]
    demand = {"kiosk_id": 1, "shift": "A", "day_kind": "workday", "cars": 1}
    bad = duty.call(
        "PUT", "/api/duty/demands", user="commander", json={"pattern": "two12", "demands": [demand]}
    )
    assert bad.status_code == 422
    assert "no shift 'A'" in bad.json()["message"]


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"month": "2026-13", "pattern": "4t3s"}, "YYYY-MM"),
        ({"month": "2026-12", "pattern": "4t3s", "time_limit_s": 0}, "time_limit_s"),
        ({"month": "2026-12", "pattern": "4t3s", "time_limit_s": float("nan")}, "NaN"),
        ({"month": "2026-12", "pattern": "nosuch"}, "nosuch"),
    ],
)
def test_a_bad_solve_request_names_its_rule(duty: Center, body: dict[str, Any], rule: str) -> None:
    import json

    reply = duty.client.post(
        "/api/duty/rosters",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **duty.as_("commander")},
    )
    assert 400 <= reply.status_code < 500, reply.text
    assert rule in reply.text, reply.text


def test_a_month_that_cannot_be_rostered_says_why(duty: Center) -> None:
    own = clerk_kiosk(duty)
    demands = [
        {"kiosk_id": own, "shift": s, "day_kind": k, "cars": 3, "crew": 6, "counter": 2}
        for s in ("D", "N")
        for k in ("workday", "restday", "holiday")
    ]
    pattern = {
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
    ok(duty.call("PUT", "/api/duty/patterns/tight", user="commander", json={"body": pattern}))
    ok(
        duty.call(
            "PUT",
            "/api/duty/demands",
            user="commander",
            json={"pattern": "tight", "demands": demands},
        )
    )
    roster = ok(
        duty.call(
            "POST",
            "/api/duty/rosters",
            user="commander",
            json={"month": "2027-02", "pattern": "tight", "time_limit_s": 10},
        ),
        201,
    )
    assert roster["status"] == "infeasible", roster
    assert roster["why"]
    assert any(f"kiosk {own}" in why for why in roster["why"]), roster["why"]
    path = f"/api/duty/rosters/{roster['id']}/publish"
    refused = duty.call("POST", path, user="commander", json={"version": roster["version"]})
    assert refused.status_code == 409
    assert "not solved" in refused.text


# --- the month rostered ---


def test_the_roster_meets_every_cover_and_rule(duty: Center, published: dict[str, Any]) -> None:
    roster, calendar = published["roster"], published["calendar"]
    assert roster["state"] == "published"
    assert roster["gap"] is not None
    assert roster["bound"] <= roster["objective"] + 1e-6
    officers = {o["id"]: o for o in calendar["officers"]}
    demands = ok(duty.call("GET", "/api/duty/demands?pattern=4t3s"))
    cars: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    heads: Tally[tuple[int, str, str]] = Tally()
    for s in calendar["shifts"]:
        heads[(s["kiosk_id"], s["day"], s["shift"])] += 1
        if s["post"] == "car":
            cars[(s["unit_id"], s["day"], s["shift"])].append(officers[s["officer_id"]])
    for crew in cars.values():
        assert len(crew) == 2
        assert any(o["licence"] for o in crew)
        assert any(o["accident"] for o in crew)
    kinds = {d["kiosk_id"]: {} for d in demands}
    for d in demands:
        kinds[d["kiosk_id"]][(d["shift"], d["day_kind"])] = d
    worked = sorted(calendar["shifts"], key=lambda s: (s["officer_id"], s["starts_at"]))
    for before, after in itertools.pairwise(worked):
        if before["officer_id"] == after["officer_id"]:
            rest = datetime.fromisoformat(after["starts_at"]) - datetime.fromisoformat(
                before["ends_at"]
            )
            assert rest >= timedelta(hours=11), (before, after)
    # every (kiosk, day, shift) with a demand of cars has at least its heads
    cars_needed = sum(1 for d in demands if d["cars"])
    assert cars_needed
    assert min(heads.values()) >= 4


def test_the_crews_follow_the_roster(duty: Center, published: dict[str, Any]) -> None:
    rostered = rostered_crews(published["calendar"])
    assert crews_now(duty) == rostered
    with Session(duty.engine) as session:
        crew_rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "crew", AuditEntry.username == "system")
        ).all()
        ledger = session.scalars(select(LedgerEntry)).all()
        nights = session.scalars(
            select(DutyShift).where(
                DutyShift.roster_id == published["roster"]["id"], DutyShift.shift == "N"
            )
        ).all()
    assert crew_rows
    assert all("shift change" in r.reason for r in crew_rows)
    assert sum(e.nights for e in ledger) == len(nights) > 0


def test_the_officer_sees_his_next_shifts(duty: Center, published: dict[str, Any]) -> None:
    mine = ok(duty.call("GET", "/api/me/shifts", user="officer"))
    assert mine
    assert all(s["ends_at"] > datetime.now(UTC).isoformat() for s in mine)
    starts = [s["starts_at"] for s in mine]
    assert starts == sorted(starts)
    assert ok(duty.call("GET", "/api/me/shifts", user="kiosk_clerk")) == []


def test_a_second_publish_is_refused(duty: Center, published: dict[str, Any]) -> None:
    roster = published["roster"]
    path = f"/api/duty/rosters/{roster['id']}/publish"
    again = duty.call("POST", path, user="commander", json={"version": roster["version"]})
    assert again.status_code == 409


def test_the_recommender_skips_an_uncrewed_car(duty: Center, published: dict[str, Any]) -> None:
    duty.fleet_at_kiosks()
    crews = crews_now(duty)
    unit_id, crew = sorted(crews.items())[0]
    first, second = sorted(crew)
    for officer in (first, second):
        body = {"leaves": officer, "reason": "sent to hospital with a casualty"}
        ok(duty.call("POST", f"/api/duty/crews/{unit_id}/swap", json=body))
    try:
        lon, lat = next(iter(kiosk_points(duty).values()))
        incident = call_at(duty, lon, lat)
        ranked = ok(duty.call("GET", f"/api/incidents/{incident['id']}/recommendations"))
        mine = next(c for c in ranked["candidates"] if c["unit_id"] == unit_id)
        assert not mine["eligible"]
        assert mine["reason"] == "no crew on duty"
        assert unit_id not in ranked["chosen"]
        refused = duty.call(
            "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [unit_id]}
        )
        assert refused.status_code == 409
        assert "no crew" in refused.text
        duty.call("POST", f"/api/incidents/{incident['id']}/cancel", json={"reason": "test"})
    finally:
        for officer in (first, second):
            body = {"joins": officer, "reason": "back from hospital"}
            ok(duty.call("POST", f"/api/duty/crews/{unit_id}/swap", json=body))
    assert crews_now(duty)[unit_id] == crew


def test_a_swap_is_audited_and_the_phone_follows(duty: Center, published: dict[str, Any]) -> None:
    crews = crews_now(duty)
    (a, crew_a), (b, crew_b) = sorted(crews.items())[-2:]
    moving = min(crew_a)
    phone = f"phone-{duty.kind}-{moving}"
    secret = ok(
        duty.call(
            "POST",
            "/api/devices",
            user="commander",
            json={"device_id": phone, "protocol": "osmand", "officer_id": moving, "unit_id": a},
        ),
        201,
    )["secret"]
    moved = ok(
        duty.call(
            "POST", f"/api/duty/crews/{b}/swap", json={"joins": moving, "reason": "reinforce"}
        )
    )
    assert moving in {o["id"] for o in moved["crew"]}
    assert moving not in crews_now(duty).get(a, set())
    lon, lat = next(iter(kiosk_points(duty).values()))
    lon, lat = lon + 0.0003, lat + 0.0002
    # after the car terminal's last fix: the unit is where its newest fix puts it
    stamp = max(int(time.time()), max(duty.last_fix.values(), default=0) + 1)
    params = {"id": phone, "key": secret, "lon": lon, "lat": lat, "timestamp": stamp}
    assert duty.client.get("/api/osmand", params=params).status_code == 200
    deadline = time.monotonic() + 10
    while (unit := unit_of(duty, b))["lon"] != pytest.approx(lon):
        assert time.monotonic() < deadline, unit
        time.sleep(0.2)
    with Session(duty.engine) as session:
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "crew", AuditEntry.username == "dispatcher"
            )
        ).all()
    assert {r.entity_id for r in audit} >= {str(a), str(b)}
    back = {"joins": moving, "reason": "back to his own car"}
    ok(duty.call("POST", f"/api/duty/crews/{a}/swap", json=back))
    assert crews_now(duty)[a] == crew_a
    assert crews_now(duty)[b] == crew_b
    bad = duty.call("POST", f"/api/duty/crews/{a}/swap", json={"reason": "nobody"})
    assert bad.status_code == 422
    officer = duty.call(
        "POST", f"/api/duty/crews/{a}/swap", user="officer", json={"joins": moving, "reason": "x"}
    )
    assert officer.status_code == 403


def test_a_kiosk_emptied_by_dispatch_is_unstaffed(duty: Center, published: dict[str, Any]) -> None:
    own = published["own"]
    duty.fleet_at_kiosks()
    crews = crews_now(duty)
    units = [
        u
        for u in ok(duty.call("GET", "/api/duty/crews"))
        if u["kiosk_id"] == own and u["unit_id"] in crews
    ]
    for unit in units:
        path = f"/api/units/{unit['unit_id']}/status"
        ok(duty.call("POST", path, json={"status": "at_kiosk", "reason": "back at the kiosk"}))
    status = {k["kiosk_id"]: k for k in ok(duty.call("GET", "/api/kiosks/status"))}
    assert status[own]["staffed"]
    assert status[own]["on_hand"]["standing_by"] == len(units)
    assert status[own]["on_hand"]["counter_officers"] == 0
    assert status[own]["clerks"] == 0
    lon, lat = next(iter(kiosk_points(duty).values()))
    incident = call_at(duty, lon, lat)
    body = {"unit_ids": [u["unit_id"] for u in units]}
    ok(duty.call("POST", f"/api/incidents/{incident['id']}/dispatch", json=body), 201)
    try:
        status = {k["kiosk_id"]: k for k in ok(duty.call("GET", "/api/kiosks/status"))}
        assert not status[own]["staffed"]
        assert status[own]["on_hand"]["out"] == len(units)
        today = ok(duty.call("GET", "/api/counter/today", user="kiosk_clerk"))
        assert not today["staffed"]
        assert today["on_hand"]["standing_by"] == 0
        code = walk_in_service(duty)
        walk_in = duty.call(
            "POST", "/api/counter/tickets", user="kiosk_clerk", json={"service": code}
        )
        assert walk_in.status_code == 409
        assert "no one at its counter" in walk_in.text
        ok(duty.call("POST", "/api/counter/open", user="kiosk_clerk"))
        ok(
            duty.call("POST", "/api/counter/tickets", user="kiosk_clerk", json={"service": code}),
            201,
        )
        ok(duty.call("POST", "/api/counter/close", user="kiosk_clerk"))
    finally:
        duty.call("POST", f"/api/incidents/{incident['id']}/cancel", json={"reason": "test"})


def test_two_publishers_racing_one_wins(duty: Center, published: dict[str, Any]) -> None:
    roster = ok(
        duty.call(
            "POST",
            "/api/duty/rosters",
            user="commander",
            json={"month": "2031-03", "pattern": "4t3s", "time_limit_s": 20},
        ),
        201,
    )
    assert roster["status"] in {"optimal", "feasible"}
    duty.login("commander")
    duty.login("admin")
    results: list[int] = []

    def publish(user: str) -> None:
        reply = duty.call(
            "POST",
            f"/api/duty/rosters/{roster['id']}/publish",
            user=user,
            json={"version": roster["version"]},
        )
        results.append(reply.status_code)

    threads = [threading.Thread(target=publish, args=(u,)) for u in ("commander", "admin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409], results


def test_attendance_flags_silent_and_away(duty: Center, published: dict[str, Any]) -> None:
    state = duty.client.app.state.jiaoxun
    with Session(duty.engine) as session:
        shift = session.scalars(
            select(DutyShift)
            .where(DutyShift.roster_id == published["roster"]["id"], DutyShift.post == Post.CAR)
            .order_by(DutyShift.starts_at)
        ).first()
        assert shift is not None
        at = shift.starts_at + timedelta(minutes=30)
        elsewhere = session.scalars(select(Kiosk).where(Kiosk.id != shift.kiosk_id)).first()
        assert elsewhere is not None
        phone = Device(
            device_id=f"att-{duty.kind}-{shift.officer_id}",
            protocol="osmand",
            officer_id=shift.officer_id,
            unit_id=shift.unit_id,
            last_seen_at=at - timedelta(minutes=1),
            online=True,
        )
        session.add(phone)
        session.add(
            TrackPoint(
                device_id=phone.device_id,
                unit_id=shift.unit_id,
                at=at - timedelta(minutes=1),
                lon=elsewhere.lon,
                lat=elsewhere.lat,
                edge=-1,
                fraction=0.0,
                source="test",
            )
        )
        session.flush()
        flags = attendance(session, state.city, now=at, silent_after=timedelta(minutes=5))
        mine = [(f.flag, f.detail) for f in flags if f.officer.id == shift.officer_id]
        others = {f.flag for f in flags if f.officer.id != shift.officer_id}
        later = attendance(
            session, state.city, now=at + timedelta(minutes=20), silent_after=timedelta(minutes=5)
        )
        silent = {f.officer.id for f in later if f.flag == "silent"}
        officer_id = shift.officer_id
        session.rollback()
    assert [flag for flag, _ in mine] == ["away"], mine
    assert "his post is zone" in mine[0][1]
    assert others <= {"silent", "no_device", "away"}
    assert others
    assert officer_id in silent


def test_leave_is_kept_and_checked(duty: Center, published: dict[str, Any]) -> None:
    leave = published["leave"]
    days = {leave["first_day"], leave["last_day"]}
    worked = [
        s
        for s in published["calendar"]["shifts"]
        if s["officer_id"] == leave["officer_id"]
        and leave["first_day"] <= s["day"] <= leave["last_day"]
    ]
    assert worked == [], days
    month = leave["first_day"][:7]
    listed = ok(duty.call("GET", f"/api/duty/absences?month={month}", user="commander"))
    assert leave["officer_id"] in {a["officer_id"] for a in listed}
    backwards = {**leave, "first_day": leave["last_day"], "last_day": leave["first_day"]}
    refused = duty.call("POST", "/api/duty/absences", user="commander", json=backwards)
    assert refused.status_code == 422
    assert "before it begins" in refused.text
    shiftless = {**leave, "kind": "shift"}
    refused = duty.call("POST", "/api/duty/absences", user="commander", json=shiftless)
    assert refused.status_code == 422
    request = {**leave, "kind": "day_off", "first_day": "2031-05-01", "last_day": "2031-05-01"}
    made = ok(duty.call("POST", "/api/duty/absences", user="commander", json=request), 201)
    ok(duty.call("DELETE", f"/api/duty/absences/{made['id']}", user="commander"), 204)
    gone = duty.call("DELETE", f"/api/duty/absences/{made['id']}", user="commander")
    assert gone.status_code == 404
    assert (
        duty.call("GET", f"/api/duty/absences?month={month}", user="dispatcher").status_code == 403
    )


def test_the_next_shift_start_makes_the_next_crews(duty: Center, published: dict[str, Any]) -> None:
    """At the next shift start the crews become that shift's (in a transaction rolled back, so
    the server's own round keeps the shift under way for the other tests)."""
    calendar = published["calendar"]
    now = datetime.now(UTC)
    later = sorted({s["starts_at"] for s in calendar["shifts"] if s["starts_at"] > now.isoformat()})
    if not later:
        pytest.skip("the month's last shift is under way")
    start = datetime.fromisoformat(later[0])
    expected: dict[int, set[int]] = defaultdict(set)
    for s in calendar["shifts"]:
        begins, ends = datetime.fromisoformat(s["starts_at"]), datetime.fromisoformat(s["ends_at"])
        if s["post"] == "car" and begins <= start + timedelta(minutes=1) < ends:
            expected[s["unit_id"]].add(s["officer_id"])
    with Session(duty.engine) as session:
        change = apply_shift_change(session, now=start + timedelta(minutes=1))
        again = apply_shift_change(session, now=start + timedelta(minutes=2))
        crews: dict[int, set[int]] = defaultdict(set)
        for officer in session.scalars(select(Officer).where(Officer.unit_id.is_not(None))):
            crews[officer.unit_id or 0].add(officer.id)
        session.rollback()
    assert change is not None
    assert again is None  # once per shift start
    assert dict(crews) == dict(expected)
