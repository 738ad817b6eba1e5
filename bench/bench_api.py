"""Benchmark of the command center's HTTP API under load, on SQLite and on PostgreSQL.

For each backend a fresh database is prepared (demo city, reference data, users), the real
server is started as a subprocess (`jiaoxun serve`) and driven over loopback by concurrent
clients in this process, each a dispatcher at a desk with a connection and a token of his own.
First every client logs in; then, as the floor of the HTTP stack, every client loops
GET /api/health; then every client loops the 110 cycle for the given duration:

    take a call at a random point of the demo city (a new point when it is off the roads),
    rank the units, send the first unit chosen (another dispatcher may have taken it: a 409,
    then rank again, three tries at most), the unit reports acknowledged, en_route, arrived,
    its GPS fix at the scene, done; the incident is closed.

The fix is part of the cycle because a unit released by "done" stands where its last fix puts
it: without one it has no position and cannot be recommended again. With 27 units and 50
clients most calls find no free unit or lose the race: that is the contention under test.

    .venv/bin/python bench/bench_api.py [--clients 50] [--seconds 20] [--backend both] [--logs DIR]
        [--smoke]

Figures are per request type: count, throughput, median and 99th percentile latency, the ratio
of the median to the health check's, and the answers that were not 2xx; 5xx answers, transport
failures and the server's tracebacks are printed in red below. `--logs` keeps the servers' logs.
The script exits 0. `--smoke` runs 8 clients for 2 s, on PostgreSQL too when one answers; it
exits 1 when a backend fails or the server answers a 5xx, fails a transport or logs a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from harness import cache_folder, fail_on, parse_args, ready_server_city
from jiaoxun.db import make_engine, transaction
from jiaoxun.settings import Settings
from jiaoxun.tracking.models import Device
from jiaoxun.units.models import Unit

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_PROBE_S = 3
LON_RANGE, LAT_RANGE = (126.605, 126.695), (45.72, 45.77)
CATEGORIES = ("020100", "030100", "010100")  # fight, traffic accident, homicide
ORDER_STEPS = ("acknowledged", "en_route", "arrived", "done")
DISPATCH_TRIES = 3
LOGIN_TRIES = 3
POINT_TRIES = 10
SERVER_START_S = 120.0

LOGIN = "POST /api/auth/token"
HEALTH = "GET /api/health"
CREATE = "POST /api/incidents"
RECOMMEND = "GET /api/incidents/{id}/recommendations"
DISPATCH = "POST /api/incidents/{id}/dispatch"
ORDER = "POST /api/orders/{id}/status"
FIX = "POST /api/positions (the car at the scene)"
CLOSE = "POST /api/incidents/{id}/close"
CYCLE_REQUESTS = (CREATE, RECOMMEND, DISPATCH, ORDER, FIX, CLOSE)

console = Console(width=max(Console().width, 150))


class PastDeadline(Exception):
    """The phase is over: the cycle under way is dropped."""


@dataclass
class Recorder:
    """Latencies and answers of one phase, by request type."""

    latencies_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    async def call(
        self, client: httpx.AsyncClient, name: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            reply = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:  # a transport failure counts as an answer of its own
            self._add(name, start, type(exc).__name__)
            return None
        self._add(name, start, str(reply.status_code))
        return reply

    def _add(self, name: str, start: float, status: str) -> None:
        self.latencies_ms[name].append((time.perf_counter() - start) * 1000)
        self.statuses[name][status] += 1


@dataclass
class Desk:
    """One dispatcher: a connection of his own, a random stream, the phase he works in."""

    client: httpx.AsyncClient
    rng: random.Random
    recorder: Recorder
    deadline: float = math.inf
    #: the terminals' positions come in as a batch import, which the commander may post
    fixer: dict[str, str] = field(default_factory=dict)
    #: the mean of a pause before each request (exponential): a person's pace; 0, back to back
    think_s: float = 0.0

    async def call(self, name: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        if self.think_s:
            await asyncio.sleep(self.rng.expovariate(1 / self.think_s))
        if time.perf_counter() >= self.deadline:
            raise PastDeadline
        return await self.recorder.call(self.client, name, method, path, **kw)


def ok(reply: httpx.Response | None, status: int = 200) -> bool:
    return reply is not None and reply.status_code == status


# the 110 cycle


async def take_call(desk: Desk) -> dict[str, Any] | None:
    """A new incident at a random road point; None when the server refuses it otherwise."""
    for _ in range(POINT_TRIES):
        body = {
            "lon": desk.rng.uniform(*LON_RANGE),
            "lat": desk.rng.uniform(*LAT_RANGE),
            "category_code": desk.rng.choice(CATEGORIES),
            "caller_phone": "13900000000",
            "description": "bench",
        }
        reply = await desk.call(CREATE, "POST", "/api/incidents", json=body)
        if ok(reply, 201):
            assert reply is not None
            incident: dict[str, Any] = reply.json()
            return incident
        if reply is None or reply.status_code != 422:  # 422: too far from a road, try again
            return None
    return None


async def send_first_free(desk: Desk, incident_id: int) -> tuple[dict[str, Any] | None, str]:
    """The order of the first unit chosen, or None and why none was sent."""
    for _ in range(DISPATCH_TRIES):
        reply = await desk.call(RECOMMEND, "GET", f"/api/incidents/{incident_id}/recommendations")
        if not ok(reply):
            return None, "failed on an error"
        assert reply is not None
        chosen = reply.json()["chosen"]
        if not chosen:
            return None, "closed: no free unit"
        reply = await desk.call(
            DISPATCH,
            "POST",
            f"/api/incidents/{incident_id}/dispatch",
            json={"unit_ids": chosen[:1]},
        )
        if ok(reply, 201):
            assert reply is not None
            order: dict[str, Any] = reply.json()[0]
            return order, "completed end-to-end"
        if reply is None or reply.status_code != 409:  # 409: another desk took the unit
            return None, "failed on an error"
    return None, f"closed: {DISPATCH_TRIES} dispatches lost the race"


async def work_order(desk: Desk, order: dict[str, Any], incident: dict[str, Any]) -> bool:
    """The unit reports through to done, with a GPS fix at the scene once arrived."""
    for state in ORDER_STEPS:
        path = f"/api/orders/{order['id']}/status"
        if not ok(await desk.call(ORDER, "POST", path, json={"state": state})):
            return False
        if state == "arrived":  # the car's terminal reports it at the scene
            fix = {
                "device_id": car_device(order["unit_id"]),
                "lon": incident["lon"],
                "lat": incident["lat"],
                "at": datetime.now(UTC).isoformat(),
            }
            body = {"positions": [fix]}
            reply = await desk.call(FIX, "POST", "/api/positions", json=body, headers=desk.fixer)
            if not ok(reply) or reply is None or reply.json()["accepted"] != 1:
                return False
    return True


async def run_cycle(desk: Desk) -> str:
    """One call from intake to close; returns how it ended."""
    incident = await take_call(desk)
    if incident is None:
        return "failed on an error"
    order, outcome = await send_first_free(desk, incident["id"])
    if outcome == "failed on an error":
        return outcome
    if order is not None and not await work_order(desk, order, incident):
        return "failed on an error"
    body = {"outcome_code": "handled" if order else "no_unit"}
    closed = await desk.call(CLOSE, "POST", f"/api/incidents/{incident['id']}/close", json=body)
    return outcome if ok(closed) else "failed on an error"


# phases


async def loop_until(desk: Desk, seconds: float, step: Callable[[Desk], Awaitable[str]]) -> None:
    desk.deadline = time.perf_counter() + seconds
    while True:
        try:
            outcome = await step(desk)
        except PastDeadline:
            desk.recorder.outcomes["cut by the end of the run"] += 1
            return
        desk.recorder.outcomes[outcome] += 1


async def check_health(desk: Desk) -> str:
    await desk.call(HEALTH, "GET", "/api/health")
    return "health"


async def log_in(desk: Desk, password: str) -> None:
    """A token for the desk; a desk left without one after a few tries sits the run out."""
    body = {"username": "dispatcher", "password": password}
    for _ in range(LOGIN_TRIES):
        reply = await desk.call(LOGIN, "POST", "/api/auth/token", json=body)
        if ok(reply):
            assert reply is not None
            desk.client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
            return


async def cars_at_their_kiosks(desk: Desk) -> None:
    """Every car's terminal reports it at its kiosk: a car with no fresh fix is not sent."""
    features = (await desk.client.get("/api/city/map")).json()["layout"]["features"]
    kiosks = {
        f["properties"]["zone"]: f["geometry"]["coordinates"]
        for f in features
        if f["properties"]["layer"] == "kiosk"
    }
    at = datetime.now(UTC).isoformat()
    fixes = [
        {
            "device_id": car_device(u["id"]),
            "lon": kiosks[u["zone"]][0],
            "lat": kiosks[u["zone"]][1],
            "at": at,
        }
        for u in (await desk.client.get("/api/units")).json()
    ]
    reply = await desk.client.post("/api/positions", json={"positions": fixes}, headers=desk.fixer)
    reply.raise_for_status()


