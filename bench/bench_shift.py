"""Benchmark of a shift's mixed load on one server process, on SQLite and on PostgreSQL.

For each backend a fresh database is prepared (demo city, reference data, users), its 27 cars
get a terminal each (`bench_api`), and 300 more units an OsmAnd phone each (`bench_ingest`'s
fleet and tracks); those 300 are off duty, so that the dispatchers send only the 27 cars, as in
`bench_api`. One `jiaoxun serve` subprocess is then driven over loopback twice, the same way:
`bench_api`'s run of the dispatchers (log in, the health floor, then for `--seconds` the 110
cycle: take a call, rank the units, dispatch, the order's steps, the car's fix at the scene,
close).

Each dispatcher pauses before each of his requests, `--think` seconds on average (exponential,
1 s): a person's pace, and still a busy one. Ten desks at it take about 0.8 calls a second,
70,000 a day, four times the 16,000 of a large city. Back to back (`--think 0`), ten desks
drive the server flat out, as `bench_api` does: a closed loop measures capacity, and its
latency is by Little's law the desks over the throughput (10 / 100 requests a second =
100 ms), whatever a click costs; so the targets are judged at a person's pace.

1. baseline: the dispatchers alone;
2. the shift: while the dispatchers' cycles run, the 300 units each send an OsmAnd fix a
   second (GET /api/osmand; a tenth of them every 100 ms, whether or not the earlier ones were
   answered) and 20 command pages, each on the event WebSocket with a ticket of its own,
   receive every "unit moved". Incidents the baseline's end cut open are closed before it.
3. on PostgreSQL, for capacity, the shift with the dispatchers flat out (no pause), on the one
   process and then on `--processes` servers (2) sharing the database and a NATS JetStream bus
   (nats://127.0.0.1:4222), the dispatchers, units and pages dealt round them; printed side by
   side, with the ratios.

    .venv/bin/python bench/bench_shift.py [--dispatchers 10] [--units 300] [--pages 20]
        [--seconds 30] [--think 1] [--ticks 10] [--processes 2] [--backend both] [--smoke]

Printed per backend: `bench_api`'s table of the dispatchers' requests (count, req/s, p50, p99)
for both runs and the shift's p50 and p99 over the baseline's by request type; the fixes sent
and answered a second with their HTTP p50/p99, the time from sending a fix to its event on every
page (p50/p99, fixes with no event), this process's CPU time; the targets, MET or MISS: dispatchers'
requests p99 < 100 ms, fix to WebSocket p99 < 150 ms, no 5xx. 5xx answers, transport failures
and the server's tracebacks are printed in red. The script exits 0; `--smoke` (3 dispatchers at
a 0.1 s pace, 20 units, 2 pages, 3 s, on PostgreSQL too when one answers) exits 1 on a crash,
a 5xx, a transport failure, a page's stream ending or a traceback in the server's log.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from websockets.asyncio.client import connect

from bench_api import (
    CYCLE_REQUESTS,
    Recorder,
    backends_for,
    console,
    drive,
    free_port,
    fresh_database,
    register_cars,
    report_cycles,
    report_server_errors,
    report_table,
    row,
    running_server,
)
from bench_ingest import Fleet, Latency, make_fleet, read_events, register_fleet
from bench_ingest import log_in as token_for
from harness import cache_folder, fail_on, parse_args, ready_server_city, stream_url
from jiaoxun.city.context import load_city_context
from jiaoxun.db import make_engine, transaction
from jiaoxun.incidents.lifecycle import FINAL_INCIDENT_STATES, IncidentState
from jiaoxun.settings import Settings
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus

OSMAND = "GET /api/osmand (a unit's fix)"
ALL = "all cycle requests"
DISPATCH_MS, EVENT_MS = 100.0, 150.0  # the targets of the two p99s
UNITS_PER_CLIENT = 10
EVENT_WAIT_S = 3.0  # how long the last fixes' events may take before they count as missing
NATS_URL = "nats://127.0.0.1:4222"
PARTITIONS = 16  # the servers' JIAOXUN_BUS_PARTITIONS
TRACK_SLACK_S = 10  # seconds of tracks beyond the dispatchers' cycles

Key = tuple[str, float, float]  # a fix: device, lon, lat (how bench_ingest finds its event)


@dataclass
class Load:
    """The units' fixes and the pages that watch them (wall-clock times, as the readers')."""

    fixes: Recorder = field(default_factory=Recorder)
    sent: dict[Key, float] = field(default_factory=dict)
    answered: set[Key] = field(default_factory=set)
    pages: list[Latency] = field(default_factory=list)  # each with the `sent` above
    refusals: Counter[str] = field(default_factory=Counter)
    page_failures: list[str] = field(default_factory=list)
    tracks_ran_out: bool = False
    sending_s: float = 0.0  # then the last answers; `fixes.elapsed_s` includes them
    client_cpu_s: float = 0.0

    def new_page(self) -> Latency:
        self.pages.append(Latency(devices=0, seconds=0, sent=self.sent))
        return self.pages[-1]

    def to_page_ms(self) -> list[float]:
        return [ms for page in self.pages for ms in page.between_ms("sent", "received")]

    def to_server_ms(self) -> list[float]:  # the event's `at`: the same on every page
        return self.pages[0].between_ms("sent", "built") if self.pages else []

    def missing(self) -> int:
        """Answered fixes a page got no event of: a batch publishes a device's latest fix only,
        so a fix that waited in one batch with the device's next has none of its own."""
        return sum(len(self.answered - page.received.keys()) for page in self.pages)


