"""Positions from phones (OsmAnd) and batches, through the real app and database."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center


def _unit(center: Center, call_sign: str) -> dict[str, Any]:
    return next(u for u in center.call("GET", "/api/units").json() if u["call_sign"] == call_sign)


@pytest.fixture(scope="module")
def phone(center: Center) -> dict[str, Any]:
    """A phone registered for unit JX02-1."""
    unit = _unit(center, "JX02-1")
    device = center.call(
        "POST",
        "/api/devices",
        user="commander",
        json={"device_id": f"phone-{center.kind}", "protocol": "osmand", "unit_id": unit["id"]},
    )
    assert device.status_code == 201, device.text
    return {"device": device.json()["device_id"], "unit": unit["id"]}


def test_only_a_commander_registers_devices(center: Center) -> None:
    reply = center.call("POST", "/api/devices", json={"device_id": "x1", "protocol": "osmand"})
    assert reply.status_code == 403


def test_a_phone_moves_its_unit_on_the_map(center: Center, phone: dict[str, Any]) -> None:
    token = center.login("dispatcher")
    with center.client.websocket_connect(f"/api/events?token={token}") as ws:
        reply = center.client.get(
            "/api/osmand",
            params={
                "id": phone["device"],
                "lat": "45.7561",
                "lon": "126.6412",
                "speed": "20",
                "timestamp": str(int(time.time())),
            },
        )
        assert reply.status_code == 200
        assert reply.text == "OK"
        event = ws.receive_json()
    assert (event["kind"], event["action"], event["data"]["unit_id"]) == (
        "unit",
        "moved",
        phone["unit"],
    )
    assert event["data"]["speed_kph"] == pytest.approx(37.04)
    unit = _unit(center, "JX02-1")
    assert (unit["lon"], unit["lat"]) == (126.6412, 45.7561)
    assert unit["fix_age_s"] < 60


def test_osmand_refuses_unknown_devices_and_bad_positions(
    center: Center, phone: dict[str, Any]
) -> None:
    unknown = center.client.get("/api/osmand", params={"id": "nobody", "lat": 45.7, "lon": 126.6})
    assert unknown.status_code == 404
    assert "not registered" in unknown.json()["message"]
    bad = center.client.get("/api/osmand", params={"id": phone["device"], "lat": 91, "lon": 126.6})
    assert bad.status_code == 422
    assert "latitude out of range" in bad.json()["message"]
    missing = center.client.post("/api/osmand", data={"lat": 45.7, "lon": 126.6})
    assert missing.status_code == 422
    assert "id (the device identifier) is required" in missing.json()["message"]
    stats = center.call("GET", "/api/tracking/stats").json()
    assert stats["rejected"]["unknown device"] >= 1
    assert stats["rejected"]["latitude out of range"] >= 1


def test_a_batch_is_filtered_stored_and_read_back_as_a_track(
    center: Center, phone: dict[str, Any]
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=30)
    positions = [
        {
            "device_id": phone["device"],
            "lon": 126.64 + 0.0002 * i,
            "lat": 45.75,
            "at": (start + timedelta(seconds=10 * i)).isoformat(),
            "speed_kph": 5,
        }
        for i in range(30)
    ]
    positions.append(dict(positions[5]))  # a duplicate
    positions.append(
        {**positions[6], "at": (start + timedelta(seconds=65)).isoformat(), "lon": 127.5}
    )  # 60 km in 5 s
    reply = center.call("POST", "/api/positions", json={"positions": positions})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "received": 32,
        "accepted": 30,
        "rejected": {"duplicate": 1, "impossible jump": 1},
    }
    track = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": start.isoformat(), "to": (start + timedelta(minutes=10)).isoformat()},
    ).json()
    assert track["total_points"] == 30
    assert [p["lon"] for p in track["points"]][:3] == pytest.approx([126.64, 126.6402, 126.6404])
    assert all(p["zone"] for p in track["points"])
    thin = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={
            "from": start.isoformat(),
            "to": (start + timedelta(minutes=10)).isoformat(),
            "step_s": 60,
        },
    ).json()
    assert len(thin["points"]) == 5  # one per minute of a 5-minute track


def test_track_requests_are_checked(center: Center, phone: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    reply = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()},
    )
    assert reply.status_code == 422
    assert "is after" in reply.json()["message"]
    assert center.call("GET", "/api/units/99999/track").status_code == 404
