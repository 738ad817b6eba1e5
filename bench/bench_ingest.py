"""Benchmark of position ingestion end to end, on SQLite and on PostgreSQL, in one run.

A fleet of cars (300 by default: the demo city's 27 units and as many more as needed, one GPS
device each) drives the demo city's roads at about 10 m/s with a fix every second. Most cars
wander from road to road at random, a third start near a zone border, and one in ten first waits
at a mandatory patrol point long enough to check in, then drives off. Per backend:

1. In process: each second of driving is one batch through `Ingestor.process` on a real database
   (validate, order, jump filter, snap, zone fences, check-ins, one transaction of track points,
   devices and units, events). Figures: positions per second against the target, the time by
   step (the real methods, timed where the service calls them) and by SQL statement, and as the
   database's floor the same positions inserted as bare track point rows.
2. Over HTTP: the same tracks as OsmAnd GET requests from concurrent clients to a real
   `jiaoxun serve` subprocess. Clients and server share this machine's cores, so this figure is
   bounded by HTTP, not by ingestion.
3. Latency: 50 devices send one fix a second each (50 a second in all); the time from sending a
   fix to its "unit moved" event arriving on the event WebSocket, the ingestor's batching wait
   included.

    .venv/bin/python bench/bench_ingest.py [--backend both] [--positions 72000] [--devices 300]
        [--smoke]

The script exits 0. `--smoke` drives 30 devices for 20 s, floods for 2 s from 10 clients and
measures latency for 3 s with 10 devices, on PostgreSQL too when one answers; it exits 1 when a
backend fails or the server answers a 5xx, fails a transport or logs an error.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import math
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx2 as httpx
import numpy as np
import shapely
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.client import connect

from bench_api import backends_for, free_port, fresh_database, running_server
from harness import cache_folder, device_secret, fail_on, parse_args, ready_server_city, stream_url
from jiaoxun.city.context import CityContext, load_city_context
from jiaoxun.city.models import PatrolPoint, Zone
from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.events import Event, LocalBus
from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.settings import Settings
from jiaoxun.tracking import pipeline, service
from jiaoxun.tracking.credentials import secret_sha256
from jiaoxun.tracking.geofence import ZoneFences
from jiaoxun.tracking.models import CheckInRow, Device, FenceEventRow, TrackPoint
from jiaoxun.tracking.osmand import KNOTS_TO_KPH
from jiaoxun.tracking.pipeline import RawFix
from jiaoxun.tracking.service import Ingestor
from jiaoxun.units.models import Officer, OfficerKind, Unit

TARGET_PER_S = 5000.0
SEED = 7
SPEED_MPS = (8.0, 12.0)
GPS_NOISE_M = 3.0
PARKED_SHARE, BORDER_SHARE = 0.1, 0.3
BORDER_START_M = 300.0  # a "border" car starts on a road this close to a zone border
EVENT_WAIT_S = 5.0  # how long to wait for the last events before counting them lost
WAIT_S = inspect.signature(Ingestor.run_forever).parameters["wait_s"].default

Seconds = defaultdict[str, float]

console = Console(width=max(Console().width, 130))


@dataclass(frozen=True)
class HttpLoad:
    """The HTTP legs: the flood's clients and seconds, the latency run's devices and seconds."""

    clients: int = 50
    flood_s: float = 10.0
    latency_devices: int = 50
    latency_s: int = 15


FULL_LOAD = HttpLoad()
SMOKE_LOAD = HttpLoad(clients=10, flood_s=2.0, latency_devices=10, latency_s=3)


# the fleet and its tracks


@dataclass(frozen=True)
class Fleet:
    """1 Hz tracks of every device: arrays of shape (devices, seconds)."""

    device_ids: list[str]
    kinds: list[str]  # parked, border, wander
    lon: Floats
    lat: Floats
    speed_kph: Floats
    course_deg: Floats

    @property
    def seconds(self) -> int:
        return int(self.lon.shape[1])

    def fixes_at(self, second: int, at: datetime) -> list[RawFix]:
        """Every device's fix of one second, stamped `at`."""
        return [
            RawFix(
                device_id=device,
                lon=float(self.lon[d, second]),
                lat=float(self.lat[d, second]),
                at=at,
                speed_kph=float(self.speed_kph[d, second]),
                course_deg=float(self.course_deg[d, second]),
                accuracy_m=5.0,
                source="osmand",
            )
            for d, device in enumerate(self.device_ids)
        ]

    def osmand_query(self, d: int, second: int, at: datetime) -> dict[str, str]:
        """One fix as the query of an OsmAnd GET (speed in knots)."""
        return {
            "id": self.device_ids[d],
            "key": device_secret(self.device_ids[d]),
            "lat": repr(float(self.lat[d, second])),
            "lon": repr(float(self.lon[d, second])),
            "timestamp": at.isoformat(),
            "speed": f"{self.speed_kph[d, second] / KNOTS_TO_KPH:.2f}",
            "bearing": f"{min(self.course_deg[d, second], 359.9):.1f}",  # never "360.0"
            "accuracy": "5",
        }


