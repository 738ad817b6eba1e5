"""A command center under test: its client, database and logged-in users."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jiaoxun.tracking.service import Ingestor


@dataclass
class Center:
    client: TestClient
    engine: Engine
    passwords: dict[str, str]
    tokens: dict[str, str]
    kind: str
    jt808_port: int
    #: the terminal of each car (`fleet_at_kiosks`): device id -> its secret, last fix's time
    terminals: dict[str, str] = field(default_factory=dict)
    last_fix: dict[str, int] = field(default_factory=dict)

    @property
    def ingestor(self) -> Ingestor:
        ingestor: Ingestor = self.client.app.state.jiaoxun.ingestor
        return ingestor

    def login(self, username: str) -> str:
        if username not in self.tokens:
            reply = self.client.post(
                "/api/auth/token",
                json={"username": username, "password": self.passwords[username]},
            )
            assert reply.status_code == 200, reply.text
            self.tokens[username] = reply.json()["access_token"]
        return self.tokens[username]

    def as_(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(username)}"}

    def events_path(self, user: str, **query: Any) -> str:
        """The event stream's path with a fresh one-time ticket of `user`."""
        reply = self.call("POST", "/api/events/ticket", user=user)
        assert reply.status_code == 201, reply.text
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"/api/events?ticket={reply.json()['ticket']}{extra}"

    def call(
        self, method: str, path: str, *, user: str = "dispatcher", **kw: Any
    ) -> httpx.Response:
        return self.client.request(method, path, headers=self.as_(user), **kw)

    def fleet_at_kiosks(self, *, fresh_s: float = 30.0) -> None:
        """Every car's terminal (registered once) sends a fix from its kiosk now, through the
        OsmAnd endpoint and the pipeline: the server knows where a car is only from its device.
        A fix's time is a whole second after the terminal's last one (no duplicate); a car that
        reported within `fresh_s` is not asked again (the fix-age limit is 120 s)."""
        if time.time() - min(self.last_fix.values(), default=0) < fresh_s:
            return
        city = self.call("GET", "/api/city/map").json()["layout"]["features"]
        kiosks = {
            f["properties"]["zone"]: f["geometry"]["coordinates"]
            for f in city
            if f["properties"]["layer"] == "kiosk"
        }
        for unit in self.call("GET", "/api/units").json():
            device = f"car-{self.kind}-{unit['call_sign']}"
            if device not in self.terminals:
                body = {"device_id": device, "protocol": "osmand", "unit_id": unit["id"]}
                reply = self.call("POST", "/api/devices", user="commander", json=body)
                assert reply.status_code == 201, reply.text
                self.terminals[device] = reply.json()["secret"]
            stamp = max(int(time.time()), self.last_fix.get(device, 0) + 1)
            self.last_fix[device] = stamp
            lon, lat = kiosks[unit["zone"]]
            params = {"id": device, "key": self.terminals[device], "lon": lon, "lat": lat}
            reply = self.client.get("/api/osmand", params={**params, "timestamp": stamp})
            assert reply.status_code == 200, reply.text
