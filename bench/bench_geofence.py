"""Per-position cost of the geofences, against a baseline that tests every fence, in one run.

For every position of a car the live server asks three things: which zone is it in (zone fences
with hysteresis), is it at a mandatory point (point check-ins), which road has it driven (the
per-fix part of line coverage). Ours looks fences up in an STR-tree; the baseline runs the same
rules but tests every fence: every zone polygon, the distance to every point, every line's
edges. Both run on the demo city's 9 zones, 60 points and 78 lines, then on ten
copies of the city side by side (90 zones, 600 points, 780 lines) with the cars spread over them.

    .venv/bin/python bench/bench_geofence.py [--seed N] [--routes N] [--smoke]

Figures are medians over every position of cars driving random routes (the best of three runs);
the baseline's events, check-ins and coverage are compared with ours. `--smoke` drives 4 routes.
Always exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from rich.console import Console
from rich.table import Table

from harness import cache_folder, demo_network, parse_args
from jiaoxun.city.generate import CityLayout, layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.matching import stretch_of
from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.tracking.geofence import ZoneFences, local_xy
from jiaoxun.tracking.lines import (
    MandatoryLine,
    Portions,
    _between,
    driven_fractions,
    driven_portions,
    line_coverage,
    merge_portions,
)
from jiaoxun.tracking.patrol import MandatoryPoint, PointFence, PointVisits

console = Console(width=max(Console().width, 130))
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
STEP_M = 100.0  # a fix every 10 s at 36 km/h


class NaiveZoneFences(ZoneFences):
    """The same hysteresis rule, testing every zone."""

    def candidates_xy(self, x: float, y: float) -> Ints:
        return np.arange(len(self.codes))


class NaivePointFence(PointFence):
    """Every point's distance, for every position."""

    def within_xy(
        self, x: float, y: float, *, margin_m: float, near: Ints | None = None
    ) -> list[tuple[int, float]]:
        distance = np.hypot(self.x - x, self.y - y)  # `near` is what the tree would find
        near = np.flatnonzero(distance <= self.radius_m + margin_m)
        return list(zip(near.tolist(), distance[near].tolist(), strict=True))


@dataclass(frozen=True)
class City:
    codes: list[str]
    polygons: list[Any]
    points: list[MandatoryPoint]
    lines: list[MandatoryLine]


def demo_city(layout: CityLayout) -> City:
    codes = [f"Z{z + 1:02d}" for z in range(len(layout.districting.polygons))]
    points = [
        MandatoryPoint(i, p.lon, p.lat, p.radius_m, p.dwell_min, p.visits_per_shift, codes[p.zone])
        for i, p in enumerate(layout.patrol_points)
    ]
    lines = [
        MandatoryLine(i, line.edges, codes[line.zone]) for i, line in enumerate(layout.patrol_lines)
    ]
    return City(codes, list(layout.districting.polygons), points, lines)