@dataclass(frozen=True)
class Roads:
    """The network with its geometry in metres and the edges leaving each node."""

    network: RoadNetwork
    gx: Floats
    gy: Floats
    out: list[Ints]

    @classmethod
    def from_city(cls, city: CityContext) -> Roads:
        network = city.travel_times.network
        gx, gy = city.travel_times.snapper.to_xy.transform(network.geom_lon, network.geom_lat)
        order = np.argsort(network.edge_tail, kind="stable")
        counts = np.bincount(network.edge_tail, minlength=network.n_nodes)
        out = np.split(order, np.cumsum(counts)[:-1])
        return cls(network, np.asarray(gx), np.asarray(gy), out)

    def wander(self, edge: int, rng: np.random.Generator, length_m: float) -> tuple[Floats, Floats]:
        """The polyline of a random drive from the tail of `edge`, at least `length_m` long
        unless it runs into a dead end; no U-turn where there is another way."""
        net, driven_m = self.network, 0.0
        xs: list[Floats] = []
        ys: list[Floats] = []
        while True:
            lo, hi = net.geom_start[edge], net.geom_start[edge + 1]
            skip = 1 if xs else 0  # consecutive edges share their node
            xs.append(self.gx[lo + skip : hi])
            ys.append(self.gy[lo + skip : hi])
            driven_m += float(net.edge_length_m[edge])
            ahead = self.out[int(net.edge_head[edge])]
            if driven_m >= length_m or not len(ahead):
                return np.concatenate(xs), np.concatenate(ys)
            turns = ahead[ahead != net.edge_twin[edge]]
            edge = int(rng.choice(turns if len(turns) else ahead))


def along(x: Floats, y: Floats, distance_m: Floats) -> tuple[Floats, Floats]:
    """Points at the given distances along a polyline (the end once past it)."""
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    return np.interp(distance_m, cumulative, x), np.interp(distance_m, cumulative, y)


def drive(
    roads: Roads, start: tuple[float, float] | None, edge: int, rng: np.random.Generator, n: int
) -> tuple[Floats, Floats, Floats]:
    """x, y and speed (m/s) of `n` seconds of driving from `edge` (from `start` if given)."""
    base = rng.uniform(*SPEED_MPS)
    speed = np.clip(base + rng.normal(0.0, 0.7, n), 0.0, 16.0)
    distance = np.concatenate([[0.0], np.cumsum(speed[1:])])
    x, y = roads.wander(edge, rng, float(distance[-1]) + 50.0)
    if start is not None:  # from the car park to the road
        x, y = np.concatenate([[start[0]], x]), np.concatenate([[start[1]], y])
    px, py = along(x, y, distance)
    return px, py, speed


def parked_points(session: Session, seconds: int) -> list[PatrolPoint]:
    """Mandatory points whose dwell a car can complete and still drive off within the run."""
    points = session.scalars(select(PatrolPoint).order_by(PatrolPoint.id)).all()
    return [p for p in points if p.dwell_min * 60 + 30 < seconds]


def border_edges(roads: Roads, city: CityContext) -> Ints:
    """Edges starting within `BORDER_START_M` of a zone border."""
    fences = ZoneFences.from_polygons(
        [z.code for z in city.zones], city.zone_shapes, xy=city.travel_times.snapper.to_xy
    )
    borders = shapely.union_all(fences.borders)
    starts = roads.network.geom_start[:-1]
    distance = shapely.distance(borders, shapely.points(roads.gx[starts], roads.gy[starts]))
    return np.flatnonzero(distance <= BORDER_START_M)


