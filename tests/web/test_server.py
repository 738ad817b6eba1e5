"""The command center as a real server process: nothing acknowledged is lost to a kill -9, and
two dispatchers racing for one unit cannot both get it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from jiaoxun.settings import Settings
from jiaoxun.web.server import prepare


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m jiaoxun serve` on a database of its own."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = int(env["JIAOXUN_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jiaoxun", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def kill_9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill_9()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[tuple[Server, dict[str, str]]]:
    data = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "JIAOXUN_DATABASE_URL": new_database(request.param),
        "JIAOXUN_DATA_DIR": str(data),
        "JIAOXUN_CACHE_DIR": str(cache_dir),
        "JIAOXUN_PORT": str(_free_port()),
        "JIAOXUN_JT808_PORT": str(_free_port()),
    }
    settings = Settings(
        database_url=env["JIAOXUN_DATABASE_URL"], data_dir=data, cache_dir=cache_dir
    )
    engine, users = prepare(settings)
    engine.dispose()
    server = Server(env, data / "server.log")
    server.start()
    tokens = {}
    for name in ("dispatcher", "commander"):
        reply = httpx.post(
            f"{server.url}/api/auth/token", json={"username": name, "password": users[name][1]}
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
