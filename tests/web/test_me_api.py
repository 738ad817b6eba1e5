"""The officer's own page: who he is, his unit and its open orders, his phone as a GPS device."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center

from jiaoxun.users.roles import GRANTS, Role


def _me(center: Center, user: str = "officer") -> dict[str, Any]:
    reply = center.call("GET", "/api/me", user=user)
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


@pytest.fixture
def free_unit(center: Center) -> Iterator[int]:
    """The officer's unit, free of orders (earlier tests may have sent it somewhere)."""
    for order in _me(center)["orders"]:
        center.call(
            "POST",
            f"/api/incidents/{order['incident_id']}/close",
            json={"outcome_code": "test", "outcome_text": "cleanup"},
        )
    unit_id = _me(center)["unit"]["id"]
    status = center.call("POST", f"/api/units/{unit_id}/status", json={"status": "available"})
    assert status.status_code == 200, status.text
    yield unit_id
    for order in _me(center)["orders"]:
        center.call(
            "POST",
            f"/api/incidents/{order['incident_id']}/close",
            json={"outcome_code": "test", "outcome_text": "cleanup"},
        )


def test_me_says_who_i_am_and_what_i_may_do(center: Center) -> None:
    me = _me(center)
    assert (me["username"], me["role"]) == ("officer", "officer")
    assert me["permissions"] == sorted(p.value for p in GRANTS[Role.OFFICER])
    assert me["unit"]["call_sign"] == "JX01-1"
    assert set(me["unit"]) >= {"id", "call_sign", "zone", "status", "lon", "lat", "fix_at"}
    assert me["unit"]["zone"] == "Z01"
    dispatcher = _me(center, "dispatcher")
    assert (dispatcher["unit"], dispatcher["orders"], dispatcher["phone_device_id"]) == (
        None,
        [],
        None,
    )
    assert _me(center, "kiosk_clerk")["permissions"] == ["serve_citizens"]
    assert center.client.get("/api/me").status_code == 401


def test_my_orders_show_after_a_dispatch_and_go_when_done(center: Center, free_unit: int) -> None:
    incident = center.call(
        "POST",
        "/api/incidents",
        json={
            "lon": 126.65,
            "lat": 45.745,
            "category_code": "020100",
            "address": "红军街 12 号",
            "description": "两人争吵",
        },
    ).json()
    sent = center.call(
        "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [free_unit]}
    )
    assert sent.status_code == 201, sent.text
    (order,) = _me(center)["orders"]
    assert (order["id"], order["state"], order["unit_id"]) == (
        sent.json()[0]["id"],
        "issued",
        free_unit,
    )
    assert order["incident"] == {
        "id": incident["id"],
        "number": incident["number"],
        "category_code": "020100",
        "category_name": incident["category_name"],
        "priority": incident["priority"],
        "lon": 126.65,
        "lat": 45.745,
        "address": "红军街 12 号",
        "description": "两人争吵",
        "state": "dispatched",
    }
    ack = center.call(
        "POST", f"/api/orders/{order['id']}/status", user="officer", json={"state": "acknowledged"}
    )
    assert ack.status_code == 200, ack.text
    assert [o["state"] for o in _me(center)["orders"]] == ["acknowledged"]
    center.call(
        "POST", f"/api/orders/{order['id']}/status", user="officer", json={"state": "returned"}
    )
    assert _me(center)["orders"] == []


def test_the_phone_registers_once_and_then_reports(center: Center) -> None:
    me = _me(center)
    first = center.call("POST", "/api/me/phone", user="officer")
    assert first.status_code == 201, first.text
    assert first.json()["device_id"] == "phone-officer"
    secret = first.json()["secret"]
    assert len(secret) >= 32  # 192 bits, shown this once
    assert "org.traccar.client://config?url=" in first.json()["setup_url"]
    again = center.call("POST", "/api/me/phone", user="officer")
    assert again.status_code == 200
    assert again.json()["device_id"] == "phone-officer"
    assert "secret" not in again.json()
    assert _me(center)["phone_device_id"] == "phone-officer"
    devices = [
        d
        for d in center.call("GET", "/api/devices", user="commander").json()
        if d["device_id"] == "phone-officer"
    ]
    assert [(d["protocol"], d["unit_id"]) for d in devices] == [("osmand", me["unit"]["id"])]
    log = center.call("GET", "/api/audit", user="commander", params={"entity": "device"}).json()
    created = [e for e in log if e["detail"].get("device_id") == "phone-officer"]
    assert [(e["action"], e["username"]) for e in created] == [("create", "officer")]

    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        # Traccar Client, set up with the secret as its device identifier
        fields = {"lat": "45.7561", "lon": "126.6412", "timestamp": str(int(time.time()))}
        fix = center.client.get("/api/osmand", params={"id": secret, **fields})
        assert (fix.status_code, fix.text) == (200, "OK")
        event = ws.receive_json()
    assert (event["kind"], event["data"]["device_id"]) == ("unit", "phone-officer")
    assert event["data"]["unit_id"] == me["unit"]["id"]
    assert (_me(center)["unit"]["lon"], _me(center)["unit"]["lat"]) == (126.6412, 45.7561)

    # the officer's own page sends its positions under his login
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    own = {"lon": 126.6413, "lat": 45.7562, "at": at, "accuracy_m": 8}
    sent = center.call("POST", "/api/me/position", user="officer", json=own)
    assert sent.status_code == 204, sent.text
    assert _me(center)["unit"]["lon"] == 126.6413
    stale = center.call("POST", "/api/me/position", user="officer", json={**own, "lon": 126.7})
    assert stale.status_code == 409  # the same time again, elsewhere: refused, and said so
    nobody = center.call("POST", "/api/me/position", user="commander", json=own)
    assert nobody.status_code == 409
    assert "no phone registered" in nobody.json()["message"]


def test_only_a_user_with_a_unit_registers_a_phone(center: Center) -> None:
    reply = center.call("POST", "/api/me/phone", user="dispatcher")
    assert reply.status_code == 409
    assert "user dispatcher has no unit" in reply.json()["message"]
    assert center.call("POST", "/api/me/phone", user="kiosk_clerk").status_code == 403
    assert center.client.post("/api/me/phone").status_code == 401
