"""Two real server processes on one PostgreSQL database, their events shared through NATS
JetStream: what happens on one shows on the other's event stream."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import nats
import pytest
from live import Server, free_port, start_server
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from jiaoxun.db import make_engine
from jiaoxun.incidents.models import Incident
from jiaoxun.tracking.models import TrackPoint
from jiaoxun.tracking.partitions import partition_of

Pair = tuple[Server, Server, dict[str, str]]


@contextmanager
def two_processes(
    new_database: Callable[[str], str], nats_url: str, data: Path, cache_dir: Path
) -> Iterator[Pair]:
    """Two server processes on one new PostgreSQL database and a bus stream of their own."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    bus = {"JIAOXUN_BUS_URL": nats_url, "JIAOXUN_BUS_NAME": name}
    first, passwords = start_server(
        database_url=new_database("postgresql"), data=data, cache_dir=cache_dir, extra=bus
    )
    ports = {"JIAOXUN_PORT": str(free_port()), "JIAOXUN_JT808_PORT": str(free_port())}
    second = Server({**first.env, **ports}, data / "second.log")
    try:
        second.start()
        yield first, second, passwords
    finally:
        second.stop()
        first.stop()
        asyncio.run(_delete_stream(nats_url, name))


@pytest.fixture(scope="module")
def pair(
    new_database: Callable[[str], str],
    nats_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Pair]:
    data = tmp_path_factory.mktemp("two-processes")
    with two_processes(new_database, nats_url, data, cache_dir) as servers:
        yield servers


async def _delete_stream(url: str, name: str) -> None:
    client = await nats.connect(url)
    try:
        await client.jetstream().delete_stream(name)
        await client.jetstream().delete_key_value(f"{name}-owners")
    finally:
        await client.close()


def bearer(server: Server, user: str, password: str) -> dict[str, str]:
    login = {"username": user, "password": password}
    reply = httpx.post(f"{server.url}/api/auth/token", json=login)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def stream_of(server: Server, headers: dict[str, str]) -> ClientConnection:
    ticket = httpx.post(f"{server.url}/api/events/ticket", headers=headers).json()["ticket"]
    return connect(f"ws://127.0.0.1:{server.port}/api/events?ticket={ticket}")


def first_event(
    stream: ClientConnection, wanted: Callable[[dict[str, Any]], bool], timeout_s: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        event: dict[str, Any] = json.loads(stream.recv(timeout=max(deadline - time.monotonic(), 0)))
        if wanted(event):
            return event


CALL = {
    "lon": 126.65,
    "lat": 45.745,
    "category_code": "020100",
    "caller_phone": "13900000000",
    "description": "two processes",
}


def test_a_call_and_a_fix_taken_by_one_process_show_on_the_others_stream(pair: Pair) -> None:
    a, b, passwords = pair
    on_a = bearer(a, "dispatcher", passwords["dispatcher"])
    on_b = bearer(b, "dispatcher", passwords["dispatcher"])
    with stream_of(b, on_b) as stream:
        created = httpx.post(f"{a.url}/api/incidents", headers=on_a, json=CALL)
        assert created.status_code == 201, created.text
        incident_id = created.json()["id"]
        event = first_event(
            stream, lambda e: e["kind"] == "incident" and e["data"].get("id") == incident_id
        )
        assert event["data"]["state"] == created.json()["state"]

        commander = bearer(a, "commander", passwords["commander"])
        unit = httpx.get(f"{a.url}/api/units", headers=commander).json()[0]
        device = {"device_id": "phone-on-a", "protocol": "osmand", "unit_id": unit["id"]}
        registered = httpx.post(f"{a.url}/api/devices", headers=commander, json=device)
        assert registered.status_code == 201, registered.text
        fix = {
            "id": "phone-on-a",
            "key": registered.json()["secret"],
            "lat": 45.7461,
            "lon": 126.6512,
            "timestamp": int(time.time()) - 5,
        }
        assert httpx.get(f"{a.url}/api/osmand", params=fix).text == "OK"
        moved = first_event(stream, lambda e: e["kind"] == "unit" and e["action"] == "moved")
        assert moved["data"]["unit_id"] == unit["id"]
        assert moved["data"]["lat"] == fix["lat"]


def test_two_dispatchers_on_two_processes_racing_for_one_car_one_wins(pair: Pair) -> None:
    a, b, passwords = pair
    desks = [(s, bearer(s, "dispatcher", passwords["dispatcher"])) for s in (a, b)]
    incidents = []
    for server, headers in desks:
        created = httpx.post(f"{server.url}/api/incidents", headers=headers, json=CALL)
        assert created.status_code == 201, created.text
        incidents.append(created.json()["id"])
    units = httpx.get(f"{a.url}/api/units", headers=desks[0][1]).json()
    car = units[-1]  # on duty at its kiosk, free
    start = threading.Barrier(2)

    def send(desk: tuple[Server, dict[str, str]], incident_id: int) -> httpx.Response:
        server, headers = desk
        start.wait()
        body = {"unit_ids": [car["id"]]}
        return httpx.post(
            f"{server.url}/api/incidents/{incident_id}/dispatch", headers=headers, json=body
        )

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(send, desks, incidents))
    assert sorted(r.status_code for r in replies) == [201, 409], [r.text for r in replies]
    lost = next(r for r in replies if r.status_code == 409).json()
    assert lost["error"]
    assert car["call_sign"] in lost["message"] or str(car["id"]) in lost["message"]


