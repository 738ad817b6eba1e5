"""Issue 11's findings on positions and need to know, replayed against a real server process
(`python -m jiaoxun serve`) as the testers found them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from live import Server, start_server
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


class Client:
    def __init__(self, server: Server, passwords: dict[str, str]) -> None:
        self.server, self.passwords, self.tokens = server, passwords, dict[str, str]()

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            body = {"username": user, "password": self.passwords[user]}
            reply = httpx.post(f"{self.server.url}/api/auth/token", json=body)
            self.tokens[user] = reply.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, method: str, path: str, *, user: str = "dispatcher", **kw: Any) -> Any:
        return httpx.request(method, f"{self.server.url}{path}", headers=self.headers(user), **kw)

    def osmand(self, **params: Any) -> Any:
        return httpx.get(f"{self.server.url}/api/osmand", params=params)


@pytest.fixture(scope="module")
def center(
    new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> Iterator[Client]:
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("forgery"),
        cache_dir=cache_dir,
    )
    try:
        yield Client(server, passwords)
    finally:
        server.stop()


def _unit(center: Client, call_sign: str) -> dict[str, Any]:
    units = center.call("GET", "/api/units").json()
    return dict(next(u for u in units if u["call_sign"] == call_sign))


def test_finding_1_a_phone_cannot_be_forged_or_frozen(center: Client) -> None:
    unit = _unit(center, "JX02-1")
    body = {"device_id": "phone-officer-x", "protocol": "osmand", "unit_id": unit["id"]}
    secret = center.call("POST", "/api/devices", user="commander", json=body).json()["secret"]
    now = int(time.time())
    # the tester's forgery: a fix 5 minutes ahead by the guessable id, no secret
    forged = center.osmand(id="phone-officer-x", lat=45.70, lon=126.60, timestamp=now + 300)
    unknown = center.osmand(id="phone-nobody", lat=45.70, lon=126.60, timestamp=now)
    assert (forged.status_code, unknown.status_code) == (401, 401)
    assert forged.json() == unknown.json()  # nothing tells which ids exist
    ahead = center.osmand(id=secret, lat=45.70, lon=126.60, timestamp=now + 300)
    assert ahead.status_code == 422
    real = center.osmand(id=secret, lat=45.7561, lon=126.6412, timestamp=now)
    assert real.text == "OK"
    moved = _unit(center, "JX02-1")
    assert (moved["lon"], moved["lat"]) == (126.6412, 45.7561)


def test_finding_3_no_officer_moves_a_unit(center: Client) -> None:
    other = _unit(center, "JX04-1")
    batch = {
        "positions": [{"device_id": "x", "lon": 126.6, "lat": 45.7, "at": "2026-12-01T00:00:00Z"}]
    }
    assert center.call("POST", "/api/positions", user="officer", json=batch).status_code == 403
    fix = {"lon": 126.6, "lat": 45.7}
    gone = center.call("POST", f"/api/units/{other['id']}/fix", user="officer", json=fix)
    assert gone.status_code in (404, 405)
    assert center.call("GET", "/api/devices", user="officer").status_code == 403


def test_finding_4_the_stream_needs_a_ticket_and_the_right_role(center: Client) -> None:
    ws = f"ws://127.0.0.1:{center.server.port}/api/events"
    token = center.tokens.get("dispatcher") or center.headers("dispatcher")["Authorization"][7:]
    with pytest.raises(InvalidStatus), connect(f"{ws}?token={token}") as stream:
        stream.recv(timeout=5)
    clerk = center.call("POST", "/api/events/ticket", user="kiosk_clerk")
    assert clerk.status_code == 403
    ticket = center.call("POST", "/api/events/ticket").json()["ticket"]
    with connect(f"{ws}?ticket={ticket}") as stream:
        stream.ping().wait(5)
    assert token not in center.server.log.read_text()
    assert ticket not in center.server.log.read_text()


def test_finding_8_an_officer_reads_what_he_needs_to_know(center: Client) -> None:
    me = center.call("GET", "/api/me", user="officer").json()
    layout = center.call("GET", "/api/city/map").json()["layout"]["features"]
    away = next(
        f["geometry"]["coordinates"]
        for f in layout
        if f["properties"]["layer"] == "kiosk" and f["properties"]["zone"] != me["unit"]["zone"]
    )
    call = {"lon": away[0], "lat": away[1], "category_code": "020100", "caller_name": "王先生"}
    incident = center.call("POST", "/api/incidents", json=call).json()
    assert center.call("GET", f"/api/incidents/{incident['id']}", user="officer").status_code == 403
    listed = center.call("GET", "/api/incidents", user="officer").json()
    assert incident["id"] not in {i["id"] for i in listed}
    other = _unit(center, "JX04-1")
    track = center.call("GET", f"/api/units/{other['id']}/track", user="officer")
    assert track.status_code == 403
