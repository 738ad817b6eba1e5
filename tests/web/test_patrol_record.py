"""Patrol duty as a record, through the real app: the testers' reproductions of issue 13.

A command center of its own per backend, so that the shared center's cars (which report from
their kiosks at every test) never get in the way of these tracks. Its one shift a day began
twelve hours ago (see conftest).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from center import Center
from sqlalchemy import func, select, text
from test_tracking_api import _point_and_elsewhere

from conftest import running_center
from jiaoxun.city.models import PatrolPoint
from jiaoxun.geo.osm import haversine_m
from jiaoxun.tracking.models import FenceEventRow, TrackPoint


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def patrol(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("patrol"), cache_dir, request.param
    ) as center:
        yield center


def unit(center: Center, call_sign: str) -> dict[str, Any]:
    return next(u for u in center.call("GET", "/api/units").json() if u["call_sign"] == call_sign)


def device(center: Center, name: str, call_sign: str) -> tuple[str, str]:
    body = {"device_id": name, "protocol": "osmand", "unit_id": unit(center, call_sign)["id"]}
    reply = center.call("POST", "/api/devices", user="commander", json=body)
    assert reply.status_code == 201, reply.text
    return name, reply.json()["secret"]


def send(
    center: Center, phone: tuple[str, str], lon: float, lat: float, at: datetime, **more: Any
) -> None:
    params = {"id": phone[0], "key": phone[1], "lon": lon, "lat": lat, "timestamp": at.isoformat()}
    reply = center.client.get("/api/osmand", params={**params, **more})
    assert reply.status_code == 200, reply.text


def point_of(center: Center, zone: str) -> PatrolPoint:
    """A mandatory point of the zone `zone` (by code)."""
    with center.engine.connect() as conn:
        zone_id = conn.execute(text("SELECT id FROM zone WHERE code = :c"), {"c": zone}).scalar()
        row = conn.execute(
            select(PatrolPoint).where(PatrolPoint.zone_id == zone_id).order_by(PatrolPoint.id)
        ).first()
    assert row is not None
    return row


def report(center: Center) -> Any:
    center.ingestor.flush_duty(now=datetime.now(UTC))
    reply = center.call("GET", "/api/patrol/report")
    assert reply.status_code == 200, reply.text
    return reply.json()


def unit_report(center: Center, call_sign: str) -> Any:
    return next(u for u in report(center)["units"] if u["unit"] == call_sign)


def point_report(center: Center, call_sign: str, point_id: int) -> Any:
    mine = unit_report(center, call_sign)
    return next(p for p in mine["duty"]["points"] if p["point_id"] == point_id)


def test_a_check_in_by_hand_with_no_track_is_never_a_visit(patrol: Center) -> None:
    """The testers' unit with no fix at all checked in 3 times in 3 s at a point needing
    a dwell, and the report said `visits 3, missed false`."""
    point = point_of(patrol, "Z02")
    me = unit(patrol, "JX02-1")
    replies = [
        patrol.call(
            "POST",
            f"/api/patrol/points/{point.id}/check-in",
            json={"unit_id": me["id"], "lon": point.lon, "lat": point.lat},
        )
        for _ in range(3)
    ]
    assert [r.status_code for r in replies] == [201, 201, 201], replies[0].text
    assert [r.json()["proved"] for r in replies] == [False, False, False]
    seen = point_report(patrol, "JX02-1", point.id)
    assert (seen["visits"], seen["status"]) == (0, "pending")
    assert seen["unproved"] >= 1


def test_a_check_in_by_hand_is_proved_by_the_unit_s_own_track(patrol: Center) -> None:
    point = point_of(patrol, "Z03")
    me = unit(patrol, "JX03-1")
    phone = device(patrol, f"proof-{patrol.kind}", "JX03-1")
    now = datetime.now(UTC).replace(microsecond=0)
    stay_s = int(point.dwell_min * 60) + 90
    for s in range(stay_s, 0, -30):
        send(patrol, phone, point.lon, point.lat, now - timedelta(seconds=s))
    body = {"unit_id": me["id"], "lon": point.lon, "lat": point.lat}
    first = patrol.call("POST", f"/api/patrol/points/{point.id}/check-in", json=body)
    again = patrol.call("POST", f"/api/patrol/points/{point.id}/check-in", json=body)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["proved"] is True
    assert again.json()["id"] == first.json()["id"]  # the same stay: the same check-in
    seen = point_report(patrol, "JX03-1", point.id)
    assert (seen["visits"], seen["unproved"]) == (1, 0)  # by dwelling and by hand: one visit


def test_two_devices_in_one_parked_car_drive_nowhere(patrol: Center) -> None:
    """A terminal and a phone 78 m apart on one parked car, every 5 s for 10 minutes: 9.2
    patrol km in the old report (the distance between their interleaved fixes)."""
    point = point_of(patrol, "Z04")
    terminal = device(patrol, f"terminal-{patrol.kind}", "JX04-2")
    phone = device(patrol, f"phone-{patrol.kind}", "JX04-2")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    east = point.lon + 78 / (111_320 * np.cos(np.radians(point.lat)))
    for i in range(120):
        at = start + timedelta(seconds=5 * i)
        send(patrol, terminal, point.lon, point.lat, at, accuracy=8)
        send(patrol, phone, east, point.lat, at + timedelta(seconds=2), accuracy=10)
    times = unit_report(patrol, "JX04-2")["times"]
    assert times["patrol_km"] < 0.05
    assert times["patrol_min"] == pytest.approx(595 / 60, abs=0.2)


def test_time_on_an_order_is_neither_patrol_nor_out_of_zone(patrol: Center) -> None:
    """JX05-1 patrols, is sent to a call, and patrols again: the order's minutes are the
    order's (the old report counted them as patrol and, being sent away, as out of zone)."""
    phone = device(patrol, f"order-{patrol.kind}", "JX05-1")
    me = unit(patrol, "JX05-1")
    base = datetime.now(UTC).replace(microsecond=0)
    lon, lat = me["lon"] or 126.65, me["lat"] or 45.745
    for s in (40, 30, 20, 10):
        send(patrol, phone, lon, lat, base - timedelta(seconds=s))
    incident = patrol.call(
        "POST", "/api/incidents", json={"lon": lon, "lat": lat, "category_code": "020100"}
    ).json()
    sent = patrol.call(
        "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [me["id"]]}
    )
    assert sent.status_code == 201, sent.text
    for _ in range(3):  # on the order, a second apart
        time.sleep(1.05)
        send(patrol, phone, lon, lat, datetime.now(UTC))
    close = {"outcome_code": "resolved", "outcome_text": "settled on the spot"}
    closed = patrol.call("POST", f"/api/incidents/{incident['id']}/close", json=close)
    assert closed.status_code == 200, closed.text
    time.sleep(1.05)
    send(patrol, phone, lon, lat, datetime.now(UTC))
    times = unit_report(patrol, "JX05-1")["times"]
    assert times["order_min"] * 60 >= 2.0
    assert times["patrol_min"] * 60 >= 30.0
    total_s = (times["order_min"] + times["patrol_min"]) * 60
    assert total_s == pytest.approx((datetime.now(UTC) - base).total_seconds() + 40, abs=3)