def test_a_device_registered_through_one_process_reports_through_the_other(pair: Pair) -> None:
    a, b, passwords = pair
    commander = bearer(a, "commander", passwords["commander"])
    unit = httpx.get(f"{a.url}/api/units", headers=commander).json()[1]
    device = {"device_id": "phone-for-b", "protocol": "osmand", "unit_id": unit["id"]}
    registered = httpx.post(f"{a.url}/api/devices", headers=commander, json=device)
    assert registered.status_code == 201, registered.text
    with stream_of(b, bearer(b, "dispatcher", passwords["dispatcher"])) as stream:
        deadline, answer, second = time.monotonic() + 10, "", int(time.time()) - 60
        while answer != "OK" and time.monotonic() < deadline:
            second += 1
            fix = {
                "id": "phone-for-b",
                "key": registered.json()["secret"],
                "lat": 45.7471,
                "lon": 126.6522,
                "timestamp": second,
            }
            answer = httpx.get(f"{b.url}/api/osmand", params=fix).text
            time.sleep(0.1)
        assert answer == "OK"  # B learnt of the device from A's event, without a restart
        moved = first_event(
            stream, lambda e: e["kind"] == "unit" and e["data"]["unit_id"] == unit["id"]
        )
        assert moved["data"]["lat"] == fix["lat"]


def partitions_of(server: Server) -> set[int]:
    return set(httpx.get(f"{server.url}/api/health", timeout=5).json()["partitions"])


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.2)


def test_kill_9_of_one_process_loses_no_acknowledged_fix_and_its_devices_move_to_the_other(
    new_database: Callable[[str], str],
    nats_url: str,
    tmp_path: Path,
    cache_dir: Path,
) -> None:
    with two_processes(new_database, nats_url, tmp_path, cache_dir) as (a, b, passwords):
        wait_for(
            lambda: (
                partitions_of(a) | partitions_of(b) == set(range(16))
                and not partitions_of(a) & partitions_of(b)
                and bool(partitions_of(a))
                and bool(partitions_of(b))
            ),
            "the devices shared between the two",
        )
        of_a = partitions_of(a)
        commander = bearer(a, "commander", passwords["commander"])
        units = httpx.get(f"{a.url}/api/units", headers=commander).json()
        names = [f"burst-{n}" for n in range(200)]
        on_a = [d for d in names if partition_of(d, 16) in of_a][:4]
        on_b = [d for d in names if partition_of(d, 16) not in of_a][:4]
        assert len(on_a) == len(on_b) == 4, (of_a, partitions_of(b), on_a, on_b)
        secrets = {}
        for device_id, unit in zip(on_a + on_b, units, strict=False):
            body = {"device_id": device_id, "protocol": "osmand", "unit_id": unit["id"]}
            reply = httpx.post(f"{a.url}/api/devices", headers=commander, json=body)
            assert reply.status_code == 201, reply.text
            secrets[device_id] = reply.json()["secret"]
        dispatcher = bearer(b, "dispatcher", passwords["dispatcher"])
        wait_for(  # B has read the devices registered through A: it refuses the position only
            lambda: all(
                httpx.get(
                    f"{b.url}/api/osmand",
                    params={"id": d, "key": secrets[d], "lat": 45.0, "lon": 200.0},
                ).status_code
                == 422
                for d in secrets
            ),
            "the devices known to B",
        )

        acknowledged: list[tuple[str, int]] = []
        calls: list[int] = []
        answers: Counter[int] = Counter()
        stop, killed_at = threading.Event(), [0.0]
        start = int(time.time()) - 600

        def phones() -> None:
            with httpx.Client(base_url=b.url, timeout=60) as client:
                for step in range(100_000):
                    if stop.is_set():
                        return
                    device_id = (on_a + on_b)[step % 8]
                    second = start + step // 8
                    fix = {
                        "id": device_id,
                        "key": secrets[device_id],
                        "lat": 45.745 + step // 8 * 1e-5,
                        "lon": 126.65 + (step % 8) * 1e-3,
                        "timestamp": second,
                    }
                    reply = client.get("/api/osmand", params=fix)
                    answers[reply.status_code] += 1
                    if reply.text == "OK":
                        acknowledged.append((device_id, second))
                    time.sleep(0.02)

        def desk() -> None:
            with httpx.Client(base_url=b.url, timeout=60, headers=dispatcher) as client:
                while not stop.is_set():
                    reply = client.post("/api/incidents", json=CALL)
                    answers[reply.status_code] += 1
                    if reply.status_code == 201:
                        calls.append(reply.json()["id"])
                    time.sleep(0.3)

        workers = [threading.Thread(target=phones), threading.Thread(target=desk)]
        for worker in workers:
            worker.start()
        try:
            wait_for(lambda: len(acknowledged) >= 40, "a burst under way")
            a.kill_9()
            killed_at[0] = time.monotonic()
            wait_for(lambda: partitions_of(b) == set(range(16)), "B ingesting every device")
            after = len(acknowledged)
            wait_for(lambda: len(acknowledged) >= after + 40, "the burst going on through B")
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=90)
    assert set(answers) <= {200, 201}, answers  # no fix nor call refused on the way
    engine = make_engine(a.env["JIAOXUN_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            stored = Counter(
                (device_id, int(at.timestamp()))
                for device_id, at in conn.execute(
                    select(TrackPoint.device_id, TrackPoint.at).where(
                        TrackPoint.device_id.in_(on_a + on_b)
                    )
                )
            )
            kept_calls = set(conn.scalars(select(Incident.id).where(Incident.id.in_(calls))))
    finally:
        engine.dispose()
    assert set(acknowledged) <= set(stored)  # every fix answered OK is stored
    assert max(stored.values()) == 1  # and stored once
    assert kept_calls == set(calls)
    moved = [s for d, s in acknowledged[after:] if d in on_a]
    assert moved  # A's devices went on reporting, through B
