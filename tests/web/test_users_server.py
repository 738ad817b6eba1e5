"""Accounts against a real `jiaoxun serve` process: the printed first-login password must be
changed first; wrong passwords lock the account and, per client address, the address; a burst
of wrong logins neither blows the server's memory nor stops it answering.

Each test speaks from an address of its own in the loopback range (127.0.0.x), as clients on a
network would, so that one test's failures do not throttle another's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from live import Server, start_server

RULE = "password must be changed before anything else"


@pytest.fixture(scope="module")
def served(
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server whose seeded users still have the passwords it printed on first start."""
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("accounts"),
        cache_dir=cache_dir,
        own_passwords=False,
    )
    yield server, passwords
    server.stop()


def _client(server: Server, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=60)


def _login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/auth/token", json={"username": username, "password": password})


def test_the_printed_password_must_be_changed_first(served: tuple[Server, dict[str, str]]) -> None:
    server, passwords = served
    with _client(server, "127.0.0.2") as client:
        reply = _login(client, "dispatcher", passwords["dispatcher"])
        assert reply.status_code == 200, reply.text
        assert reply.json()["must_change_password"] is True
        headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}
        refused = client.get("/api/incidents", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["message"].startswith(RULE)
        assert client.get("/api/me", headers=headers).json()["must_change_password"] is True
        changed = client.post(
            "/api/auth/password",
            headers=headers,
            json={"current_password": passwords["dispatcher"], "new_password": "my own passphrase"},
        )
        assert changed.status_code == 204, changed.text
        assert client.get("/api/incidents", headers=headers).status_code == 200


def test_wrong_passwords_lock_the_account(served: tuple[Server, dict[str, str]]) -> None:
    server, passwords = served
    with _client(server, "127.0.0.3") as client:
        statuses = [_login(client, "officer", "a wrong guess").status_code for _ in range(5)]
        assert statuses == [401] * 5
        locked = _login(client, "officer", passwords["officer"])
        assert locked.status_code == 429
        assert 55 <= int(locked.headers["Retry-After"]) <= 60


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def test_a_burst_of_wrong_logins_hashes_two_at_a_time(
    served: tuple[Server, dict[str, str]],
) -> None:
    """16 wrong logins at once (each Argon2id hash takes 64 MiB): the server's memory grows by
    about two hashes' worth, not sixteen, and it goes on answering meanwhile."""
    server, _ = served
    assert server.process is not None
    pid = server.process.pid
    before = _rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            time.sleep(0.005)

    statuses: list[int] = []

    def wrong(i: int) -> None:
        with _client(server, "127.0.0.4") as client:
            statuses.append(_login(client, f"stranger-{i}", "a wrong guess").status_code)

    sampler = threading.Thread(target=sample)
    sampler.start()
    burst = [threading.Thread(target=wrong, args=(i,)) for i in range(16)]
    for thread in burst:
        thread.start()
    with _client(server, "127.0.0.5") as client:
        health = client.get("/api/health")
    for thread in burst:
        thread.join()
    done.set()
    sampler.join()
    assert statuses == [401] * 16
    assert health.status_code == 200
    assert peak[0] - before < 16 * 64 / 2, f"RSS {before:.0f} MB -> peak {peak[0]:.0f} MB"


def test_failed_logins_throttle_the_address(served: tuple[Server, dict[str, str]]) -> None:
    server, passwords = served
    with _client(server, "127.0.0.6") as client:
        statuses = [_login(client, f"guess-{i}", "a wrong guess").status_code for i in range(20)]
        assert statuses == [401] * 20
        throttled = _login(client, "commander", passwords["commander"])  # even a right one
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 60
        assert "20 failed logins from 127.0.0.6 within a minute" in throttled.json()["message"]
    with _client(server, "127.0.0.7") as other:
        assert _login(other, "commander", passwords["commander"]).status_code == 200