@dataclass
class BackendRun:
    alone: list[Recorder]  # bench_api.drive's: log-ins, health floor, cycles
    mixed: list[Recorder]
    load: Load
    leftovers: int
    server_log: str
    #: the shift flat out (no pause) on one process, and on `--processes` servers sharing the
    #: database and a bus: capacity, where the paced shift measures latency
    flat_out: tuple[list[Recorder], Load] | None = None
    several: tuple[list[Recorder], Load] | None = None


def ready_database(settings: Settings, *, units: int, track_s: int) -> tuple[dict[str, str], Fleet]:
    """The demo city, its cars' terminals and `units` off-duty units with an OsmAnd phone
    each; returns the users' passwords and the phones' tracks."""
    passwords = ready_server_city(settings)
    register_cars(settings.database)  # before the new units: only the 27 cars get a terminal
    engine = make_engine(settings.database)
    with Session(engine) as session:
        city = load_city_context(session, settings)
        fleet = make_fleet(session, city, devices=units, seconds=track_s)
        cars = session.scalar(select(func.count()).select_from(Unit)) or 0
    # register_fleet gives the cars there are the first devices: idle ones, never heard of
    register_fleet(engine, [f"idle-{i}" for i in range(cars)] + fleet.device_ids)
    with transaction(engine) as session:
        now = datetime.now(UTC)
        bench_units = update(Unit).where(Unit.call_sign.like("BENCH-%"))
        session.execute(bench_units.values(status=UnitStatus.OFF_DUTY, status_at=now))
    engine.dispose()
    return passwords, fleet


async def send_fix(client: httpx.AsyncClient, load: Load, query: dict[str, str]) -> None:
    key = (query["id"], float(query["lon"]), float(query["lat"]))
    load.sent[key] = time.time()
    reply = await load.fixes.call(client, OSMAND, "GET", "/api/osmand", params=query)
    if reply is not None and reply.status_code == 200:
        load.answered.add(key)
    elif reply is not None:  # why, without the fix's own figures
        load.refusals[f"{reply.status_code} {reply.text.split(' (')[0][:100]}"] += 1


