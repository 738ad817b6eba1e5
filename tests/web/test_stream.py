"""The event stream: a one-time ticket, never a token, in its URL; need to know; a dead
token closes the socket (issue 11, finding 4)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center
from sqlalchemy import update
from starlette.websockets import WebSocketDisconnect

from jiaoxun.users.models import ApiToken
from jiaoxun.web import stream


def _refused(center: Center, path: str) -> int:
    """The close code a socket at `path` gets before it is accepted."""
    with pytest.raises(WebSocketDisconnect) as closed, center.client.websocket_connect(path) as ws:
        ws.receive_json()
    return closed.value.code


def test_a_bearer_token_in_the_url_opens_nothing(center: Center) -> None:
    token = center.login("dispatcher")
    assert _refused(center, f"/api/events?token={token}") == 1008


def test_a_ticket_opens_one_socket_once(center: Center) -> None:
    path = center.events_path("dispatcher")
    with center.client.websocket_connect(path):
        pass
    assert _refused(center, path) == 1008


def test_a_kiosk_clerk_gets_no_stream(center: Center) -> None:
    """The clerk, refused on every REST read, received every position and incident."""
    reply = center.call("POST", "/api/events/ticket", user="kiosk_clerk")
    assert reply.status_code == 403
    assert center.client.post("/api/events/ticket").status_code == 401


def _incident(center: Center, lon: float, lat: float) -> dict[str, Any]:
    body = {"lon": lon, "lat": lat, "category_code": "020100", "description": "stream test"}
    reply = center.call("POST", "/api/incidents", json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_an_officer_sees_his_zones_incidents_only(center: Center) -> None:
    me = center.call("GET", "/api/me", user="officer").json()
    units = center.call("GET", "/api/units").json()
    mine = me["unit"]["zone"]
    layout = center.call("GET", "/api/city/map").json()["layout"]["features"]
    kiosks = {
        f["properties"]["zone"]: f["geometry"]["coordinates"]
        for f in layout
        if f["properties"]["layer"] == "kiosk"
    }
    other = next(z for z in kiosks if z != mine)
    assert {u["zone"] for u in units} >= {mine, other}
    with center.client.websocket_connect(center.events_path("officer")) as ws:
        away = _incident(center, *kiosks[other])
        home = _incident(center, *kiosks[mine])
        event = ws.receive_json()
    assert (event["kind"], event["data"]["id"]) == ("incident", home["id"])  # not `away`
    for incident in (away, home):
        center.call("POST", f"/api/incidents/{incident['id']}/cancel", json={"reason": "test"})


@pytest.mark.parametrize("death", ["revoked", "expired"])
def test_a_dead_token_closes_its_socket(
    center: Center, death: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "RECHECK_S", 0.2)
    reply = center.client.post(
        "/api/auth/token",
        json={"username": "dispatcher", "password": center.passwords["dispatcher"]},
    )
    token = reply.json()["access_token"]
    ticket = center.client.post(
        "/api/events/ticket", headers={"Authorization": f"Bearer {token}"}
    ).json()["ticket"]
    with center.client.websocket_connect(f"/api/events?ticket={ticket}") as ws:
        now = datetime.now(UTC)
        change = {"revoked_at": now} if death == "revoked" else {"expires_at": now}
        mine = ApiToken.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        with center.engine.begin() as conn:
            conn.execute(update(ApiToken).where(mine).values(**change))
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008
    assert time.monotonic() - started < 5


def test_spent_and_expired_tickets_are_purged(center: Center) -> None:
    sessions = center.client.app.state.jiaoxun.sessions  # type: ignore[attr-defined]
    stream.purge_tickets(sessions, now=datetime.now(UTC))  # those of the tests before
    center.events_path("dispatcher")  # a ticket, never used
    assert stream.purge_tickets(sessions, now=datetime.now(UTC)) == 0  # still good
    later = datetime.now(UTC) + stream.TTL + timedelta(seconds=1)
    assert stream.purge_tickets(sessions, now=later) >= 1
    assert stream.purge_tickets(sessions, now=later) == 0