def car_device(unit_id: int) -> str:
    return f"bench-car-{unit_id}"


def register_cars(url: str) -> None:
    """A terminal for every car, so that its positions enter by the one path for positions."""
    engine = make_engine(url)
    with transaction(engine) as session:
        for unit in session.scalars(select(Unit)):
            session.add(Device(device_id=car_device(unit.id), protocol="jt808", unit_id=unit.id))
    engine.dispose()


async def timed(desks: list[Desk], work: Callable[[Desk], Awaitable[None]]) -> Recorder:
    """Run `work` on every desk at once under a fresh recorder."""
    recorder = Recorder()
    for desk in desks:
        desk.recorder = recorder
    start = time.perf_counter()
    await asyncio.gather(*(work(desk) for desk in desks))
    recorder.elapsed_s = time.perf_counter() - start
    return recorder


async def drive(
    base_url: str | Sequence[str],
    passwords: dict[str, str],
    *,
    clients: int,
    seconds: float,
    health_s: float,
    cycles_start: asyncio.Event | None = None,
    think_s: float = 0.0,
) -> list[Recorder]:
    """Log every desk in, then the health floor, then the 110 cycle (`cycles_start` is set as
    it begins), each desk pausing `think_s` on average before each of its requests. With
    several servers' URLs, the desks are dealt round them."""
    timeout = httpx.Timeout(60.0)
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    desks = [
        Desk(
            httpx.AsyncClient(base_url=urls[i % len(urls)], timeout=timeout),
            random.Random(i),
            Recorder(),
        )
        for i in range(clients)
    ]
    try:
        body = {"username": "commander", "password": passwords["commander"]}
        reply = await desks[0].client.post("/api/auth/token", json=body)
        reply.raise_for_status()
        for desk in desks:
            desk.fixer = {"Authorization": f"Bearer {reply.json()['access_token']}"}
        logins = await timed(desks, lambda d: log_in(d, passwords["dispatcher"]))
        health = await timed(desks, lambda d: loop_until(d, health_s, check_health))
        await cars_at_their_kiosks(desks[0])
        if cycles_start is not None:
            cycles_start.set()
        working = [d for d in desks if "Authorization" in d.client.headers]
        for desk in working:
            desk.think_s = think_s
        cycles = await timed(working, lambda d: loop_until(d, seconds, run_cycle))
        if len(working) < len(desks):
            cycles.outcomes["desks without a token, sat out"] = len(desks) - len(working)
    finally:
        await asyncio.gather(*(d.client.aclose() for d in desks))
    return [logins, health, cycles]