async def send_fixes(
    urls: Sequence[str], fleet: Fleet, load: Load, ticks: int, stop: asyncio.Event
) -> None:
    """Every unit's fix once a second along its track, a `ticks`-th of the units at each
    tick, open loop: a tick's fixes go out whether or not the earlier ones were answered.
    A connection per unit, in pools of `UNITS_PER_CLIENT` (httpcore's pool costs CPU per
    request in proportion to its size)."""
    units, limits = len(fleet.device_ids), httpx.Limits(max_connections=UNITS_PER_CLIENT)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=urls[k % len(urls)], limits=limits, timeout=30)
            )
            for k, _ in enumerate(range(0, units, UNITS_PER_CLIENT))
        ]
        start, start_at, pending = time.perf_counter(), datetime.now(UTC), set[asyncio.Task[None]]()
        for tick in range(fleet.seconds * ticks):
            if stop.is_set():
                break
            second = tick // ticks
            at = start_at + timedelta(seconds=second)
            for d in range(tick % ticks, units, ticks):
                query = fleet.osmand_query(d, second, at)
                task = asyncio.create_task(send_fix(clients[d // UNITS_PER_CLIENT], load, query))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, start + (tick + 1) / ticks - time.perf_counter()))
        else:
            load.tracks_ran_out = True
        load.sending_s = time.perf_counter() - start
        await asyncio.gather(*pending)
        load.fixes.elapsed_s = time.perf_counter() - start


async def shift(
    urls: Sequence[str], passwords: dict[str, str], fleet: Fleet, args: argparse.Namespace
) -> tuple[list[Recorder], Load]:
    """The pages connect; `bench_api`'s run of the dispatchers; from the start of its cycles
    (once its cars are at their kiosks) to its end, the units send their fixes. With several
    servers, the pages, dispatchers and units are dealt round them."""
    load, cycles, stop = Load(), asyncio.Event(), asyncio.Event()

    async def units() -> None:
        await cycles.wait()
        cpu = time.process_time()
        await send_fixes(urls, fleet, load, args.ticks, stop)
        give_up = time.perf_counter() + EVENT_WAIT_S
        while time.perf_counter() < give_up and load.missing():
            await asyncio.sleep(0.05)
        load.client_cpu_s = time.process_time() - cpu

    async with httpx.AsyncClient(base_url=urls[0], timeout=30.0) as client:
        token = await token_for(client, passwords["dispatcher"])
        # a ticket is good on any of the servers: they share the database
        pages = [urls[k % len(urls)] for k in range(args.pages)]
        tickets = [await stream_url(client, page, token) for page in pages]
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(t, max_queue=None)) for t in tickets]
        readers = [asyncio.create_task(read_events(ws, load.new_page())) for ws in sockets]
        sender = asyncio.create_task(units())
        phases = await drive(urls, passwords, **dispatchers(args), cycles_start=cycles)
        stop.set()
        await sender
        for reader in readers:
            if reader.done():
                failure = reader.exception() or "closed by the server"
                load.page_failures.append(f"a page's stream ended: {failure!r}")
            reader.cancel()
    return phases, load


def dispatchers(args: argparse.Namespace) -> dict[str, Any]:
    """`bench_api.drive`'s sizes: the health floor a tenth of the cycles, 2 s at least."""
    health_s = min(args.seconds, max(2.0, args.seconds / 10))
    return {
        "clients": args.dispatchers,
        "seconds": args.seconds,
        "health_s": health_s,
        "think_s": args.think,
    }


async def close_leftovers(url: str, password: str) -> int:
    """Close the incidents the end of a run cut open (their cars are released)."""
    open_states = [s.value for s in IncidentState if s not in FINAL_INCIDENT_STATES]
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
        client.headers["Authorization"] = f"Bearer {await token_for(client, password)}"
        reply = await client.get("/api/incidents", params={"status": open_states, "limit": 1000})
        reply.raise_for_status()
        for incident in reply.json():
            body = {"outcome_code": "handled"}
            closed = await client.post(f"/api/incidents/{incident['id']}/close", json=body)
            closed.raise_for_status()
        return len(reply.json())


def bench_backend(backend: str, args: argparse.Namespace, cache_dir: Path) -> BackendRun:
    with tempfile.TemporaryDirectory(prefix=f"bench-shift-{backend}-") as tmp:
        folder = Path(tmp)
        with fresh_database(backend, folder) as db:
            settings = Settings(database_url=db, data_dir=folder, cache_dir=cache_dir)
            begin, track_s = time.perf_counter(), math.ceil(args.seconds) + TRACK_SLACK_S
            passwords, fleet = ready_database(settings, units=args.units, track_s=track_s)
            console.print(f"{backend}: database ready in {time.perf_counter() - begin:.1f} s")
            log = folder / "server.log"
            several = backend == "postgresql" and args.processes > 1
            flat = argparse.Namespace(**{**vars(args), "think": 0.0})
            try:
                with running_server(settings, port=free_port(), log=log) as url:
                    alone = asyncio.run(drive(url, passwords, **dispatchers(args)))
                    leftovers = asyncio.run(close_leftovers(url, passwords["dispatcher"]))
                    mixed, load = asyncio.run(shift([url], passwords, fleet, args))
                    asyncio.run(close_leftovers(url, passwords["dispatcher"]))
                    run = BackendRun(alone, mixed, load, leftovers, "")
                    if several:
                        run.flat_out = asyncio.run(shift([url], passwords, fleet, flat))
                        asyncio.run(close_leftovers(url, passwords["dispatcher"]))
                if several:
                    with processes(settings, args.processes, folder) as urls:
                        run.several = asyncio.run(shift(urls, passwords, fleet, flat))
            finally:
                run.server_log = "".join(
                    p.read_text(encoding="utf-8", errors="replace")
                    for p in sorted(folder.glob("server*.log"))
                )
    return run


@contextmanager
def processes(settings: Settings, count: int, folder: Path) -> Iterator[list[str]]:
    """`count` servers on the settings' database, sharing a NATS bus stream of their own."""
    bus = {"JIAOXUN_BUS_URL": NATS_URL, "JIAOXUN_BUS_NAME": f"bench-{uuid.uuid4().hex[:10]}"}
    with ExitStack() as stack:
        urls = [
            stack.enter_context(
                running_server(settings, port=free_port(), log=folder / f"server-{n}.log", env=bus)
            )
            for n in range(count)
        ]
        settled(urls)
        yield urls


def settled(urls: list[str], timeout_s: float = 60.0) -> None:
    """Wait until the servers have shared the devices out: every part ingested by one."""
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        parts = [set(httpx.get(f"{u}/api/health").json().get("partitions", [])) for u in urls]
        if all(parts) and sum(map(len, parts)) == len(set().union(*parts)) == PARTITIONS:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the {len(urls)} servers did not share the devices out in {timeout_s} s")


# report


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def cycle_ms(phases: list[Recorder], name: str) -> list[float]:
    cycles = phases[2].latencies_ms
    return [ms for n in CYCLE_REQUESTS for ms in cycles[n]] if name == ALL else cycles[name]


def table_of(title: str, *columns: str) -> Table:
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 or "non-2xx" in column else "right")
    return table