def test_a_restart_neither_announces_zone_entries_nor_loses_a_visit(patrol: Center) -> None:
    """Half-way through a dwell the server restarts (the duty resumed from the database):
    the visit goes on to its check-in, and no zone entry is announced for a car that never
    left its zone."""
    point = point_of(patrol, "Z06")
    phone = device(patrol, f"restart-{patrol.kind}", "JX06-2")
    me = unit(patrol, "JX06-2")
    dwell_s = int(point.dwell_min * 60)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=dwell_s + 120)
    half = dwell_s // 2
    for s in range(0, half, 30):
        send(patrol, phone, point.lon, point.lat, start + timedelta(seconds=s))
    with patrol.engine.connect() as conn:
        entries = conn.scalar(
            select(func.count()).select_from(FenceEventRow).where(FenceEventRow.unit_id == me["id"])
        )
    patrol.ingestor.reload_duty()  # what a start does: resume every duty from the database
    with patrol.client.websocket_connect(patrol.events_path("dispatcher")) as ws:
        for s in range(half, dwell_s + 60, 30):
            send(patrol, phone, point.lon, point.lat, start + timedelta(seconds=s))
        events = []
        while not any(e["kind"] == "check_in" for e in events):
            event = ws.receive_json()
            if event.get("data", {}).get("unit_id") == me["id"]:
                events.append(event)
    assert [e for e in events if e["kind"] == "zone"] == []
    (check_in,) = [e for e in events if e["kind"] == "check_in"]
    assert check_in["data"]["arrived_at"] == start.isoformat()
    with patrol.engine.connect() as conn:
        after = conn.scalar(
            select(func.count()).select_from(FenceEventRow).where(FenceEventRow.unit_id == me["id"])
        )
    assert after == entries


