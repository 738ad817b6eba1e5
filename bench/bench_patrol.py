"""Benchmark of patrol duty kept fix by fix (issue 13): the report's latency, ingestion with the
duty kept, and the line coverage the report gives, each against a baseline in the same run.

(a) Report latency. A fresh SQLite database holds the demo city (`ready_server_city`). Each of
    its 27 units drives 8 h of its shift at 1 Hz: from one of its zone's mandatory points to
    another or along one of its zone's mandatory lines (the fastest road to its start, then the
    line), about 36 km/h with 3 m of GPS noise, waiting at each point for its dwell and a
    little more. The fixes go into `track_point` in bulk (snapped and zoned as the ingestor
    stores them), then every unit's duty is built by `DutyKeeper.rebuild` from its stored
    track: that replay, with map matching, is what computing the report from the tracks costs,
    and is the baseline (timed). `GET /api/patrol/report` is then timed through the real app
    (FastAPI's TestClient, the app's lifespan running) as a dispatcher. For 300 units, 273
    units are added over the 9 zones, each with a copy of the stored duty and check-ins of a
    demo unit (so as large as an 8 h duty); their baseline is the 27 units' rebuild scaled
    by 300 / 27 (replaying 8.6 million fixes would take the better part of an hour).
(b) Ingestion throughput. bench_ingest's fleet (300 cars at 1 Hz, `make_fleet`) through
    `Ingestor.process`, a batch a second, with the duty kept (map matching and the stored
    `PatrolState`) and, on a database of its own, by the ingestor as it was before (the
    baseline, `TodaysIngestor`: each device's zone fences and point visits followed in memory
    fix by fix, nothing more stored); the batches of the two alternate, so both see the same
    load of the machine. SQLite, and PostgreSQL when one answers.
(c) Coverage. Every mandatory line of the demo city driven fully at 36 km/h with 10 m of GPS
    noise, lead-in and lead-out (bench_matching's drives), sampled every 5, 15, 30 and 60 s:
    the fixes go through `take_fix` and `flush` of a `UnitDuty` with the real `DutyRules` (map
    matching and the alongside rule), and the line's share is read from the duty's portions
    as the report reads it. Baseline: today's raw-snap `driven_portions` (bench_matching's).

Targets (issue 13): report < 100 ms median for 27 units x 8 h, < 1 s for 300 units; ingestion
with the duty at least 0.8 of without; coverage mean at least 0.95 at 30 s fixes, 0.9 at 60 s.

    .venv/bin/python bench/bench_patrol.py [--hours 8] [--backend both] [--lines 0] [--smoke]

`--smoke` drives the 27 units for 10 min (30 units for the larger report), 30 cars for 30 s
on SQLite and 6 lines. A MISS is a finding to report, not a failure: the script exits 0,
non-zero on a crash (a report request that fails raises).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker, undefer

from bench_api import backends_for, fresh_database
from bench_ingest import CountingBus, Fleet, make_fleet, register_fleet
from bench_matching import baseline_share, drive_of, sample
from harness import cache_folder, parse_args, ready_server_city, scratch_folder
from jiaoxun.city.context import CityContext, load_city_context
from jiaoxun.city.models import PatrolPoint, Zone
from jiaoxun.db import make_engine, transaction
from jiaoxun.errors import JiaoxunError
from jiaoxun.geo.matching import Matcher
from jiaoxun.geo.network import Floats
from jiaoxun.geo.snap import Snap
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.settings import Settings
from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.duty import SHIFT, DutyRules, UnitDuty, flush, take_fix
from jiaoxun.tracking.duty_rules import duty_rules, home_zones, mandatory_lines
from jiaoxun.tracking.duty_store import DutyKeeper
from jiaoxun.tracking.found import Found
from jiaoxun.tracking.geofence import ZoneFences
from jiaoxun.tracking.lines import MandatoryLine, driven_fractions, line_coverage
from jiaoxun.tracking.models import CheckInRow, PatrolState, TrackPoint
from jiaoxun.tracking.service import Ingestor
from jiaoxun.units.models import Unit
from jiaoxun.web.app import create_app

SEED = 13
SPEED_MPS = 10.0
GPS_NOISE_M = 3.0
INSERT_CHUNK = 20_000
MANY_UNITS = 300
INTERVALS_S = (5, 15, 30, 60)
TARGET_REPORT_S = {"demo": 0.1, "many": 1.0}
TARGET_INGEST_RATIO = 0.8
TARGET_SHARE = {30: 0.95, 60: 0.9}
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

console = Console(width=max(Console().width, 130))


def verdict(met: bool) -> str:
    return "[bold green]PASS[/]" if met else "[bold red]MISS[/]"


def table_of(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def duty_keeper(session: Session, city: CityContext, clock: ShiftClock) -> DutyKeeper:
    """A keeper with the rules the ingestor builds (`Ingestor.reload_duty`), no state."""
    tt = city.travel_times
    fences = ZoneFences.from_polygons(
        [z.code for z in city.zones], city.zone_shapes, xy=tt.snapper.to_xy
    )
    rules = duty_rules(session, city, fences=fences, matcher=Matcher(tt))
    return DutyKeeper(rules, clock=clock, homes=home_zones(session, city))


# (a) the shift's drives


@dataclass(frozen=True)
class Beat:
    """A zone's mandatory points (snapped, with their dwell in s) and lines."""

    points: list[tuple[Snap, float]]
    lines: list[MandatoryLine]