# database and server


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'jiaoxun.db'}"
        return
    admin = make_engine(POSTGRES_ADMIN_URL)
    name = f"jiaoxun_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_answers() -> bool:
    """Whether the PostgreSQL server of `POSTGRES_ADMIN_URL` takes a connection."""
    admin = make_engine(f"{POSTGRES_ADMIN_URL}?connect_timeout={POSTGRES_PROBE_S}")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        admin.dispose()


def backends_for(choice: str, *, smoke: bool, console: Console) -> tuple[str, ...]:
    """The backends of `--backend`; a smoke run of both leaves PostgreSQL out when none
    answers (a full run tries it and reports it skipped)."""
    if choice != "both":
        return (choice,)
    if smoke and not postgres_answers():
        console.print(f"[yellow]no PostgreSQL answers at {POSTGRES_ADMIN_URL}: SQLite only[/]")
        return ("sqlite",)
    return ("sqlite", "postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(server: subprocess.Popen[bytes], base_url: str) -> None:
    give_up = time.monotonic() + SERVER_START_S
    while time.monotonic() < give_up:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} at start")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /api/health within {SERVER_START_S:.0f} s")


@contextmanager
def running_server(
    settings: Settings, *, port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`jiaoxun serve` on the settings' database, its output in `log`, with the further
    settings `env`; yields its base URL."""
    env = {
        **os.environ,
        "JIAOXUN_DATABASE_URL": settings.database,
        "JIAOXUN_DATA_DIR": str(settings.data_dir),
        "JIAOXUN_JT808_PORT": "0",  # no terminal gateway: this measures the HTTP API
        **(env or {}),
    }
    if settings.cache_dir is not None:
        env["JIAOXUN_CACHE_DIR"] = str(settings.cache_dir)
    command = [str(Path(sys.executable).parent / "jiaoxun"), "serve", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_healthy(server, base_url)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def bench_backend(
    backend: str, *, clients: int, seconds: float, cache_dir: Path
) -> tuple[list[Recorder], str]:
    """The three phases on one backend; also the server's log."""
    with tempfile.TemporaryDirectory(prefix=f"bench-api-{backend}-") as tmp:
        folder = Path(tmp)
        with fresh_database(backend, folder) as url:
            settings = Settings(database_url=url, data_dir=folder, cache_dir=cache_dir)
            passwords = ready_server_city(settings)
            register_cars(url)
            log = folder / "server.log"
            try:
                with running_server(settings, port=free_port(), log=log) as base_url:
                    health_s = min(seconds, max(3.0, seconds / 4))
                    phases = asyncio.run(
                        drive(
                            base_url, passwords, clients=clients, seconds=seconds, health_s=health_s
                        )
                    )
            finally:
                server_log = log.read_text(encoding="utf-8", errors="replace")
    return phases, server_log


# report


def row(name: str, latencies_ms: list[float], statuses: Counter[str], window_s: float) -> list[str]:
    p50, p99 = np.percentile(latencies_ms, [50, 99]) if latencies_ms else (math.nan, math.nan)
    others = {s: n for s, n in sorted(statuses.items()) if not s.startswith("2")}
    return [
        name,
        str(len(latencies_ms)),
        f"{len(latencies_ms) / window_s:.1f}",
        f"{p50:.1f}",
        f"{p99:.1f}",
        ", ".join(f"{s}: {n}" for s, n in others.items()) or "-",
    ]


def status_style(statuses: Counter[str]) -> str:
    if any(s.startswith("5") or not s.isdigit() for s in statuses):
        return "bold red"
    return ""


def report_table(backend: str, phases: list[Recorder], *, clients: int) -> Table:
    logins, health, cycles = phases
    table = Table(title=f"{backend}: {clients} clients, cycle run {cycles.elapsed_s:.1f} s")
    for column in ("request", "count", "req/s", "p50 ms", "p99 ms", "p50 / health p50", "non-2xx"):
        table.add_column(column, justify="left" if column in ("request", "non-2xx") else "right")
    health_p50 = float(np.median(health.latencies_ms[HEALTH])) if health.latencies_ms else math.nan
    every: list[float] = []
    statuses: Counter[str] = Counter()
    entries = [(LOGIN, logins), (HEALTH, health)] + [(n, cycles) for n in CYCLE_REQUESTS]
    for name, phase in entries:
        cells = row(name, phase.latencies_ms[name], phase.statuses[name], phase.elapsed_s)
        p50 = float(cells[3])
        ratio = f"{p50 / health_p50:.1f}" if name != HEALTH else "1.0"
        table.add_row(*cells[:5], ratio, cells[5], style=status_style(phase.statuses[name]))
        if name in CYCLE_REQUESTS:
            every += phase.latencies_ms[name]
            statuses += phase.statuses[name]
    cells = row("all cycle requests", every, statuses, cycles.elapsed_s)
    ratio = f"{float(cells[3]) / health_p50:.1f}"
    table.add_row(*cells[:5], ratio, cells[5], style="bold " + status_style(statuses))
    return table


def report_cycles(cycles: Recorder) -> None:
    done = cycles.outcomes["completed end-to-end"]
    console.print(
        f"cycles completed end-to-end: [bold]{done}[/] ({done / cycles.elapsed_s:.2f}/s); "
        + ", ".join(f"{escape(k)}: {n}" for k, n in sorted(cycles.outcomes.items()))
    )


def report_server_errors(phases: list[Recorder], server_log: str) -> list[str]:
    """5xx and transport failures in red, with the server's tracebacks; returns them."""
    bad = Counter(
        {
            f"{name} {status}": n
            for phase in phases
            for name, statuses in phase.statuses.items()
            for status, n in statuses.items()
            if status.startswith("5") or not status.isdigit()
        }
    )
    tracebacks = re.findall(r"^Traceback.*?^\S.*?$", server_log, flags=re.M | re.S)
    if not bad and not tracebacks:
        console.print("[green]no 5xx, no transport failure, no traceback in the server log[/]")
        return []
    for what, n in bad.items():
        console.print(f"[bold red]SERVER FAILURE: {escape(what)} x {n}[/]")
    by_error: defaultdict[str, list[str]] = defaultdict(list)
    for found in tracebacks:
        by_error[found.strip().splitlines()[-1]].append(found)
    for same in sorted(by_error.values(), key=len, reverse=True):
        richest = max(same, key=lambda t: t.count("/jiaoxun/"))
        title = f"{len(same)} x in the server log, frames of jiaoxun"
        console.print(Panel(escape(condensed(richest)), title=title, border_style="red"))
    return [f"{what} x {n}" for what, n in bad.items()] + list(by_error)


def condensed(traceback: str) -> str:
    """The frames of a traceback in jiaoxun's own code, and its last line."""
    lines = traceback.strip().splitlines()
    ours = [
        f"{line.strip()}: {lines[i + 1].strip()}"
        for i, line in enumerate(lines[:-1])
        if line.lstrip().startswith("File") and "/jiaoxun/" in line and "site-packages" not in line
    ]
    return "\n".join([*ours, lines[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--logs", type=Path, help="folder to keep the servers' logs in")
    args = parse_args(parser, smoke={"clients": 8, "seconds": 2.0})
    problems: list[str] = []
    with cache_folder() as cache:
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            console.rule(backend)
            try:
                phases, server_log = bench_backend(
                    backend, clients=args.clients, seconds=args.seconds, cache_dir=cache
                )
            except (OperationalError, RuntimeError) as exc:
                if args.smoke:
                    raise
                console.print(f"[bold red]{backend} skipped:[/] {escape(str(exc))}")
                continue
            if args.logs:
                args.logs.mkdir(parents=True, exist_ok=True)
                (args.logs / f"server-{backend}.log").write_text(server_log, encoding="utf-8")
            console.print(report_table(backend, phases, clients=args.clients))
            report_cycles(phases[2])
            problems += [f"{backend}: {p}" for p in report_server_errors(phases, server_log)]
    fail_on(problems, smoke=args.smoke, console=console)


if __name__ == "__main__":
    main()