def tile_offsets(network: RoadNetwork, copies: int) -> list[tuple[float, float]]:
    """Offsets in degrees that put `copies` copies of the city side by side, 5 to a row."""
    west, south, east, north = network.bounds()
    dx, dy = 1.1 * (east - west), 1.1 * (north - south)
    return [(dx * (k % 5), dy * (k // 5)) for k in range(copies)]


def tiled(city: City, offsets: Sequence[tuple[float, float]]) -> City:
    """Copies of the city's fences moved by `offsets` (the lines keep their edges)."""
    codes: list[str] = []
    polygons: list[Any] = []
    points: list[MandatoryPoint] = []
    lines: list[MandatoryLine] = []
    for k, (dx, dy) in enumerate(offsets):
        codes += [f"{c}-{k}" for c in city.codes]
        polygons += [shapely.transform(p, lambda c, d=(dx, dy): c + d) for p in city.polygons]
        n = len(points)
        points += [
            MandatoryPoint(n + p.id, p.lon + dx, p.lat + dy, p.radius_m, p.dwell_min)
            for p in city.points
        ]
        lines += [MandatoryLine(len(lines) + i, line.edges) for i, line in enumerate(city.lines)]
    return City(codes, polygons, points, lines)


def drive(
    tt: TravelTimes, points: Sequence[MandatoryPoint], rng: np.random.Generator, routes: int
) -> tuple[Floats, Floats, Ints]:
    """Positions every `STEP_M` metres along routes between random road points; every fourth
    route ends with a stop at a mandatory point. Also the route of each position."""
    net = tt.network
    at = rng.integers(0, len(net.geom_lon), 2 * routes)
    snaps = tt.snap_many(net.geom_lon[at], net.geom_lat[at])
    lon: list[Floats] = []
    lat: list[Floats] = []
    which: list[Ints] = []
    for k in range(routes):
        stop = points[int(rng.integers(len(points)))] if k % 4 == 0 else None
        target = tt.snap(stop.lon, stop.lat) if stop else snaps[2 * k + 1]
        route = tt.route(snaps[2 * k], target)
        if len(route.coords) < 2:
            continue
        line = shapely.LineString(route.coords)
        steps = np.linspace(0.0, 1.0, max(2, int(route.distance_m // STEP_M) + 1))
        on_road = shapely.line_interpolate_point(line, steps, normalized=True)
        lon.append(shapely.get_x(on_road))
        lat.append(shapely.get_y(on_road))
        if stop:  # park at the point a minute longer than its dwell
            stay = int(6 * stop.dwell_min) + 7
            lon.append(np.full(stay, stop.lon))
            lat.append(np.full(stay, stop.lat))
        which.append(np.full(sum(len(a) for a in lon) - sum(len(a) for a in which), k))
    return np.concatenate(lon), np.concatenate(lat), np.concatenate(which)


Step = Callable[[int], list[Any]]


def timed(start_track: Callable[[], Step], n: int, *, passes: int = 3) -> tuple[float, list[Any]]:
    """Median µs of step(i) over the n positions of a track, the best of `passes` runs (each
    from a fresh state; the first warms up), and what the last run returned."""
    best, results = np.inf, list[Any]()
    for _ in range(passes):
        step, times, results = start_track(), [], []
        for i in range(n):
            start = time.perf_counter()
            results.append(step(i))
            times.append(time.perf_counter() - start)
        best = min(best, 1e6 * statistics.median(times))
    return best, results


def zone_cost(fences: ZoneFences, lon: Floats, lat: Floats) -> tuple[float, list[Any]]:
    def start_track() -> Step:
        state: list[Any] = [None]

        def step(i: int) -> list[Any]:
            at = T0 + timedelta(seconds=10 * i)
            state[0], events = fences.update(state[0], lon[i], lat[i], at)
            return [(e.kind, e.zone) for e in events]

        return step

    return timed(start_track, len(lon))


def point_cost(fence: PointFence, lon: Floats, lat: Floats) -> tuple[float, list[Any]]:
    visits = PointVisits(fence)
    x, y = fence.xy.transform(lon, lat)

    def start_track() -> Step:
        state: dict[int, Any] = {}

        def step(i: int) -> list[Any]:
            at = T0 + timedelta(seconds=10 * i)
            check_ins = visits.step(state, float(x[i]), float(y[i]), at, unit="JX01-1")
            return [c.point_id for c in check_ins]

        return step

    return timed(start_track, len(lon))


def coverage_cost(
    net: RoadNetwork, track: list[tuple[int, float, datetime]], lines: list[MandatoryLine]
) -> tuple[float, float, bool]:
    """µs per fix of our driven portions and of a per-fix test of every line; same coverage?

    Ours keeps what was driven and measures the lines once per shift; the baseline credits each
    piece driven to every line that holds it, fix by fix. Medians over 7 runs of the track.
    """
    ours = []
    for _ in range(7):
        start = time.perf_counter()
        fractions = driven_fractions(driven_portions(net, track))
        ours.append((time.perf_counter() - start) / len(track))
    on_line = [{stretch_of(net, e)[0] for e in line.edges} for line in lines]
    naive = []
    for _ in range(7):
        start = time.perf_counter()
        credited: list[dict[int, list[tuple[float, float]]]] = [{} for _ in lines]
        for a, b in itertools.pairwise(track):
            pieces = _between(net, stretch_of(net, a[0], a[1]), stretch_of(net, b[0], b[1]))
            for stretches, credit in zip(on_line, credited, strict=True):
                for e, lo, hi in pieces:
                    if e in stretches:
                        credit.setdefault(e, []).append((lo, hi))
        naive.append((time.perf_counter() - start) / len(track))
    ours_share = [line_coverage(net, line.edges, fractions) for line in lines]
    naive_share = [
        line_coverage(net, line.edges, driven_fractions(merge_portions(as_portions(credit))))
        for line, credit in zip(lines, credited, strict=True)
    ]
    same = bool(np.allclose(ours_share, naive_share))
    return 1e6 * statistics.median(ours), 1e6 * statistics.median(naive), same


def as_portions(credit: dict[int, list[tuple[float, float]]]) -> Portions:
    return {e: tuple(v) for e, v in credit.items()}


@dataclass(frozen=True)
class Row:
    what: str
    scale: str
    fences: str
    ours_us: float
    naive_us: float
    check: str


def measure(
    scale: str, city: City, lon: Floats, lat: Floats, *, xy: Any, net: RoadNetwork, track: Any
) -> list[Row]:
    """The three per-position costs for one city, ours and the baseline's."""
    zones = (city.codes, city.polygons)
    ours_z, events = zone_cost(ZoneFences.from_polygons(*zones, xy=xy), lon, lat)
    naive_z, naive_events = zone_cost(NaiveZoneFences.from_polygons(*zones, xy=xy), lon, lat)
    ours_p, check_ins = point_cost(PointFence.from_points(city.points, xy=xy), lon, lat)
    naive_p, naive_check_ins = point_cost(NaivePointFence(city.points, xy=xy), lon, lat)
    ours_l, naive_l, same_lines = coverage_cost(net, track, city.lines)
    n_events = sum(len(e) for e in events)
    n_check_ins = sum(len(c) for c in check_ins)
    rows = [
        Row("zone fences", scale, f"{len(city.codes)} zones", ours_z, naive_z,
            f"{same(events == naive_events)}, {n_events} events"),
        Row("point check-ins", scale, f"{len(city.points)} points", ours_p, naive_p,
            f"{same(check_ins == naive_check_ins)}, {n_check_ins} check-ins"),
        Row("line coverage, per fix", scale, f"{len(city.lines)} lines", ours_l, naive_l,
            f"{same(same_lines)} coverage"),
    ]  # fmt: skip
    total = Row(
        "all three", scale, "", sum(r.ours_us for r in rows), sum(r.naive_us for r in rows), ""
    )
    return [*rows, total]


def same(flag: bool) -> str:
    return "same" if flag else "DIFFERENT"


def report(rows: list[Row]) -> tuple[Table, Table]:
    table = Table(
        title="geofences: median µs per position, ours (STR-tree) and a test of every fence"
    )
    for column in ("what", "scale", "fences", "ours µs", "naive µs", "naive / ours", "check"):
        table.add_column(column, justify="right" if "µs" in column or "/" in column else "left")
    for r in rows:
        table.add_row(
            r.what, r.scale, r.fences, f"{r.ours_us:.1f}", f"{r.naive_us:.1f}",
            f"{r.naive_us / r.ours_us:.2f}", r.check,
        )  # fmt: skip
    growth = Table(title="growth of the cost per position from 1x to 10x the fences")
    for column in ("what", "ours 10x / 1x", "naive 10x / 1x"):
        growth.add_column(column, justify="left" if column == "what" else "right")
    one = {r.what: r for r in rows if r.scale == "1x"}
    for r in (r for r in rows if r.scale == "10x"):
        growth.add_row(
            r.what, f"{r.ours_us / one[r.what].ours_us:.2f}",
            f"{r.naive_us / one[r.what].naive_us:.2f}",
        )  # fmt: skip
    return table, growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--routes", type=int, default=40)
    args = parse_args(parser, smoke={"routes": 4})
    started = time.perf_counter()
    with cache_folder() as cache:
        net = demo_network(cache)
    tt = TravelTimes(net)
    city = demo_city(layout_city(tt, places_from_pbf(DEMO_PBF)))
    rng = np.random.default_rng(args.seed)
    lon, lat, route = drive(tt, city.points, rng, args.routes)
    snaps = tt.snap_many(lon, lat, strict=False)
    at = [T0 + timedelta(seconds=10 * i) for i in range(len(lon))]
    track = list(zip(snaps.edge.tolist(), snaps.fraction.tolist(), at, strict=True))
    west, south, east, north = net.bounds()
    xy = local_xy((west + east) / 2, (south + north) / 2)
    console.print(
        f"demo city: {len(city.codes)} zones, {len(city.points)} points, {len(city.lines)} lines;"
        f" {len(lon)} positions along {args.routes} routes"
    )
    # ten cities side by side, each route driven in one of them
    offsets = np.array(tile_offsets(net, 10))
    shift = offsets[rng.integers(0, 10, args.routes)][route]
    rows = measure("1x", city, lon, lat, xy=xy, net=net, track=track)
    rows += measure(
        "10x", tiled(city, offsets.tolist()), lon + shift[:, 0], lat + shift[:, 1],
        xy=xy, net=net, track=track,
    )  # fmt: skip
    for table in report(rows):
        console.print(table)
    console.print(f"seed {args.seed}, {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