def beats_of(session: Session, city: CityContext) -> dict[str, Beat]:
    tt = city.travel_times
    codes = {z.id: z.code for z in city.zones}
    lines = mandatory_lines(session, city)
    beats: dict[str, Beat] = {}
    for code in codes.values():
        beats[code] = Beat([], [line for line in lines if line.zone == code])
    for point in session.scalars(select(PatrolPoint).order_by(PatrolPoint.id)):
        beats[codes[point.zone_id]].points.append(
            (tt.snap(point.lon, point.lat), point.dwell_min * 60.0)
        )
    return beats


def leg_to(tt: TravelTimes, here: Snap, beat: Beat, rng: np.random.Generator) -> tuple[Any, Snap]:
    """The lon/lat polyline of the next leg from `here` and where it ends: to another point
    of the beat, or along one of its lines from the fastest road to its start."""
    net = tt.network
    if beat.lines and rng.random() < 0.5:
        line = beat.lines[int(rng.integers(len(beat.lines)))]
        first, last = line.edges[0], line.edges[-1]
        start = Snap(first, 0.0, 0.0, *map(float, net.edge_coords(first)[0]))
        end = Snap(last, 1.0, 0.0, *map(float, net.edge_coords(last)[-1]))
        lead = tt.route(here, start)
        return np.vstack([lead.coords, *[net.edge_coords(e) for e in line.edges]]), end
    target, _ = beat.points[int(rng.integers(len(beat.points)))]
    return tt.route(here, target).coords, target


