"""A real command-center process (`python -m jiaoxun serve`) on a database of its own."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from jiaoxun.db import transaction
from jiaoxun.settings import Settings
from jiaoxun.users.passwords import hash_password
from jiaoxun.users.service import set_password_hash, user_named
from jiaoxun.web.app import create_app
from jiaoxun.web.server import prepare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def own_passwords(engine: Engine, names: list[str]) -> dict[str, str]:
    """Each user's first-login password changed once, as his first login would (the forced
    change itself is tested in test_users_api): the tests log in with passwords of their own."""
    passwords = {name: secrets.token_urlsafe(16) for name in names}
    with transaction(engine) as session:
        for name, password in passwords.items():
            user = user_named(session, name)
            set_password_hash(
                session,
                user_id=user.id,
                password_hash=hash_password(password),
                now=datetime.now(UTC),
            )
    return passwords


@dataclass
class Site:
    """The app served on a port of its own by a thread of the test's process, so that a test
    can reach into it (its dependencies, its database)."""

    app: FastAPI
    engine: Engine
    url: str
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, *, user: str | None = None, **kw: Any) -> httpx.Response:
        headers = {}
        if user is not None:
            if user not in self.tokens:
                login = {"username": user, "password": self.passwords[user]}
                reply = httpx.post(f"{self.url}/api/auth/token", json=login)
                self.tokens[user] = reply.json()["access_token"]
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)


@contextmanager
def served_in_thread(settings: Settings) -> Iterator[tuple[FastAPI, Engine, str, dict[str, str]]]:
    """The app of `settings` on a prepared database, served by uvicorn in a thread: its app,
    engine, address and the users' own passwords."""
    engine, users = prepare(settings)
    passwords = own_passwords(engine, list(users))
    app = create_app(settings, engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start in 60 s"
        time.sleep(0.05)
    try:
        yield app, engine, f"http://127.0.0.1:{port}", passwords
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        engine.dispose()


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


def start_server(
    *,
    database_url: str,
    data: Path,
    cache_dir: Path,
    extra: dict[str, str] | None = None,
    own_passwords: bool = True,
) -> tuple[Server, dict[str, str]]:
    """Prepare the database, start a server on free ports; returns it and the users' passwords:
    their first-login ones changed once through the API (as each user's first login must), or
    the first-login ones themselves when not `own_passwords`."""
    env = {
        **os.environ,
        "JIAOXUN_DATABASE_URL": database_url,
        "JIAOXUN_DATA_DIR": str(data),
        "JIAOXUN_CACHE_DIR": str(cache_dir),
        "JIAOXUN_PORT": str(free_port()),
        "JIAOXUN_JT808_PORT": str(free_port()),
        **(extra or {}),
    }
    settings = Settings(database_url=database_url, data_dir=data, cache_dir=cache_dir)
    engine, users = prepare(settings)
    engine.dispose()
    server = Server(env, data / "server.log")
    server.start()
    passwords = {name: password for name, (_, password) in users.items()}
    if own_passwords:
        passwords = {
            name: change_password(server, name, first) for name, first in passwords.items()
        }
    return server, passwords


def change_password(server: Server, username: str, password: str) -> str:
    """Log in with `password` and change it for a new random one, which is returned."""
    reply = httpx.post(
        f"{server.url}/api/auth/token", json={"username": username, "password": password}
    )
    assert reply.status_code == 200, reply.text
    new = secrets.token_urlsafe(16)
    changed = httpx.post(
        f"{server.url}/api/auth/password",
        json={"current_password": password, "new_password": new},
        headers={"Authorization": f"Bearer {reply.json()['access_token']}"},
    )
    assert changed.status_code == 204, changed.text
    return new