def make_fleet(session: Session, city: CityContext, *, devices: int, seconds: int) -> Fleet:
    """The fleet's tracks (see the module docstring), the same for a given seed and city."""
    rng = np.random.default_rng(SEED)
    roads = Roads.from_city(city)
    snapper = city.travel_times.snapper
    points, near_border = parked_points(session, seconds), border_edges(roads, city)
    n_parked = int(PARKED_SHARE * devices) if points else 0
    n_border = int(BORDER_SHARE * devices)
    xs, ys, speeds, kinds = [], [], [], []
    for d in range(devices):
        if d < n_parked:
            point = points[d % len(points)]
            park_s = int(point.dwell_min * 60) + 15
            (px,), (py,) = snapper.to_xy.transform([point.lon], [point.lat])
            edge = int(snapper.snap_many(np.array([point.lon]), np.array([point.lat])).edge[0])
            x, y, v = drive(roads, (px, py), edge, rng, seconds - park_s)
            x, y = (
                np.concatenate([np.full(park_s, px), x]),
                np.concatenate([np.full(park_s, py), y]),
            )
            v, kind = np.concatenate([np.zeros(park_s), v]), "parked"
        else:
            border = d < n_parked + n_border
            pool = near_border if border else np.arange(roads.network.n_edges)
            x, y, v = drive(roads, None, int(rng.choice(pool)), rng, seconds)
            kind = "border" if border else "wander"
        xs.append(x + rng.normal(0.0, GPS_NOISE_M, seconds))
        ys.append(y + rng.normal(0.0, GPS_NOISE_M, seconds))
        speeds.append(v)
        kinds.append(kind)
    x, y = np.array(xs), np.array(ys)
    lon, lat = snapper.to_lonlat.transform(x, y)
    course = np.degrees(np.arctan2(np.diff(x, prepend=x[:, :1]), np.diff(y, prepend=y[:, :1])))
    ids = [f"car-{d:03d}" for d in range(devices)]
    return Fleet(ids, kinds, np.asarray(lon), np.asarray(lat), np.array(speeds) * 3.6, course % 360)


def register_fleet(engine: Engine, device_ids: list[str]) -> None:
    """One device per unit: the seeded units first, then new units BENCH-nnn with a crew of
    their own (`seed_crews`, run again at the server's start, numbers badges by a unit's
    place in call-sign order: crews it gave new units would take badges already in use)."""
    with transaction(engine) as session:
        units = list(session.scalars(select(Unit).order_by(Unit.call_sign)))
        zones = session.scalars(select(Zone.id).order_by(Zone.code)).all()
        units += [
            Unit(
                call_sign=f"BENCH-{i:03d}",
                zone_id=zones[i % len(zones)],
                crew=[
                    Officer(name=f"bench {i}", badge=f"BENCH{i:04d}", kind=OfficerKind.OFFICER),
                    Officer(name=f"bench {i}a", badge=f"BENCH{i:04d}A", kind=OfficerKind.AUXILIARY),
                ],
            )
            for i in range(len(units), len(device_ids))
        ]
        session.add_all(units)
        session.flush()
        for unit, device in zip(units, device_ids, strict=False):
            unit.device_id = device
            secret = secret_sha256(device_secret(device))
            session.add(
                Device(
                    device_id=device,
                    protocol="osmand",
                    unit_id=unit.id,
                    online=False,
                    secret_sha256=secret,
                )
            )


# 1. in process