def test_a_fix_sent_twice_is_stored_once(patrol: Center) -> None:
    name, _ = device(patrol, f"replayed-{patrol.kind}", "JX07-1")
    at = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    body = {"positions": [{"device_id": name, "lon": 126.65, "lat": 45.745, "at": at.isoformat()}]}
    for _ in range(2):
        reply = patrol.call("POST", "/api/positions", user="commander", json=body)
        assert reply.status_code == 200, reply.text
    with patrol.engine.connect() as conn:
        stored = conn.scalar(
            select(func.count()).select_from(TrackPoint).where(TrackPoint.device_id == name)
        )
    assert stored == 1


def test_the_purge_finds_old_points_by_the_index_on_time(patrol: Center) -> None:
    """The index is there for the purge's query. PostgreSQL picks plans by table statistics
    (on a small table, a scan): with scans priced out, it must find the index."""
    keep = datetime.now(UTC) - timedelta(days=90)
    old = select(TrackPoint.id).where(TrackPoint.at < keep).limit(10_000)
    compiled = old.compile(patrol.engine, compile_kwargs={"literal_binds": True})
    with patrol.engine.connect() as conn:
        if patrol.kind == "sqlite":
            explain = f"EXPLAIN QUERY PLAN {compiled}"
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            explain = f"EXPLAIN {compiled}"
        plan = " ".join(str(row) for row in conn.execute(text(explain)))
    assert "ix_track_point_at" in plan


def test_the_report_is_a_csv_and_a_map(patrol: Center) -> None:
    csv_reply = patrol.call("GET", "/api/patrol/report.csv", params={"rows": "points"})
    assert csv_reply.status_code == 200
    assert csv_reply.headers["content-type"].startswith("text/csv")
    header, *rows = csv_reply.text.splitlines()
    assert header.startswith("zone,point_id,point,status")
    assert len(rows) == 60
    geojson = patrol.call("GET", "/api/patrol/report/map").json()
    layers = [f["properties"]["layer"] for f in geojson["features"]]
    assert (layers.count("line"), layers.count("point")) == (78, 60)
    driven = [f for f in geojson["features"] if f["properties"]["layer"] == "driven"]
    assert driven
    for feature in driven:  # every piece of road drawn lies on the map's roads
        for piece in feature["geometry"]["coordinates"]:
            lon, lat = np.array(piece).T
            assert haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum() < 50_000


def test_live_fixes_check_in_and_cross_zones(patrol: Center) -> None:
    """A car's fixes as they come: a check-in at a point, then out of its zone into another,
    announced on the event stream, and in the report."""
    phone = device(patrol, f"car5-{patrol.kind}", "JX05-3")
    point, (far_lon, far_lat), home, other = _point_and_elsewhere(patrol)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    fixes = [
        (point.lon, point.lat, start + timedelta(seconds=30 * i))
        for i in range(int(point.dwell_min * 2) + 3)
    ]
    t0 = fixes[-1][2]
    steps = 60  # drive to the other zone at a walking pace of the map: 20 s a step
    for i in range(1, steps + 1):
        share = i / steps
        lon = point.lon + share * (far_lon - point.lon)
        lat = point.lat + share * (far_lat - point.lat)
        fixes.append((lon, lat, t0 + timedelta(seconds=20 * i)))
    with patrol.client.websocket_connect(patrol.events_path("dispatcher")) as ws:
        for lon, lat, at in fixes:
            send(patrol, phone, lon, lat, at)
        seen: set[tuple[str, str]] = set()
        while not {("check_in", "created"), ("zone", "exit"), ("zone", "enter")} <= seen:
            event = ws.receive_json()
            seen.add((event["kind"], event["action"]))
    shift = report(patrol)
    mine = next(u for u in shift["units"] if u["unit"] == "JX05-3")
    assert mine["times"]["patrol_km"] > 1
    assert mine["check_ins"] >= 1
    assert {z["zone"] for z in shift["zones"]} >= {home, other}
