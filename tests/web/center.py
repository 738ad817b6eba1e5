"""A command center under test: its client, database and logged-in users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine


@dataclass
class Center:
    client: TestClient
    engine: Engine
    passwords: dict[str, str]
    tokens: dict[str, str]
    kind: str
    jt808_port: int

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