def ratio_table(backend: str, run: BackendRun) -> Table:
    table = table_of(
        f"{backend}: the shift's dispatchers against the dispatchers alone (ms)",
        *("request", "alone p50", "alone p99", "shift p50", "shift p99", "p50 x", "p99 x"),
    )
    for name in (*CYCLE_REQUESTS, ALL):
        alone, mixed = cycle_ms(run.alone, name), cycle_ms(run.mixed, name)
        a50, a99, m50, m99 = pct(alone, 50), pct(alone, 99), pct(mixed, 50), pct(mixed, 99)
        cells = (f"{v:.1f}" for v in (a50, a99, m50, m99, m50 / a50, m99 / a99))
        table.add_row(name, *cells, style="bold" if name == ALL else "")
    return table


def load_table(backend: str, load: Load, pages: int) -> Table:
    """Sent a second over the sending, answered and received over it and the last answers."""
    fixes, sending, window = load.fixes, load.sending_s, load.fixes.elapsed_s
    table = table_of(
        f"{backend}: {sending:.1f} s of fixes, the last answered {window - sending:.1f} s"
        f" later; {pages} pages watching",
        *("measure", "count", "per s", "p50 ms", "p99 ms", "non-2xx / no event"),
    )
    statuses = fixes.statuses[OSMAND]
    table.add_row(*row("OsmAnd fixes sent", fixes.latencies_ms[OSMAND], statuses, sending))
    table.add_row(
        "OsmAnd fixes answered 200", str(statuses["200"]), f"{statuses['200'] / window:.1f}"
    )
    events = row("fix sent → its event on a page", load.to_page_ms(), Counter(), window)
    table.add_row(*events[:5], f"no event: {load.missing()}", style="bold")
    built = row("  of which: sent → event built", load.to_server_ms(), Counter(), window)
    table.add_row(*built[:5])
    return table


def scale_table(backend: str, run: BackendRun, n: int) -> Table:
    """The shift on one process against the same on `n` sharing the database and the bus."""
    assert run.several is not None
    assert run.flat_out is not None
    (phases, load), (one, one_load) = run.several, run.flat_out
    table = table_of(
        f"{backend}: the shift flat out on one process and on {n}",
        *("measure", "1 process", f"{n} processes", "ratio"),
    )

    def rate(cycles: Recorder) -> float:
        return sum(len(cycles.latencies_ms[name]) for name in CYCLE_REQUESTS) / cycles.elapsed_s

    pairs = [
        ("110 cycle requests a second", rate(one[2]), rate(phases[2])),
        ("their p50 ms", pct(cycle_ms(one, ALL), 50), pct(cycle_ms(phases, ALL), 50)),
        ("their p99 ms", pct(cycle_ms(one, ALL), 99), pct(cycle_ms(phases, ALL), 99)),
        (
            "fixes answered a second",
            one_load.fixes.statuses[OSMAND]["200"] / one_load.fixes.elapsed_s,
            load.fixes.statuses[OSMAND]["200"] / load.fixes.elapsed_s,
        ),
        ("fix → page p50 ms", pct(one_load.to_page_ms(), 50), pct(load.to_page_ms(), 50)),
        ("fix → page p99 ms", pct(one_load.to_page_ms(), 99), pct(load.to_page_ms(), 99)),
    ]
    for name, single, many in pairs:
        table.add_row(name, f"{single:.1f}", f"{many:.1f}", f"{many / single:.2f}")
    return table