class CountingBus(LocalBus):
    """The in-process bus, counting what is published (no subscriber in process)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def publish_many(self, events: Sequence[Event]) -> None:
        self.counts.update(f"{e.kind} {e.action}" for e in events)
        super().publish_many(events)


@dataclass
class IngestRun:
    positions: int = 0
    batch_s: list[float] = field(default_factory=list)
    steps_s: Seconds = field(default_factory=lambda: defaultdict(float))
    sql_s: Seconds = field(default_factory=lambda: defaultdict(float))  # in the driver
    sql_n: Counter[str] = field(default_factory=Counter)
    session_s: Seconds = field(default_factory=lambda: defaultdict(float))  # Session.execute
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(self.batch_s)


def timed(clock: Seconds, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed_call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            clock[name] += time.perf_counter() - start

    return timed_call


def statement_kind(statement: str) -> str:
    """'insert track_point', 'update unit', 'select device', 'begin'…"""
    verb = statement.split(maxsplit=1)[0].lower()
    table = re.search(r"\b(?:into|update|from)\s+\"?(\w+)", statement, flags=re.I)
    return f"{verb} {table.group(1)}" if table else verb


def orm_kind(statement: Any) -> str:
    """The `statement_kind` of a statement object given to a session."""
    table = getattr(statement, "table", None)
    if table is None and hasattr(statement, "get_final_froms"):
        table = next(iter(statement.get_final_froms()), None)
    verb = getattr(statement, "__visit_name__", "other")
    return f"{verb} {table.name}" if table is not None else verb


def timed_session(clock: Seconds, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed_call(session: Session, statement: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(session, statement, *args, **kwargs)
        finally:
            clock[orm_kind(statement)] += time.perf_counter() - start

    return timed_call


@contextmanager
def steps_timed(ingestor: Ingestor, engine: Engine, result: IngestRun) -> Iterator[None]:
    """Time the real steps where the service calls them, commits and SQL statements too."""
    clock = result.steps_s
    started: dict[str, float] = {}

    def before_commit(_session: Session) -> None:
        started["commit"] = time.perf_counter()

    def after_commit(_session: Session) -> None:
        clock["commit"] += time.perf_counter() - started.pop("commit", time.perf_counter())

    def before_sql(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        started["sql"] = time.perf_counter()

    def after_sql(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        name = statement_kind(statement)
        result.sql_s[name] += time.perf_counter() - started.pop("sql", time.perf_counter())
        result.sql_n[name] += 1

    hooks: list[tuple[Any, str, Callable[..., Any]]] = [
        (ingestor.sessions, "before_commit", before_commit),
        (ingestor.sessions, "after_commit", after_commit),
        (engine, "before_cursor_execute", before_sql),
        (engine, "after_cursor_execute", after_sql),
    ]
    with ExitStack() as stack:
        stack.enter_context(patch.object(service, "run", timed(clock, "pipeline", pipeline.run)))
        snap = timed(clock, "snap", pipeline.snap_fixes)
        stack.enter_context(patch.object(pipeline, "snap_fixes", snap))
        zones = timed(clock, "zone lookup", ingestor.fences.zones_at)
        stack.enter_context(patch.object(ingestor.fences, "zones_at", zones))
        for name in ("_duty", "_persist", "_moves"):
            step = timed(clock, name, getattr(ingestor, name))
            stack.enter_context(patch.object(ingestor, name, step))
        publish = timed(clock, "publish", ingestor.bus.publish_many)
        stack.enter_context(patch.object(ingestor.bus, "publish_many", publish))
        announce = timed(clock, "announced", service.announced)
        stack.enter_context(patch.object(service, "announced", announce))
        for method in ("execute", "scalars"):
            call = timed_session(result.session_s, getattr(Session, method))
            stack.enter_context(patch.object(Session, method, call))
        for target, name, hook in hooks:
            event.listen(target, name, hook)
        try:
            yield
        finally:
            for target, name, hook in hooks:
                event.remove(target, name, hook)


def ingest_in_process(engine: Engine, settings: Settings, fleet: Fleet) -> IngestRun:
    """Every second of the fleet's driving as one batch through `Ingestor.process`."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        city = load_city_context(session, settings)
    bus = CountingBus()
    ingestor = Ingestor(sessions=sessions, city=city, bus=bus)
    result = IngestRun()
    start = datetime.now(UTC) - timedelta(seconds=fleet.seconds + 5)
    with steps_timed(ingestor, engine, result):
        for second in range(fleet.seconds):
            at = start + timedelta(seconds=second)
            raws = fleet.fixes_at(second, at)
            begin = time.perf_counter()
            accepted, rejected = ingestor.process(raws, now=at + timedelta(seconds=1))
            result.batch_s.append(time.perf_counter() - begin)
            result.positions += len(raws)
            result.accepted += len(accepted)
            result.rejected += rejected
    result.events = bus.counts
    with sessions() as session:
        for table in (TrackPoint, FenceEventRow, CheckInRow):
            count = session.scalar(select(func.count()).select_from(table))
            result.rows[table.__tablename__] = int(count or 0)
    return result


def floor_rows(fleet: Fleet) -> list[list[dict[str, Any]]]:
    """The fleet's positions as bare track point rows, one list per second."""
    start = datetime.now(UTC) - timedelta(seconds=fleet.seconds + 5)
    return [
        [
            {
                "device_id": f.device_id,
                "unit_id": d + 1,
                "at": f.at,
                "lon": f.lon,
                "lat": f.lat,
                "speed_kph": f.speed_kph,
                "course_deg": f.course_deg,
                "altitude_m": None,
                "accuracy_m": f.accuracy_m,
                "edge": -1,
                "fraction": 0.0,
                "zone": "",
                "source": f.source,
            }
            for d, f in enumerate(fleet.fixes_at(second, start + timedelta(seconds=second)))
        ]
        for second in range(fleet.seconds)
    ]


def insert_floor(url: str, batches: list[list[dict[str, Any]]]) -> tuple[float, float]:
    """Seconds to insert the rows with no pipeline: one transaction and one executemany per
    batch; then (table emptied) all of them in a single executemany."""
    engine = make_engine(url)
    migrate(engine)
    sessions = sessionmaker(engine)
    try:
        begin = time.perf_counter()
        for rows in batches:
            with sessions() as session, session.begin():
                session.execute(insert(TrackPoint), rows)
        per_batch_s = time.perf_counter() - begin
        with sessions() as session, session.begin():
            session.execute(text("DELETE FROM track_point"))
        every = [row for rows in batches for row in rows]
        begin = time.perf_counter()
        with sessions() as session, session.begin():
            session.execute(insert(TrackPoint), every)
        return per_batch_s, time.perf_counter() - begin
    finally:
        engine.dispose()


# 2. over HTTP