def patrol_drive(
    tt: TravelTimes, beat: Beat, rng: np.random.Generator, seconds: int
) -> tuple[Floats, Floats]:
    """`seconds` of 1 Hz fixes (lon, lat) of a car patrolling its beat (module docstring)."""
    here, _ = beat.points[int(rng.integers(len(beat.points)))]
    xs: list[Floats] = []
    ys: list[Floats] = []
    filled = 0
    while filled < seconds:
        try:
            lonlat, there = leg_to(tt, here, beat, rng)
        except JiaoxunError:  # no road there from here: another leg
            continue
        x, y = (np.asarray(v) for v in tt.snapper.to_xy.transform(lonlat[:, 0], lonlat[:, 1]))
        along_m = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        speed = np.clip(SPEED_MPS + rng.normal(0.0, 0.7, int(along_m[-1] / 8) + 2), 2.0, 16.0)
        at_m = np.concatenate([[0.0], np.cumsum(speed)])
        at_m = at_m[at_m < along_m[-1]]
        xs.append(np.interp(at_m, along_m, x))
        ys.append(np.interp(at_m, along_m, y))
        filled += len(at_m)
        dwell = next((d for p, d in beat.points if p == there), 0.0)
        if dwell:  # wait at the point for its dwell and a little more
            wait = int(dwell + rng.uniform(30, 120))
            xs.append(np.full(wait, x[-1]))
            ys.append(np.full(wait, y[-1]))
            filled += wait
        here = there
    x = np.concatenate(xs)[:seconds] + rng.normal(0.0, GPS_NOISE_M, seconds)
    y = np.concatenate(ys)[:seconds] + rng.normal(0.0, GPS_NOISE_M, seconds)
    lon, lat = tt.snapper.to_lonlat.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def track_rows(
    city: CityContext, fences: ZoneFences, *, unit_id: int, device_id: str, start: datetime,
    lon: Floats, lat: Floats,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The fixes as the ingestor stores them: snapped (edge -1 beyond 50 m), zoned."""
    snaps = city.travel_times.snapper.snap_many(lon, lat, strict=False)
    edges = np.where(snaps.distance_m <= 50.0, snaps.edge, -1).tolist()
    zones = fences.zones_at(lon, lat).tolist()
    course = np.degrees(np.arctan2(np.gradient(lon), np.gradient(lat))) % 360
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        yield {
            "device_id": device_id,
            "unit_id": unit_id,
            "at": start + timedelta(seconds=i),
            "lon": x,
            "lat": y,
            "speed_kph": 36.0,
            "course_deg": float(course[i]),
            "altitude_m": None,
            "accuracy_m": 5.0,
            "edge": edges[i],
            "fraction": float(snaps.fraction[i]),
            "zone": zones[i],
            "source": "osmand",
        }


def store_tracks(engine: Engine, city: CityContext, *, seconds: int, start: datetime) -> int:
    """A shift of driving for every demo unit, inserted in bulk; returns the fixes."""
    rng = np.random.default_rng(SEED)
    tt = city.travel_times
    fences = ZoneFences.from_polygons(
        [z.code for z in city.zones], city.zone_shapes, xy=tt.snapper.to_xy
    )
    count = 0
    with transaction(engine) as session:
        beats = beats_of(session, city)
        units = [(u.id, u.device_id, u.zone_id) for u in session.scalars(select(Unit))]
    for unit_id, device_id, zone_id in units:
        lon, lat = patrol_drive(tt, beats[city.zone_by_id(zone_id).code], rng, seconds)  # type: ignore[union-attr]
        rows = list(
            track_rows(
                city, fences, unit_id=unit_id, device_id=str(device_id), start=start,
                lon=lon, lat=lat,
            )
        )  # fmt: skip
        with transaction(engine) as session:
            for i in range(0, len(rows), INSERT_CHUNK):
                session.execute(insert(TrackPoint), rows[i : i + INSERT_CHUNK])
        count += len(rows)
    return count


def rebuild_all(engine: Engine, city: CityContext, clock: ShiftClock, now: datetime) -> float:
    """Every unit's duty rebuilt from its stored track and stored: the baseline's seconds."""
    with transaction(engine) as session:
        keeper = duty_keeper(session, city, clock)
        start, _ = clock.shift_at(now)
        units = session.scalars(select(Unit.id).order_by(Unit.id)).all()
        begin = time.perf_counter()
        for unit_id in units:
            keeper.rebuild(session, unit_id, start, now=now)
        return time.perf_counter() - begin


def add_copied_units(engine: Engine, total: int, shift_start: datetime) -> int:
    """Units up to `total`, spread over the zones, each with a copy of a demo unit's stored
    duty and check-ins of the shift; returns how many were added."""
    with transaction(engine) as session:
        demo = session.scalars(
            select(PatrolState)
            .options(undefer(PatrolState.roads))
            .where(PatrolState.shift_start == shift_start)
        )
        states = [(s.unit_id, s.state, s.portions, s.roads, s.updated_at) for s in demo]
        check_ins = session.scalars(select(CheckInRow)).all()
        n_before = len(session.scalars(select(Unit.id)).all())
        zones = session.scalars(select(Zone).order_by(Zone.code)).all()
        zone_code = {z.id: z.code for z in zones}
        new = [
            Unit(call_sign=f"COPY-{i:03d}", zone_id=zones[i % len(zones)].id)
            for i in range(n_before, total)
        ]
        session.add_all(new)
        session.flush()
        for i, unit in enumerate(new):
            model_id, state, portions, roads, updated = states[i % len(states)]
            state = {**state, "home_zone": zone_code.get(unit.zone_id or 0, "")}
            session.add(
                PatrolState(
                    unit_id=unit.id,
                    shift_start=shift_start,
                    shift_end=shift_start + timedelta(hours=24),
                    state=state,
                    portions=portions,
                    roads=roads,
                    updated_at=updated,
                )
            )
            session.add_all(
                CheckInRow(
                    point_id=c.point_id,
                    unit_id=unit.id,
                    arrived_at=c.arrived_at,
                    checked_in_at=c.checked_in_at,
                    manual=c.manual,
                    proved=c.proved,
                    by=c.by,
                )
                for c in check_ins
                if c.unit_id == model_id
            )
    return len(new)


def time_report(client: TestClient, token: str, repeats: int) -> tuple[list[float], int, int]:
    """Seconds of each GET /api/patrol/report after one warm-up; the units and lines reported
    by the last. A failed request raises."""
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/patrol/report", headers=headers).raise_for_status()
    seconds = []
    for _ in range(repeats):
        begin = time.perf_counter()
        reply = client.get("/api/patrol/report", headers=headers)
        seconds.append(time.perf_counter() - begin)
        reply.raise_for_status()
    body = reply.json()
    lines = sum(len(z["duty"]["lines"]) for z in body["zones"])
    return seconds, len(body["units"]), lines


@dataclass(frozen=True)
class ReportRun:
    name: str
    units: int
    fixes: int
    baseline_s: float
    estimated: bool
    seconds: list[float]
    lines: int


def shift_settings(folder: Path, cache: Path) -> Settings:
    """One shift a day, started 9-10 h ago: the drives of the last 8 h all fall in it."""
    hour = (datetime.now(ZoneInfo("Asia/Shanghai")).hour - 9) % 24
    return Settings(
        database_url=f"sqlite:///{folder / 'jiaoxun.db'}",
        data_dir=folder,
        cache_dir=cache,
        shift_starts=[f"{hour:02d}:00"],
    )


def measure_report(
    *, hours: float, many: int, repeats: int, template: Path, passwords: dict[str, str],
    cache: Path,
) -> tuple[list[ReportRun], DutyRules, TravelTimes]:  # fmt: skip
    with scratch_folder("bench-patrol") as folder:
        settings = shift_settings(folder, cache)
        shutil.copy(template, folder / "jiaoxun.db")
        engine = make_engine(settings.database)
        clock = ShiftClock.of(settings.shift_starts, settings.tz)
        register_fleet(engine, [f"patrol-{i:03d}" for i in range(27)])  # a device each
        with Session(engine) as session:
            city = load_city_context(session, settings)
        seconds = int(hours * 3600)
        now = datetime.now(UTC)
        begin = time.perf_counter()
        fixes = store_tracks(
            engine, city, seconds=seconds, start=now - timedelta(seconds=seconds + 60)
        )
        console.print(
            f"(a) {fixes:,} fixes driven and stored in {time.perf_counter() - begin:.1f} s"
        )
        baseline_s = rebuild_all(engine, city, clock, now)
        with Session(engine) as session:
            rules = duty_keeper(session, city, clock).rules
            n_units = len(session.scalars(select(Unit.id)).all())
        runs = []
        with TestClient(create_app(settings, engine)) as client:
            body = {"username": "dispatcher", "password": passwords["dispatcher"]}
            token = client.post("/api/auth/token", json=body).json()["access_token"]
            timed, units, lines = time_report(client, token, repeats)
            runs.append(ReportRun("demo", units, fixes, baseline_s, False, timed, lines))
            added = add_copied_units(engine, many, clock.shift_at(now)[0])
            timed, units, lines = time_report(client, token, repeats)
            scaled = baseline_s * (n_units + added) / n_units
            runs.append(ReportRun("many", units, fixes, scaled, True, timed, lines))
        engine.dispose()
    return runs, rules, city.travel_times


def report_table(runs: list[ReportRun], hours: float) -> Table:
    table = table_of(
        f"(a) GET /api/patrol/report through the app, {hours * 60:.0f} min of 1 Hz fixes a unit",
        ("units", "baseline: rebuild every unit s", "report p50 ms", "report max ms",
         "baseline / report", "target", "met"),
    )  # fmt: skip
    for run in runs:
        p50 = statistics.median(run.seconds)
        target = TARGET_REPORT_S[run.name]
        table.add_row(
            f"{run.units} ({run.lines} lines)",
            f"{run.baseline_s:.1f}" + (" (scaled)" if run.estimated else ""),
            f"{p50 * 1000:.1f}",
            f"{max(run.seconds) * 1000:.1f}",
            f"{run.baseline_s / p50:,.0f}x",
            f"< {target * 1000:.0f} ms",
            verdict(p50 < target),
        )
    per_unit = runs[0].fixes // max(1, runs[0].units)
    table.caption = (
        f"baseline: DutyKeeper.rebuild of each unit from its {per_unit:,} stored fixes (map"
        f" matching included); that of {runs[-1].units} units scaled from the demo's"
    )
    return table


# (b) ingestion with the duty and without


class TodaysIngestor(Ingestor):
    """The baseline of (b): the ingestor as it was before the duty was kept, which followed
    each device's zone fences and point visits in memory, fix by fix (a fence update and a
    point lookup a fix), and stored nothing more than the fixes and their events."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zones_of: dict[str, Any] = {}
        self.visits_of: dict[str, dict[int, Any]] = {}

    def _duty(self, session: Session, fixes: Any, *, now: datetime) -> list[Found]:
        rules = self.duty.rules
        for fix in fixes:
            x, y = rules.fences.xy.transform(fix.lon, fix.lat)
            state, _ = rules.fences.update_xy(self.zones_of.get(fix.device_id), x, y, fix.at)
            self.zones_of[fix.device_id] = state
            visits = self.visits_of.setdefault(fix.device_id, {})
            rules.visits.step(visits, x, y, fix.at, unit=fix.device_id)
        return []


