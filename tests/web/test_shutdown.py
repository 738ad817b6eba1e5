"""A real server stops on SIGTERM, promptly and without losing a position it acknowledged."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from live import start_server
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from jiaoxun.db import make_engine
from jiaoxun.tracking.models import TrackPoint

DEVICE = "shutdown-phone"


def _read_to_the_end(stream: ClientConnection) -> None:
    while True:
        stream.recv(timeout=5)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigterm_stops_the_server_within_10_s_and_keeps_every_acknowledged_fix(
    backend: str, new_database: Callable[[str], str], tmp_path: Path, cache_dir: Path
) -> None:
    url = new_database(backend)
    server, passwords = start_server(database_url=url, data=tmp_path, cache_dir=cache_dir)
    try:
        token = httpx.post(
            f"{server.url}/api/auth/token",
            json={"username": "commander", "password": passwords["commander"]},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        unit = httpx.get(f"{server.url}/api/units", headers=headers).json()[0]
        body = {"device_id": DEVICE, "protocol": "osmand", "unit_id": unit["id"]}
        registered = httpx.post(f"{server.url}/api/devices", headers=headers, json=body)
        secret = registered.json()["secret"]

        # a dispatcher's event stream, a terminal connected to the gateway, a phone sending
        acknowledged: list[int] = []
        stop = threading.Event()

        def phone() -> None:
            start = int(time.time()) - 3600
            with httpx.Client(base_url=server.url) as client:
                for i in range(100_000):
                    if stop.is_set():
                        return
                    params = {
                        "id": DEVICE,
                        "key": secret,
                        "lat": 45.745 + i * 1e-5,  # north, 1 m a second
                        "lon": 126.65,
                        "timestamp": start + i,
                    }
                    try:
                        if client.get("/api/osmand", params=params).text == "OK":
                            acknowledged.append(i)
                    except httpx.TransportError:
                        return  # the server is gone

        gateway = ("127.0.0.1", int(server.env["JIAOXUN_JT808_PORT"]))

        def stream() -> str:
            ticket = httpx.post(f"{server.url}/api/events/ticket", headers=headers).json()
            return f"ws://127.0.0.1:{server.port}/api/events?ticket={ticket['ticket']}"

        with (
            connect(stream()) as events,
            connect(f"{stream()}&moves_of={unit['id'] + 1}") as quiet,  # a stream with no news
            socket.create_connection(gateway),
        ):
            sender = threading.Thread(target=phone)
            sender.start()
            deadline = time.monotonic() + 30
            while len(acknowledged) < 50 and time.monotonic() < deadline:
                assert events.recv(timeout=10)  # fixes flow to the dispatcher
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            server.process.wait(timeout=30)
            took_s = time.monotonic() - stopped
            stop.set()
            sender.join(timeout=30)
            for stream in (events, quiet):
                with pytest.raises(ConnectionClosed):  # the server closed the stream
                    _read_to_the_end(stream)
    finally:
        server.stop()
    assert took_s < 10, server.log.read_text()[-3000:]
    log = server.log.read_text()
    assert "/api/osmand?id=" in log  # the phone's requests are logged, without the secret
    assert secret not in log
    assert token not in log
    # a clean shutdown; uvicorn then ends by the signal it caught, as a stopped process should
    assert "Application shutdown complete" in server.log.read_text()
    assert server.process.returncode == -signal.SIGTERM
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.scalar(
            select(func.count()).select_from(TrackPoint).where(TrackPoint.device_id == DEVICE)
        )
    engine.dispose()
    assert stored == len(acknowledged) >= 50