@dataclass
class Flood:
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    next_second: dict[int, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    drain_s: float = math.nan


async def log_in(client: httpx.AsyncClient, password: str) -> str:
    body = {"username": "dispatcher", "password": password}
    reply = await client.post("/api/auth/token", json=body)
    reply.raise_for_status()
    token: str = reply.json()["access_token"]
    return token


async def flood(
    base_url: str, fleet: Fleet, load: HttpLoad, *, base_at: datetime, last_second: int
) -> Flood:
    """OsmAnd GETs from `load.clients` clients, each sending its devices' tracks in order,
    for `load.flood_s`."""
    clients = load.clients
    result = Flood(clients, next_second=dict.fromkeys(range(len(fleet.device_ids)), 0))
    deadline = time.perf_counter() + load.flood_s

    async def client_loop(devices: range) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
            for second in range(last_second):
                for d in devices:
                    if time.perf_counter() >= deadline:
                        return
                    at = base_at + timedelta(seconds=second)
                    begin = time.perf_counter()
                    try:
                        reply = await client.get(
                            "/api/osmand", params=fleet.osmand_query(d, second, at)
                        )
                        status = str(reply.status_code)
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    result.latencies_ms.append((time.perf_counter() - begin) * 1000)
                    result.statuses[status] += 1
                    result.next_second[d] = second + 1

    begin = time.perf_counter()
    n = len(fleet.device_ids)
    await asyncio.gather(*(client_loop(range(c, n, clients)) for c in range(clients)))
    result.seconds = time.perf_counter() - begin
    return result


async def drained(client: httpx.AsyncClient, token: str, sent_ok: int, flood: Flood) -> None:
    """Wait until the server's ingestor has processed what was sent (30 s at most)."""
    begin = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() - begin < 30.0:
        stats = (await client.get("/api/tracking/stats", headers=headers)).json()
        processed = stats["accepted"] + sum(stats["rejected"].values())
        if processed >= sent_ok:
            flood.drain_s = time.perf_counter() - begin
            break
        await asyncio.sleep(0.05)
    flood.stats = stats


# 3. latency


@dataclass
class Latency:
    """Wall-clock times (the server's clock is the same) of each fix by (device, lon, lat):
    sent, its event built on the server (the event's `at`), its event received; `devices`
    send a fix a second each for `seconds`."""

    devices: int
    seconds: int
    sent: dict[tuple[str, float, float], float] = field(default_factory=dict)
    built: dict[tuple[str, float, float], float] = field(default_factory=dict)
    received: dict[tuple[str, float, float], float] = field(default_factory=dict)
    http_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    other_events: Counter[str] = field(default_factory=Counter)
    batches: int = 0  # the server's ingestion batches during the run

    def between_ms(self, start: str, end: str) -> list[float]:
        starts, ends = getattr(self, start), getattr(self, end)
        return [(ends[k] - t) * 1000 for k, t in starts.items() if k in ends]


async def read_events(ws: Any, result: Latency) -> None:
    async for message in ws:
        now = time.time()
        data = json.loads(message)
        if (data["kind"], data["action"]) != ("unit", "moved"):
            result.other_events[f"{data['kind']} {data['action']}"] += 1
            continue
        fix = data["data"]
        key = (fix["device_id"], fix["lon"], fix["lat"])
        result.received.setdefault(key, now)
        result.built.setdefault(key, datetime.fromisoformat(data["at"]).timestamp())


async def steady_fixes(
    base_url: str, fleet: Fleet, result: Latency, *, base_at: datetime, next_second: dict[int, int]
) -> None:
    """`result.devices` devices, one fix a second each, evenly spread over the second."""
    limits = httpx.Limits(max_connections=result.devices)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
        start = time.time() + 0.5

        async def device_loop(d: int) -> None:
            for j in range(result.seconds):
                await asyncio.sleep(max(0.0, start + j + d / result.devices - time.time()))
                second = next_second[d] + j
                query = fleet.osmand_query(d, second, base_at + timedelta(seconds=second))
                key = (query["id"], float(query["lon"]), float(query["lat"]))
                result.sent[key] = time.time()
                reply = await client.get("/api/osmand", params=query)
                result.http_ms.append((time.time() - result.sent[key]) * 1000)
                result.statuses[str(reply.status_code)] += 1

        await asyncio.gather(*(device_loop(d) for d in range(result.devices)))


async def measure_latency(
    base_url: str,
    token: str,
    fleet: Fleet,
    load: HttpLoad,
    *,
    base_at: datetime,
    next_second: dict[int, int],
) -> Latency:
    result = Latency(load.latency_devices, load.latency_s)
    async with httpx.AsyncClient(base_url=base_url) as client:
        ws_url = await stream_url(client, base_url, token)
    async with connect(ws_url, max_queue=None) as ws:
        reader = asyncio.create_task(read_events(ws, result))
        await steady_fixes(base_url, fleet, result, base_at=base_at, next_second=next_second)
        give_up = time.perf_counter() + EVENT_WAIT_S
        while time.perf_counter() < give_up and not result.sent.keys() <= result.received.keys():
            await asyncio.sleep(0.05)
        reader.cancel()
    return result


async def over_http(
    base_url: str, password: str, fleet: Fleet, load: HttpLoad
) -> tuple[Flood, Latency]:
    """The flood, the wait until the server caught up, then the latency run."""
    base_at = datetime.now(UTC) - timedelta(seconds=fleet.seconds + 60)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        token = await log_in(client, password)
        result = await flood(
            base_url, fleet, load, base_at=base_at, last_second=fleet.seconds - load.latency_s
        )
        await drained(client, token, result.statuses["200"], result)
        latency = await measure_latency(
            base_url, token, fleet, load, base_at=base_at, next_second=result.next_second
        )
        headers = {"Authorization": f"Bearer {token}"}
        stats = (await client.get("/api/tracking/stats", headers=headers)).json()
        latency.batches = stats["batches"] - result.stats.get("batches", 0)
    return result, latency


# running a backend


@dataclass
class BackendRun:
    backend: str
    ingest: IngestRun
    floor_batches_s: float
    floor_single_s: float
    flood: Flood | None = None
    latency: Latency | None = None
    server_errors: list[str] = field(default_factory=list)


def bench_backend(
    backend: str, *, devices: int, seconds: int, load: HttpLoad, cache_dir: Path
) -> BackendRun:
    with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{backend}-") as tmp:
        folder = Path(tmp)
        (folder / "floor").mkdir()
        with (
            fresh_database(backend, folder) as url,
            fresh_database(backend, folder / "floor") as floor_url,
        ):
            settings = Settings(database_url=url, data_dir=folder, cache_dir=cache_dir)
            begin = time.perf_counter()
            passwords = ready_server_city(settings)
            engine = make_engine(url)
            prepare_s = time.perf_counter() - begin
            begin = time.perf_counter()
            with Session(engine) as session:
                city = load_city_context(session, settings)
                fleet = make_fleet(session, city, devices=devices, seconds=seconds)
            register_fleet(engine, fleet.device_ids)
            fleet_s = time.perf_counter() - begin
            kinds = ", ".join(f"{n} {k}" for k, n in Counter(fleet.kinds).items())
            console.print(
                f"{backend}: city ready in {prepare_s:.1f} s; fleet of {kinds} cars,"
                f" {fleet.seconds} s of driving each, ready in {fleet_s:.1f} s"
            )
            ingest = ingest_in_process(engine, settings, fleet)
            engine.dispose()
            per_batch_s, single_s = insert_floor(floor_url, floor_rows(fleet))
            run = BackendRun(backend, ingest, per_batch_s, single_s)
            log = folder / "server.log"
            try:
                # the fleet replays its tracks at full speed: no per-device limit
                unlimited = {
                    "JIAOXUN_DEVICE_FIXES_PER_S": "1e6",
                    "JIAOXUN_DEVICE_FIX_BURST": "1000000",
                }
                with running_server(settings, port=free_port(), log=log, env=unlimited) as base_url:
                    password = passwords["dispatcher"]
                    run.flood, run.latency = asyncio.run(over_http(base_url, password, fleet, load))
            finally:
                run.server_errors = server_errors(log.read_text(encoding="utf-8", errors="replace"))
    return run


def server_errors(server_log: str) -> list[str]:
    """The last line of every traceback in the server's log, and logged errors."""
    tracebacks = re.findall(r"^Traceback.*?^(\S.*?)$", server_log, flags=re.M | re.S)
    logged = [line for line in server_log.splitlines() if " failed" in line or "ERROR" in line]
    return [*tracebacks, *logged]


# report


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def verdict(rate: float) -> str:
    return "[bold green]PASS[/]" if rate >= TARGET_PER_S else "[bold red]MISS[/]"


def table_of(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def ingest_table(run: BackendRun) -> Table:
    ingest, n = run.ingest, run.ingest.positions
    batches = len(ingest.batch_s)
    table = table_of(
        f"{run.backend}: {n:,} positions of {n // batches} devices, {batches} batches of 1 s",
        ("path", "seconds", "positions/s", "time / floor", f"target {TARGET_PER_S:,.0f}/s"),
    )
    rate = n / ingest.total_s
    ratio = ingest.total_s / run.floor_batches_s
    table.add_row(
        "Ingestor.process, whole pipeline",
        f"{ingest.total_s:.2f}",
        f"{rate:,.0f}",
        f"{ratio:.1f}x",
        verdict(rate),
    )
    for name, seconds in (
        ("floor: bare rows, an executemany per batch", run.floor_batches_s),
        ("floor: bare rows, one executemany of all", run.floor_single_s),
    ):
        ratio = seconds / run.floor_batches_s
        table.add_row(name, f"{seconds:.2f}", f"{n / seconds:,.0f}", f"{ratio:.2f}x", "")
    quarter = max(1, batches // 4)
    early = quarter * n / batches / sum(ingest.batch_s[:quarter])
    late = quarter * n / batches / sum(ingest.batch_s[-quarter:])
    table.caption = (
        f"a batch: p50 {pct(ingest.batch_s, 50) * 1000:.1f} ms, p99"
        f" {pct(ingest.batch_s, 99) * 1000:.1f} ms, max {max(ingest.batch_s) * 1000:.1f} ms;"
        f" first quarter {early:,.0f}/s, last quarter {late:,.0f}/s"
    )
    return table


def steps_table(run: BackendRun) -> Table:
    ingest, steps = run.ingest, run.ingest.steps_s
    orm = ingest.session_s
    persist = {
        "persist: zone of each row": steps["zone lookup"],
        "persist: insert track points": ingest.sql_s["insert track_point"],
        "persist: query devices": orm["select device"],
        "persist: update devices": orm["update device"],
        "persist: update units": orm["update unit"],
    }
    rows = {
        "validate, order, jump filter": steps["pipeline"] - steps["snap"],
        "snap to road": steps["snap"],
        "patrol duty: fences, visits, matching, state": steps["_duty"],
        **persist,
        "persist: rest, row dicts and Device objects": steps["_persist"] - sum(persist.values()),
        "commit": steps["commit"],
        "build and publish events": steps["_moves"] + steps["announced"] + steps["publish"],
    }
    rows["rest: sessions, counting"] = ingest.total_s - sum(rows.values())
    table = table_of(
        f"{run.backend}: where Ingestor.process spends its time",
        ("step", "seconds", "share", "us per position"),
    )
    for name, seconds in rows.items():
        table.add_row(
            name,
            f"{seconds:.2f}",
            f"{seconds / ingest.total_s:.0%}",
            f"{seconds / ingest.positions * 1e6:.1f}",
        )
    return table


def sql_table(run: BackendRun) -> Table:
    ingest = run.ingest
    table = table_of(
        f"{run.backend}: SQL inside Ingestor.process, in the driver and in the session",
        ("statement", "cursor executions", "driver s", "session s", "session ms a batch"),
    )
    batches = len(ingest.batch_s)
    for name, seconds in sorted(ingest.sql_s.items(), key=lambda item: -item[1]):
        session_s = ingest.session_s.get(name, math.nan)
        table.add_row(
            escape(name),
            str(ingest.sql_n[name]),
            f"{seconds:.2f}",
            f"{session_s:.2f}",
            f"{session_s / batches * 1000:.2f}",
        )
    return table


def outcome_line(run: BackendRun) -> str:
    ingest = run.ingest
    rejected = ", ".join(f"{escape(k)} {n}" for k, n in ingest.rejected.items()) or "none"
    events = ", ".join(f"{k} {n:,}" for k, n in sorted(ingest.events.items()))
    rows = ", ".join(f"{k} {n:,}" for k, n in ingest.rows.items())
    return (
        f"accepted {ingest.accepted:,}, rejected: {rejected}; events published: {events};"
        f" rows stored: {rows}"
    )


def http_table(run: BackendRun) -> Table:
    table = table_of(
        f"{run.backend}: through a real jiaoxun serve subprocess",
        ("measure", "count", "per s", "p50 ms", "p99 ms", "max ms", "answers"),
    )
    flood, latency = run.flood, run.latency
    if flood is not None:
        answers = ", ".join(f"{k}: {n}" for k, n in sorted(flood.statuses.items()))
        count = sum(flood.statuses.values())
        table.add_row(
            f"OsmAnd GET, {flood.clients} clients flat out",
            f"{count:,}",
            f"{count / flood.seconds:,.0f}",
            f"{pct(flood.latencies_ms, 50):.1f}",
            f"{pct(flood.latencies_ms, 99):.1f}",
            f"{max(flood.latencies_ms, default=math.nan):.1f}",
            answers,
        )
    if latency is not None:
        answers = ", ".join(f"{k}: {n}" for k, n in sorted(latency.statuses.items()))
        for name, values, shown in (
            (f"OsmAnd GET, {latency.devices} fixes a second", latency.http_ms, answers),
            ("fix sent to its event on the WebSocket", latency.between_ms("sent", "received"), ""),
            ("  of which: sent to event built on server", latency.between_ms("sent", "built"), ""),
            ("  of which: event built to received", latency.between_ms("built", "received"), ""),
        ):
            table.add_row(
                name,
                f"{len(values):,}",
                f"{len(values) / latency.seconds:.0f}",
                f"{pct(values, 50):.1f}",
                f"{pct(values, 99):.1f}",
                f"{max(values, default=math.nan):.1f}",
                shown,
            )
    return table


def http_notes(run: BackendRun) -> list[str]:
    notes = []
    if run.flood is not None:
        s = run.flood.stats
        batches = max(1, int(s.get("batches", 0)))
        rejected = ", ".join(f"{escape(k)} {n}" for k, n in s.get("rejected", {}).items())
        notes.append(
            f"the server's ingestor accepted {s.get('accepted', 0):,} in {batches:,} batches"
            f" (mean {s.get('accepted', 0) / batches:.1f} a batch), rejected: {rejected or 'none'};"
            f" caught up {run.flood.drain_s:.2f} s after the last answer;"
            f" {sum(ms > 1000 for ms in run.flood.latencies_ms)} requests took over 1 s."
            " Clients and server"
            " share the machine's cores: this is bounded by HTTP, not by ingestion."
        )
    if run.latency is not None:
        lost = len(run.latency.sent.keys() - run.latency.received.keys())
        style = "bold red" if lost else "green"
        others = ", ".join(f"{k} {n}" for k, n in sorted(run.latency.other_events.items()))
        notes.append(
            f"[{style}]events lost: {lost}[/] of {len(run.latency.sent)} fixes (none within"
            f" {EVENT_WAIT_S:.0f} s); other events seen: {others or 'none'}. The server ran"
            f" {run.latency.batches} ingestion batches for {len(run.latency.sent)} fixes: the"
            f" latency includes the ingestor's batching wait, run_forever(wait_s={WAIT_S}),"
            f" {WAIT_S * 1000:.0f} ms for the first fix of each batch."
        )
    if run.server_errors:
        notes += [f"[bold red]server log: {escape(line)}[/]" for line in run.server_errors[:10]]
    else:
        notes.append("[green]no traceback or error in the server log[/]")
    return notes


def summary_table(runs: list[BackendRun]) -> Table:
    table = table_of(
        "summary",
        (
            "backend",
            "ingest/s",
            "floor/s",
            "ingest time / floor",
            "target",
            "HTTP GET/s",
            "event p50 ms",
            "event p99 ms",
        ),
    )
    for run in runs:
        rate = run.ingest.positions / run.ingest.total_s
        floor = run.ingest.positions / run.floor_batches_s
        flood, latency = run.flood, run.latency
        http_rate = sum(flood.statuses.values()) / flood.seconds if flood else math.nan
        waits = latency.between_ms("sent", "received") if latency else []
        table.add_row(
            run.backend,
            f"{rate:,.0f}",
            f"{floor:,.0f}",
            f"{floor / rate:.1f}x",
            verdict(rate),
            f"{http_rate:,.0f}",
            f"{pct(waits, 50):.1f}",
            f"{pct(waits, 99):.1f}",
        )
    return table


def report(run: BackendRun) -> None:
    console.print(ingest_table(run))
    console.print(outcome_line(run))
    console.print(steps_table(run))
    console.print(sql_table(run))
    console.print(http_table(run))
    for note in http_notes(run):
        console.print(note)


def failures(run: BackendRun) -> list[str]:
    """What fails a smoke run: the server's errors, its 5xx answers and transport failures."""
    statuses = Counter[str]()
    for counted in (run.flood, run.latency):
        statuses += counted.statuses if counted is not None else Counter()
    bad = [f"{s} x {n}" for s, n in statuses.items() if s.startswith("5") or not s.isdigit()]
    return [f"{run.backend}: {problem}" for problem in [*bad, *run.server_errors]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--positions", type=int, default=72_000)
    parser.add_argument("--devices", type=int, default=300)
    args = parse_args(parser, smoke={"positions": 600, "devices": 30})
    load = SMOKE_LOAD if args.smoke else FULL_LOAD
    seconds = max(load.latency_s + 5, args.positions // args.devices)
    runs = []
    with cache_folder() as cache:
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            console.rule(backend)
            try:
                run = bench_backend(
                    backend, devices=args.devices, seconds=seconds, load=load, cache_dir=cache
                )
            except (OperationalError, RuntimeError) as exc:
                if args.smoke:
                    raise
                console.print(f"[bold red]{backend} skipped:[/] {escape(str(exc))}")
                continue
            report(run)
            runs.append(run)
    if runs:
        console.rule("summary")
        console.print(summary_table(runs))
    fail_on([p for run in runs for p in failures(run)], smoke=args.smoke, console=console)


if __name__ == "__main__":
    main()