@dataclass
class IngestFigures:
    positions: int = 0
    seconds: float = 0.0

    @property
    def per_s(self) -> float:
        return self.positions / self.seconds


def ready_ingestor(kind: type[Ingestor], url: str, settings: Settings, fleet: Fleet) -> Ingestor:
    engine = make_engine(url)
    register_fleet(engine, fleet.device_ids)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        city = load_city_context(session, settings)
    return kind(sessions=sessions, city=city, bus=CountingBus())


@contextmanager
def prepared(
    backend: str, folder: Path, *, template: Path, cache: Path
) -> Iterator[tuple[str, Settings]]:
    """A database ready to serve: a copy of the `template` SQLite file, or a PostgreSQL
    database prepared anew."""
    with fresh_database(backend, folder) as url:
        settings = Settings(database_url=url, data_dir=folder, cache_dir=cache)
        if backend == "sqlite":
            shutil.copy(template, folder / "jiaoxun.db")
        else:
            ready_server_city(settings)
        yield url, settings


@contextmanager
def template_city(cache: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A SQLite file ready to serve (`ready_server_city`), copied by every section, and the
    users' passwords."""
    with scratch_folder("bench-patrol-template") as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder / 'jiaoxun.db'}", data_dir=folder, cache_dir=cache
        )
        yield folder / "jiaoxun.db", ready_server_city(settings)


