"""Benchmarks of the road-network core, each against a plain baseline measured in the same run.

Travel-time queries are measured twice: answered by Dijkstra searches ("by search") and by the
node-to-node table that networks of a city's size keep ("by table", the server's default).

    .venv/bin/python bench/bench_geo.py [--pbf PATH] [--seed N] [--smoke]

Turn restrictions are measured on the same network with a share of its turns banned at random:
the turn-expanded search against the node search, one-to-many and many-to-one (the recommender's
query), in the same run.

Learned speeds are measured on a month of 27 cars at 1 Hz, made up (each car drives edge after
edge at a speed of its own per edge): `geo.speeds.observe` a day at a time, then
`learn_speeds`, against a plain Python loop over the runs of fixes on a sample.

Every figure is a median over many random points (a fixed seed), and the results are checked
against the baseline's. `--smoke` takes a few points of each kind and one cold build. A MISS is a
finding to report, not a failure: the script always exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import shapely
from rich.console import Console
from rich.table import Table

from harness import network_of, parse_args, scratch_folder
from jiaoxun.data import DEMO_PBF as DEMO_CITY_PBF
from jiaoxun.geo.isochrone import _cut, _reached_road, isochrones
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.speeds import Observations, hours_of_week, learn_speeds, observe
from jiaoxun.geo.table import cached_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.geo.turns import turn_graph

DEMO_PBF = DEMO_CITY_PBF  # the demo city jiaoxun ships
console = Console(width=max(Console().width, 150))


@dataclass(frozen=True)
class Sizes:
    """How many runs of each measure: random points, fleets, targets, network loads."""

    cold_builds: int = 3
    warm_loads: int = 20
    origins: int = 300
    baseline_origins: int = 60
    fleets: int = 90
    targets: int = 1000
    isochrone_origins: int = 20
    baseline_isochrones: int = 3
    turn_queries: int = 200
    track_days: float = 30.0


FULL = Sizes()
SMOKE = replace(
    FULL,
    cold_builds=1,
    warm_loads=3,
    origins=20,
    baseline_origins=4,
    fleets=6,
    targets=50,
    isochrone_origins=3,
    baseline_isochrones=1,
    turn_queries=10,
    track_days=0.25,
)


@dataclass(frozen=True)
class Figure:
    name: str
    ours: str
    baseline: str
    ratio: float | None  # baseline time / ours
    target: str
    met: bool | None  # None: no target
    check: str


def seconds_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    call(*args, **kwargs)
    return time.perf_counter() - start


def median_ms(times: list[float]) -> float:
    return 1000.0 * statistics.median(times)


def random_snaps(travel_times: TravelTimes, rng: np.random.Generator, n: int) -> Snaps:
    """`n` points up to ~50 m off random road vertices, snapped."""
    net = travel_times.network
    at = rng.integers(0, len(net.geom_lon), n)
    lon = net.geom_lon[at] + rng.normal(0.0, 2.5e-4, n)
    lat = net.geom_lat[at] + rng.normal(0.0, 2.0e-4, n)
    return travel_times.snap_many(lon, lat)


def subset(snaps: Snaps, which: np.ndarray) -> Snaps:
    return Snaps(
        snaps.edge[which], snaps.fraction[which], snaps.distance_m[which], snaps.lon[which],
        snaps.lat[which],
    )  # fmt: skip


def add_origin(graph: nx.DiGraph, tt: TravelTimes, snap: Snap, name: str) -> str:
    """Join a virtual node to the nodes `snap` can drive to, with the anchors `tt` uses."""
    anchors = tt._anchors(Snaps.of([snap]), leaving=True)
    for node, offset_s in zip(anchors.node[0], anchors.offset_s[0], strict=True):
        if np.isfinite(offset_s):
            graph.add_edge(name, int(node), weight=float(offset_s))
    return name


def gap_s(ours: np.ndarray, baseline: dict[Any, float]) -> float:
    reference = np.full(len(ours), np.inf)
    for node, t in baseline.items():
        if isinstance(node, int):
            reference[node] = t
    return float(np.abs(ours - reference).max())


def one_to_all(
    tt: TravelTimes, graph: nx.DiGraph, origins: Snaps, n_baseline: int, mode: str
) -> Figure:
    ours = [seconds_of(tt.node_times_from, origins[i]) for i in range(len(origins))]
    base, worst = [], 0.0
    for i in range(n_baseline):
        source = add_origin(graph, tt, origins[i], "origin")
        base.append(seconds_of(nx.single_source_dijkstra_path_length, graph, source))
        reference = nx.single_source_dijkstra_path_length(graph, source)
        worst = max(worst, gap_s(tt.node_times_from(origins[i]), reference))
        graph.remove_node(source)
    ratio = median_ms(base) / median_ms(ours)
    return Figure(
        f"(a) one-to-all travel times, by {mode}",
        f"{median_ms(ours):.2f} ms",
        f"{median_ms(base):.2f} ms",
        ratio,
        "≥ 15× faster",
        ratio >= 15,
        f"max |Δ| {worst:.1e} s ({n_baseline} origins)",
    )


def coverage(
    tt: TravelTimes, graph: nx.DiGraph, rng: np.random.Generator, reps: int, mode: str
) -> Figure:
    ours, base, worst = [], [], 0.0
    for rep in range(reps):
        cars = random_snaps(tt, rng, 27)
        ours.append(seconds_of(tt.nearest_origin, cars))
        if rep % 3:
            continue  # the baseline is slow: one fleet in three
        sources = {add_origin(graph, tt, cars[i], f"car{i}") for i in range(len(cars))}
        base.append(seconds_of(nx.multi_source_dijkstra_path_length, graph, sources))
        reference = nx.multi_source_dijkstra_path_length(graph, sources)
        worst = max(worst, gap_s(tt.nearest_origin(cars)[0], reference))
        graph.remove_nodes_from(sources)
    return Figure(
        f"(b) coverage map, 27 cars → every node, by {mode}",
        f"{median_ms(ours):.2f} ms",
        f"{median_ms(base):.2f} ms",
        median_ms(base) / median_ms(ours),
        "< 10 ms",
        median_ms(ours) < 10,
        f"max |Δ| {worst:.1e} s ({len(base)} fleets)",
    )


def k_nearest(tt: TravelTimes, rng: np.random.Generator, reps: int, mode: str) -> Figure:
    fleet, targets = random_snaps(tt, rng, 300), random_snaps(tt, rng, reps)
    ours, base, differ = [], [], 0
    for i in range(reps):
        target = targets[i]
        ours.append(seconds_of(tt.nearest, target, fleet, k=5))
        base.append(seconds_of(nearest_by_sorting, tt, target, fleet, k=5))
        _, eta = tt.nearest(target, fleet, k=5)
        differ += not np.allclose(eta, np.sort(tt.times_to(target, fleet))[:5])
    p99_ms = 1000.0 * float(np.percentile(ours, 99))
    return Figure(
        f"(c) 5 nearest of 300 by road ETA, by {mode}",
        f"{median_ms(ours):.3f} ms (p99 {p99_ms:.2f})",
        f"{median_ms(base):.3f} ms",
        median_ms(base) / median_ms(ours),
        "< 1 ms median",
        median_ms(ours) < 1,
        f"ETAs differ for {differ} of {reps} targets",
    )


def nearest_by_sorting(tt: TravelTimes, target: Snap, fleet: Snaps, *, k: int) -> np.ndarray:
    return np.argsort(tt.times_to(target, fleet), kind="stable")[:k]


def network_load(pbf: Path, reps_cold: int, reps_warm: int) -> Figure:
    cold, warm = [], []
    for _ in range(reps_cold):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(seconds_of(lambda: network_from_pbf(pbf, cache_dir=Path(cache))))
    with tempfile.TemporaryDirectory() as cache:
        built = network_from_pbf(pbf, cache_dir=Path(cache))
        for _ in range(reps_warm):
            warm.append(seconds_of(lambda: network_from_pbf(pbf, cache_dir=Path(cache))))
        loaded = network_from_pbf(pbf, cache_dir=Path(cache))
        same = all(
            np.array_equal(getattr(loaded, name), getattr(built, name))
            for name in ("node_lon", "node_lat", "edge_tail", "edge_head", "edge_travel_time_s")
        )
    return Figure(
        "(d) network load from the cache",
        f"{median_ms(warm):.1f} ms",
        f"{median_ms(cold):.0f} ms (cold build)",
        median_ms(cold) / median_ms(warm),
        "< 1 s",
        median_ms(warm) < 1000,
        "cached network identical" if same else "cached network DIFFERS",
    )


def multilinestring_isochrones(tt: TravelTimes, origin: Snap) -> list[shapely.Geometry]:
    """The same reached road, buffered as one MultiLineString per bound (the slower way)."""
    node_times, areas = tt.node_times_from(origin), []
    for minutes in (1, 3, 5):
        line, lo, hi = _reached_road(tt, origin, node_times, seconds=60.0 * minutes)
        pieces = _cut(tt.snapper.lines[line], lo, hi)
        areas.append(shapely.MultiLineString(list(pieces)).buffer(40.0, quad_segs=4))
    return areas


def isochrone_time(tt: TravelTimes, origins: Snaps, n_baseline: int) -> Figure:
    ours = [seconds_of(isochrones, tt, origins[i]) for i in range(len(origins))]
    base = [seconds_of(multilinestring_isochrones, tt, origins[i]) for i in range(n_baseline)]
    km2 = [
        shapely.transform(a, lambda xy: np.column_stack(tt.snapper.to_xy.transform(*xy.T))).area
        / 1e6
        for a in isochrones(tt, origins[0]).values()
    ]
    return Figure(
        "(e) isochrones 1/3/5 min",
        f"{median_ms(ours):.0f} ms",
        f"{median_ms(base):.0f} ms (one MultiLineString buffer)",
        median_ms(base) / median_ms(ours),
        "—",
        None,
        "areas " + " / ".join(f"{a:.2f}" for a in km2) + " km² (first origin)",
    )


def turn_restrictions(
    network: Any, rng: np.random.Generator, reps: int, *, banned_share: float = 0.02
) -> list[Figure]:
    """One point to 300 and 300 to one, on the turn-expanded graph with `banned_share` of the
    turns banned, against the node search of the same network."""
    allowed = turn_graph(network).forward.tocoo()
    pick = rng.random(len(allowed.row)) < banned_share
    bans = np.column_stack([allowed.row[pick], allowed.col[pick]]).astype(np.int64)
    plain, turned = TravelTimes(network), TravelTimes(replace(network, turn_ban=bans))
    points, others = random_snaps(plain, rng, 300), random_snaps(plain, rng, reps)
    figures = []
    for query in ("times_from", "times_to"):
        ours, base, longer, shorter = [], [], 0, 0
        for i in range(reps):
            ours.append(seconds_of(getattr(turned, query), others[i], points))
            base.append(seconds_of(getattr(plain, query), others[i], points))
            with_turns = getattr(turned, query)(others[i], points)
            without = getattr(plain, query)(others[i], points)
            longer += int((with_turns > without + 1e-6).sum())
            shorter += int((with_turns < without - 1e-6).sum())
        cost = median_ms(ours) / median_ms(base)
        kind = "one-to-many, 1 → 300" if query == "times_from" else "many-to-one, 300 → 1"
        figures.append(
            Figure(
                f"(f) {kind}, {len(bans):,} turns banned ({banned_share:.0%}), turn-expanded",
                f"{median_ms(ours):.2f} ms",
                f"{median_ms(base):.2f} ms (node search)",
                1 / cost,
                "≤ 2× the node search",
                cost <= 2,
                f"{cost:.2f}× the cost; {longer} of {300 * reps} trips longer, {shorter} shorter",
            )
        )
    return figures


CARS = 27
SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_of_tracks(
    network: Any, rng: np.random.Generator, *, day: int, seconds: float, kph: np.ndarray
) -> dict[str, np.ndarray]:
    """`seconds` of 1 Hz fixes of each of 27 cars, each driving random edges end to end at
    `kph` of the edge: the arrays `observe` takes, sorted by car and time."""
    length = network.edge_length_m
    per_car = int(seconds)
    mean_s = float(np.mean(length / (kph / 3.6)))
    edges = rng.integers(0, network.n_edges, size=(CARS, int(2 * per_car / mean_s) + 16))
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("device", "at_s", "edge", "fraction")}
    for car in range(CARS):
        duration = np.ceil(length[edges[car]] / (kph[edges[car]] / 3.6))
        keep = np.cumsum(duration) <= per_car
        trips, fixes = edges[car][keep], duration[keep].astype(np.int64)
        starts = np.cumsum(fixes) - fixes
        within = np.arange(int(fixes.sum())) - np.repeat(starts, fixes)
        edge = np.repeat(trips, fixes)
        columns["device"].append(np.full(len(edge), car))
        columns["at_s"].append(day * 86400.0 + np.arange(len(edge), dtype=np.float64))
        columns["edge"].append(edge)
        columns["fraction"].append(np.minimum(within * kph[edge] / 3.6 / length[edge], 1.0))
    return {k: np.concatenate(v) for k, v in columns.items()}


def runs_by_loop(network: Any, tracks: dict[str, np.ndarray]) -> dict[int, float]:
    """The baseline: metres per edge driven from runs of fixes on one stretch, one fix at a
    time in plain Python."""
    metres: dict[int, float] = {}
    twin, length = network.edge_twin.tolist(), network.edge_length_m.tolist()
    columns = zip(
        *(tracks[k].tolist() for k in ("device", "at_s", "edge", "fraction")), strict=True
    )

    def close(run: tuple[int, float, float, float, float] | None) -> None:
        if run is None:
            return
        key, t1, f1, t2, f2 = run
        driven = key if f2 >= f1 else twin[key]
        kph = abs(f2 - f1) * length[key] / (t2 - t1) * 3.6 if t2 > t1 else 0.0
        if driven >= 0 and 5 <= kph <= 150:
            metres[driven] = metres.get(driven, 0.0) + abs(f2 - f1) * length[key]

    run, last = None, None
    for device, at_s, edge, fraction in columns:
        key = twin[edge] if 0 <= twin[edge] < edge else edge
        along = 1 - fraction if key != edge else fraction
        same = (
            last is not None and last[0] == device and last[2] == key and 0 < at_s - last[1] <= 10
        )
        if edge >= 0 and same and run is not None:
            run = (run[0], run[1], run[2], at_s, along)
        else:
            close(run)
            run = (key, at_s, along, at_s, along) if edge >= 0 else None
        last = (device, at_s, key if edge >= 0 else -1)
    close(run)
    return metres


def speeds_learning(network: Any, rng: np.random.Generator, days: float) -> Figure:
    kph = network.edge_speed_kph * rng.uniform(0.6, 1.2, network.n_edges)  # the truth
    sums, points, learn_s = Observations.none(network), 0, 0.0
    sample: dict[str, np.ndarray] = {}
    for day in range(int(np.ceil(days))):
        seconds = 86400.0 * min(1.0, days - day)
        tracks = day_of_tracks(network, rng, day=day, seconds=seconds, kph=kph)
        sample = sample or {k: v[:100_000] for k, v in tracks.items()}
        points += len(tracks["edge"])
        start = time.perf_counter()
        hours = hours_of_week(tracks["at_s"], SHANGHAI)
        sums = sums + observe(network, **tracks, hour_of_week=hours)
        learn_s += time.perf_counter() - start
    start = time.perf_counter()
    speeds = learn_speeds(network, sums)
    learn_s += time.perf_counter() - start
    base_s = seconds_of(runs_by_loop, network, sample)
    looped = runs_by_loop(network, sample)
    ours = observe(network, **sample, hour_of_week=hours_of_week(sample["at_s"], SHANGHAI))
    by_edge = ours.distance_m.sum(axis=1)
    agree = set(looped) == set(np.flatnonzero(by_edge).tolist()) and all(
        abs(by_edge[e] - m) < 1e-6 * max(m, 1) for e, m in looped.items()
    )
    well_seen = speeds.observed_m.sum(axis=1) > 5_000
    # the week's speed of each edge: its metres over the hours' times
    seen_m = speeds.observed_m.sum(axis=1)
    week = seen_m / np.maximum((speeds.observed_m / speeds.speed_kph).sum(axis=1), 1e-12)
    error = np.abs(week[well_seen] / kph[well_seen] - 1)
    per_point_base = base_s / len(sample["edge"])
    return Figure(
        f"(g) speeds learned, {days:g} days of {CARS} cars at 1 Hz ({points / 1e6:.1f} M fixes)",
        f"{learn_s:.1f} s",
        f"{per_point_base * points:.1f} s (Python loop, from {len(sample['edge']):,} fixes)",
        per_point_base * points / learn_s,
        "< 60 s for 30 days",
        learn_s * 30 / days < 60,
        f"loop agrees: {agree}; {well_seen.sum():,} edges with > 5 km, "
        f"median |error| {100 * float(np.median(error)) if len(error) else float('nan'):.1f} %",
    )


def report(figures: list[Figure]) -> Table:
    table = Table(title="jiaoxun.geo benchmarks (median times)")
    for column in ("figure", "jiaoxun", "baseline", "speed-up", "target", "result", "check"):
        table.add_column(column)
    for f in figures:
        verdict = "—" if f.met is None else "[green]PASS" if f.met else "[red]MISS"
        ratio = "—" if f.ratio is None else f"{f.ratio:.1f}×"
        table.add_row(f.name, f.ours, f.baseline, ratio, f.target, verdict, f.check)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path, default=DEMO_PBF)
    parser.add_argument("--seed", type=int, default=20240409)
    args = parse_args(parser, smoke={})
    sizes = SMOKE if args.smoke else FULL
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    figures = [network_load(args.pbf, reps_cold=sizes.cold_builds, reps_warm=sizes.warm_loads)]
    with scratch_folder("bench-geo") as cache:
        network = network_of(args.pbf, cache)
        build_s = seconds_of(lambda: TravelTimes(network))
        tt = TravelTimes(network)
        console.print(
            f"{args.pbf.name}: {network.n_nodes:,} nodes, {network.n_edges:,} edges, "
            f"{network.road_km:,.0f} km of road; TravelTimes built in {1000 * build_s:.0f} ms"
        )
        # the same graph for networkx: the fastest edge between each node pair
        graph = nx.from_scipy_sparse_array(tt.forward, create_using=nx.DiGraph)

        table_s = seconds_of(cached_table, tt, cache / "bench")
        load_s = seconds_of(cached_table, tt, cache / "bench")
        tabled = TravelTimes(network, table=cached_table(tt, cache / "bench"))
        console.print(
            f"node table ({network.n_nodes:,}² float32, {tabled.table.nbytes / 1e6:.0f} MB):"  # type: ignore[union-attr]
            f" built and saved in {table_s:.1f} s, loaded from the cache in {1000 * load_s:.1f} ms"
        )
        for mode, times in (("search", tt), ("table", tabled)):
            origins = random_snaps(tt, rng, sizes.origins)
            figures.append(one_to_all(times, graph, origins, sizes.baseline_origins, mode))
            figures.append(coverage(times, graph, rng, reps=sizes.fleets, mode=mode))
            figures.append(k_nearest(times, rng, reps=sizes.targets, mode=mode))
    figures.extend(turn_restrictions(network, rng, reps=sizes.turn_queries))
    figures.append(speeds_learning(network, rng, sizes.track_days))
    origins = random_snaps(tt, rng, sizes.isochrone_origins)
    figures.append(isochrone_time(tt, origins, n_baseline=sizes.baseline_isochrones))
    figures.sort(key=lambda f: f.name)
    console.print(report(figures))
    console.print(f"seed {args.seed}, {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