def targets(run: BackendRun) -> list[tuple[str, float, bool]]:
    failures = sum(
        n
        for phase in (*run.alone, *run.mixed, run.load.fixes)
        for statuses in phase.statuses.values()
        for status, n in statuses.items()
        if status.startswith("5") or not status.isdigit()
    )
    dispatch, event = pct(cycle_ms(run.mixed, ALL), 99), pct(run.load.to_page_ms(), 99)
    return [
        (f"dispatchers' requests p99 < {DISPATCH_MS:.0f} ms", dispatch, dispatch < DISPATCH_MS),
        (f"fix → WebSocket p99 < {EVENT_MS:.0f} ms", event, event < EVENT_MS),
        ("no 5xx (nor transport failure)", failures, failures == 0),
    ]


def report(backend: str, run: BackendRun, args: argparse.Namespace) -> list[str]:
    """The tables and notes of one backend; returns what fails a smoke run."""
    for name, phases in (("dispatchers alone", run.alone), ("the shift", run.mixed)):
        console.print(report_table(f"{backend}, {name}", phases, clients=args.dispatchers))
        report_cycles(phases[2])
    console.print(ratio_table(backend, run))
    console.print(load_table(backend, run.load, args.pages))
    load = run.load
    console.print(
        f"this process (dispatchers, units, pages) used {load.client_cpu_s:.1f} s of CPU in the"
        f" shift's {load.fixes.elapsed_s:.1f} s; {run.leftovers} incidents the baseline's end"
        " left open were closed before the shift"
        + ("; [bold red]the tracks ran out before the end[/]" if load.tracks_ran_out else "")
    )
    for refusal, n in load.refusals.items():
        console.print(f"fixes refused: {n} x {escape(refusal)}")
    verdicts = table_of(f"{backend}: targets", "target", "figure", "verdict")
    for name, figure, met in targets(run):
        verdicts.add_row(
            name, f"{figure:.1f}", "[bold green]MET[/]" if met else "[bold red]MISS[/]"
        )
    console.print(verdicts)
    for failure in load.page_failures:
        console.print(f"[bold red]{escape(failure)}[/]")
    several = []
    if run.several is not None and run.flat_out is not None:
        n = args.processes
        for name, (phases, flat_load) in (
            ("flat out on 1 process", run.flat_out),
            (f"flat out on {n} processes", run.several),
        ):
            console.print(
                report_table(f"{backend}, the shift {name}", phases, clients=args.dispatchers)
            )
            console.print(load_table(f"{backend}, {name}", flat_load, args.pages))
            several += [*phases, flat_load.fixes]
        console.print(scale_table(backend, run, n))
    errors = report_server_errors([*run.alone, *run.mixed, load.fixes, *several], run.server_log)
    return [f"{backend}: {problem}" for problem in [*load.page_failures, *errors]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatchers", type=int, default=10)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="a dispatcher's pause, mean s")
    parser.add_argument("--ticks", type=int, default=10, help="batches of fixes a second")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--processes", type=int, default=2, help="then the shift on this many (PostgreSQL, NATS)"
    )
    smoke = {"dispatchers": 3, "units": 20, "pages": 2, "seconds": 3.0, "think": 0.1}
    args = parse_args(parser, smoke=smoke)
    problems: list[str] = []
    with cache_folder() as cache:
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            console.rule(backend)
            try:
                run = bench_backend(backend, args, cache)
            except (OperationalError, RuntimeError) as exc:
                if args.smoke:
                    raise
                console.print(f"[bold red]{backend} skipped:[/] {escape(str(exc))}")
                continue
            problems += report(backend, run, args)
    fail_on(problems, smoke=args.smoke, console=console)


if __name__ == "__main__":
    main()