def measure_ingest(
    backend: str, *, devices: int, seconds: int, template: Path, cache: Path
) -> dict[str, IngestFigures]:
    with scratch_folder(f"bench-patrol-{backend}") as folder:
        (folder / "with").mkdir()
        (folder / "without").mkdir()
        with (
            prepared(backend, folder / "with", template=template, cache=cache) as ready,
            prepared(backend, folder / "without", template=template, cache=cache) as bare,
        ):
            (url_with, settings), (url_without, _) = ready, bare
            engine = make_engine(url_with)
            with Session(engine) as session:
                city = load_city_context(session, settings)
                fleet = make_fleet(session, city, devices=devices, seconds=seconds)
            engine.dispose()
            ingestors = {
                "with the duty": ready_ingestor(Ingestor, url_with, settings, fleet),
                "today's (baseline)": ready_ingestor(TodaysIngestor, url_without, settings, fleet),
            }
            figures = {name: IngestFigures() for name in ingestors}
            start = datetime.now(UTC) - timedelta(seconds=fleet.seconds + 5)
            for second in range(fleet.seconds):
                at = start + timedelta(seconds=second)
                # alternate which goes first, so that neither always follows the other
                order = list(ingestors.items())[:: 1 if second % 2 else -1]
                for name, ingestor in order:
                    raws = fleet.fixes_at(second, at)
                    begin = time.perf_counter()
                    ingestor.process(raws, now=at + timedelta(seconds=1))
                    figures[name].seconds += time.perf_counter() - begin
                    figures[name].positions += len(raws)
            for ingestor in ingestors.values():
                ingestor.sessions.kw["bind"].dispose()
    return figures


def ingest_table(results: dict[str, dict[str, IngestFigures]], devices: int, seconds: int) -> Table:
    table = table_of(
        f"(b) Ingestor.process, {devices} cars at 1 Hz for {seconds} s, a batch a second",
        ("backend", "with the duty fixes/s", "today's fixes/s", "with / today's", "target", "met"),
    )
    for backend, figures in results.items():
        with_duty, today = figures["with the duty"], figures["today's (baseline)"]
        ratio = with_duty.per_s / today.per_s
        table.add_row(
            backend,
            f"{with_duty.per_s:,.0f}",
            f"{today.per_s:,.0f}",
            f"{ratio:.2f}",
            f"≥ {TARGET_INGEST_RATIO}",
            verdict(ratio >= TARGET_INGEST_RATIO),
        )
    return table


