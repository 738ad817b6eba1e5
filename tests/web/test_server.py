"""The command center as a real server process: nothing acknowledged is lost to a kill -9, two
dispatchers racing for one unit cannot both get it, and its event stream is sent uncompressed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from live import Server, start_server
from websockets.sync.client import connect


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[tuple[Server, dict[str, str]]]:
    server, passwords = start_server(
        database_url=new_database(request.param),
        data=tmp_path_factory.mktemp("server"),
        cache_dir=cache_dir,
    )
    tokens = {}
    for name in ("dispatcher", "commander"):
        reply = httpx.post(
            f"{server.url}/api/auth/token", json={"username": name, "password": passwords[name]}
        )
        tokens[name] = reply.json()["access_token"]
    yield server, tokens
    server.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_acknowledged_incident_survives_kill_9(server: tuple[Server, dict[str, str]]) -> None:
    srv, tokens = server
    headers = _auth(tokens["dispatcher"])
    created = httpx.post(
        f"{srv.url}/api/incidents",
        headers=headers,
        json={
            "lon": 126.64,
            "lat": 45.75,
            "category_code": "020100",
            "description": "kill -9 test",
        },
    )
    assert created.status_code == 201
    srv.kill_9()
    srv.start()
    again = httpx.get(f"{srv.url}/api/incidents/{created.json()['id']}", headers=headers)
    assert again.status_code == 200
    assert again.json()["number"] == created.json()["number"]
    assert again.json()["description"] == "kill -9 test"
    assert [e["to_state"] for e in again.json()["timeline"]] == ["taking", "taken"]


def _race(url: str, unit: int, contenders: list[tuple[int, dict[str, str]]]) -> list[int]:
    """Each contender dispatches `unit` to its incident at the same instant; their statuses."""
    start = threading.Barrier(len(contenders))
    answers: list[int] = []

    def dispatch(incident: int, headers: dict[str, str]) -> None:
        start.wait()
        reply = httpx.post(
            f"{url}/api/incidents/{incident}/dispatch",
            headers=headers,
            json={"unit_ids": [unit]},
            timeout=30,
        )
        answers.append(reply.status_code)

    threads = [threading.Thread(target=dispatch, args=c) for c in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_two_dispatchers_racing_for_one_unit(server: tuple[Server, dict[str, str]]) -> None:
    srv, tokens = server
    racers = {"dispatcher": _auth(tokens["dispatcher"]), "commander": _auth(tokens["commander"])}
    units = httpx.get(f"{srv.url}/api/units", headers=racers["dispatcher"]).json()
    free = [u["id"] for u in units if u["status"] in {"available", "at_kiosk"}]
    for round_, unit in enumerate(free[:5]):
        incidents = [
            httpx.post(
                f"{srv.url}/api/incidents",
                headers=headers,
                json={
                    "lon": 126.62 + 0.01 * round_,
                    "lat": 45.73 + 0.005 * i,
                    "category_code": "030100",
                },
            ).json()["id"]
            for i, headers in enumerate(racers.values())
        ]
        answers = _race(srv.url, unit, list(zip(incidents, racers.values(), strict=True)))
        assert sorted(answers) == [201, 409], answers
        orders = [
            httpx.get(f"{srv.url}/api/incidents/{i}", headers=racers["dispatcher"]).json()["orders"]
            for i in incidents
        ]
        assert sorted(len(o) for o in orders) == [0, 1]


def test_the_event_stream_is_not_compressed(server: tuple[Server, dict[str, str]]) -> None:
    """An event goes to every page: compressing it once per page cost the server a fifth of its
    loop beside 300 fixes a second. A client that offers permessage-deflate (as browsers and
    this one do) is answered without it, and still gets its events."""
    srv, tokens = server
    headers = _auth(tokens["dispatcher"])
    ticket = httpx.post(f"{srv.url}/api/events/ticket", headers=headers).json()["ticket"]
    with connect(f"ws://127.0.0.1:{srv.port}/api/events?ticket={ticket}") as stream:
        assert "permessage-deflate" in (stream.request.headers["Sec-WebSocket-Extensions"] or "")
        assert stream.response.headers.get("Sec-WebSocket-Extensions") is None
        body = {"lon": 126.64, "lat": 45.75, "category_code": "020100", "description": "plain"}
        created = httpx.post(f"{srv.url}/api/incidents", headers=headers, json=body).json()
        while True:
            event = json.loads(stream.recv(timeout=15))
            if event["kind"] == "incident" and event["data"]["id"] == created["id"]:
                break