# (c) coverage through the duty


def duty_share(
    rules: DutyRules, line: MandatoryLine, time_s: Floats, lon: Floats, lat: Floats
) -> float:
    """The share of the line the report gives after the fixes went through a unit's duty."""
    duty = UnitDuty(1, line.zone, T0 - timedelta(hours=1), T0 + timedelta(hours=23))
    for t, x, y in zip(time_s.tolist(), lon.tolist(), lat.tolist(), strict=True):
        at = T0 + timedelta(seconds=t)
        take_fix(duty, rules, at=at, lon=x, lat=y, device="car", accuracy_m=10.0, on_order=False)
    flush(duty, rules, keep_anchor=False)
    driven = driven_fractions(duty.portions.get(SHIFT, {}))
    return line_coverage(rules.network, line.edges, driven, beside=rules.beside)


def coverage_table(rules: DutyRules, tt: TravelTimes, n_lines: int, seed: int) -> Table:
    rng = np.random.default_rng(seed)
    lines = list(rules.lines)[: n_lines or None]
    drives = [drive_of(tt, line.edges, rng) for line in lines]
    table = table_of(
        f"(c) coverage of {len(lines)} demo lines driven fully at 36 km/h, 10 m GPS noise",
        ("fix every", "fixes", "baseline mean", "baseline min", "reported mean", "reported min",
         "target", "met"),
    )  # fmt: skip
    for interval_s in INTERVALS_S:
        base, ours, n_fixes = [], [], 0
        for line, drive in zip(lines, drives, strict=True):
            t, x, y = sample(drive, interval_s, rng)
            lon, lat = (np.asarray(v) for v in tt.snapper.to_lonlat.transform(x, y))
            base.append(baseline_share(tt, line.edges, lon, lat, t))
            ours.append(duty_share(rules, line, t, lon, lat))
            n_fixes += len(t)
        target = TARGET_SHARE.get(interval_s)
        table.add_row(
            f"{interval_s} s",
            f"{n_fixes:,}",
            f"{np.mean(base):.3f}",
            f"{np.min(base):.3f}",
            f"{np.mean(ours):.3f}",
            f"{np.min(ours):.3f}",
            f"≥ {target}" if target else "",
            verdict(float(np.mean(ours)) >= target) if target else "",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0, help="hours of driving a demo unit")
    parser.add_argument("--units", type=int, default=MANY_UNITS, help="units of the larger report")
    parser.add_argument("--repeats", type=int, default=10, help="timed report requests")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--devices", type=int, default=300, help="cars of (b)")
    parser.add_argument("--seconds", type=int, default=120, help="seconds of driving of (b)")
    parser.add_argument("--lines", type=int, default=0, help="lines of (c) (0: all)")
    parser.add_argument("--seed", type=int, default=20240513)
    args = parse_args(
        parser,
        smoke={
            "hours": 1 / 6,
            "units": 30,
            "repeats": 3,
            "backend": "sqlite",
            "devices": 30,
            "seconds": 30,
            "lines": 6,
        },
    )
    with cache_folder() as cache, template_city(cache) as (template, passwords):
        console.rule("(a) report latency")
        runs, rules, tt = measure_report(
            hours=args.hours, many=args.units, repeats=args.repeats, template=template,
            passwords=passwords, cache=cache,
        )  # fmt: skip
        console.print(report_table(runs, args.hours))
        console.rule("(b) ingestion")
        results = {}
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            try:
                results[backend] = measure_ingest(
                    backend, devices=args.devices, seconds=args.seconds, template=template,
                    cache=cache,
                )  # fmt: skip
            except (OperationalError, RuntimeError) as exc:  # no PostgreSQL in a full run
                if args.smoke or backend == "sqlite":
                    raise
                console.print(f"[bold red]{backend} skipped:[/] {exc}")
        console.print(ingest_table(results, args.devices, args.seconds))
        console.rule("(c) coverage")
        console.print(coverage_table(rules, tt, args.lines, args.seed))


if __name__ == "__main__":
    main()
