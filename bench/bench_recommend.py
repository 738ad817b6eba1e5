"""Benchmark of `recommend` against a naive per-unit loop measured in the same run.

On the demo city, `recommend` ranks 27 units (the Baicheng fleet) and 300 units at random road
positions for random incidents (a fixed seed), with travel times answered by Dijkstra searches
("search") and by the node-to-node table ("table", the server's default). The units come
pre-snapped, as the live fleet state and the simulator hold them; a further column times
`recommend` snapping the units' lon/lat itself. The baseline snaps the incident, times each unit
with its own `times_from` and sorts; its ranking is checked against ours.

    .venv/bin/python bench/bench_recommend.py [--pbf PATH] [--seed N] [--reps N] [--smoke]

Figures are medians and 99th percentiles over the runs; `--smoke` times 10 incidents per case.
The script always exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from harness import cache_folder, network_of, parse_args
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.table import node_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.recommend import UnitView, recommend
from jiaoxun.units.status import UnitStatus

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PLAN = ResponsePlan(units=3, distinct_zones=True)
console = Console(width=max(Console().width, 150))


@dataclass(frozen=True)
class Row:
    case: str
    ours_ms: list[float]
    snapping_ms: list[float]
    baseline_ms: list[float]
    differ: int  # baseline runs whose ranking differs from ours


def seconds_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    call(*args, **kwargs)
    return time.perf_counter() - start


def points_on_roads(tt: TravelTimes, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` random (lon, lat) points on the polylines of random edges."""
    points = []
    for edge in rng.integers(tt.network.n_edges, size=n):
        coords = tt.network.edge_coords(int(edge))
        i = rng.integers(len(coords) - 1)
        points.append(coords[i] + rng.uniform() * (coords[i + 1] - coords[i]))
    return np.array(points)


def fleet(points: np.ndarray) -> list[UnitView]:
    return [
        UnitView(i, f"C{i:03d}", f"Z{i % 9}", UnitStatus.AVAILABLE, lon, lat, NOW)
        for i, (lon, lat) in enumerate(points.tolist())
    ]


def naive(
    tt: TravelTimes, lon: float, lat: float, units: list[UnitView], snaps: Snaps
) -> list[str]:
    """The baseline: one `times_from` per unit, then sort by (ETA, call sign)."""
    incident = Snaps.of([tt.snap(lon, lat)])
    etas = [float(tt.times_from(snaps[i], incident)[0]) for i in range(len(units))]
    return [u.call_sign for _, u in sorted(zip(etas, units, strict=True), key=by_eta)]


def by_eta(pair: tuple[float, UnitView]) -> tuple[float, str]:
    return pair[0], pair[1].call_sign


def measure(
    tt: TravelTimes, mode: str, n_units: int, *, reps: int, n_baseline: int, seed: int
) -> Row:
    rng = np.random.default_rng(seed)
    points = points_on_roads(tt, n_units, rng)
    units = fleet(points)
    snaps = tt.snap_many(points[:, 0], points[:, 1])
    incidents = points_on_roads(tt, reps, rng).tolist()

    def ours(lon: float, lat: float, *, snapped: bool = True) -> list[str]:
        rec = recommend(
            lon=lon,
            lat=lat,
            units=units,
            travel_times=tt,
            plan=PLAN,
            now=NOW,
            unit_snaps=snaps if snapped else None,
        )
        return [c.call_sign for c in rec.candidates]

    for lon, lat in incidents[:20]:  # warm up
        ours(lon, lat)
    ours_ms = [1000 * seconds_of(ours, lon, lat) for lon, lat in incidents]
    snapping_ms = [1000 * seconds_of(ours, lon, lat, snapped=False) for lon, lat in incidents]
    baseline_ms, differ = [], 0
    for lon, lat in incidents[:n_baseline]:
        baseline_ms.append(1000 * seconds_of(naive, tt, lon, lat, units, snaps))
        differ += ours(lon, lat) != naive(tt, lon, lat, units, snaps)
    return Row(f"{n_units} units, by {mode}", ours_ms, snapping_ms, baseline_ms, differ)


def median_p99(ms: list[float]) -> str:
    return f"{np.median(ms):.3f} / {np.percentile(ms, 99):.3f}"


def report(rows: list[Row]) -> Table:
    table = Table(title="recommend: median / p99 latency in ms")
    for column in (
        "case",
        "recommend, pre-snapped units",
        "recommend, snapping units",
        "naive loop",
        "speed-up (median)",
        "runs ours / naive",
        "same ranking",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.case,
            median_p99(r.ours_ms),
            median_p99(r.snapping_ms),
            median_p99(r.baseline_ms),
            f"{np.median(r.baseline_ms) / np.median(r.ours_ms):.0f}×",
            f"{len(r.ours_ms)} / {len(r.baseline_ms)}",
            "yes" if not r.differ else f"NO: {r.differ} of {len(r.baseline_ms)} differ",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path, default=DEMO_PBF)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--reps", type=int, default=1000, help="incidents per case")
    args = parse_args(parser, smoke={"reps": 10})
    started = time.perf_counter()
    with cache_folder() as cache:
        network = network_of(args.pbf, cache)
    tt = TravelTimes(network)
    begin = time.perf_counter()
    tabled = TravelTimes(network, table=node_table(tt))
    table_s = time.perf_counter() - begin
    console.print(
        f"{args.pbf.name}: {network.n_nodes:,} nodes, {network.n_edges:,} edges; "
        f"node table built in {table_s:.1f} s; plan: {PLAN.units} units from distinct zones"
    )
    rows = []
    for mode, times in (("search", tt), ("table", tabled)):
        for n_units, n_baseline in ((27, 300), (300, 40)):
            rows.append(
                measure(
                    times,
                    mode,
                    n_units,
                    reps=args.reps,
                    n_baseline=min(n_baseline, args.reps),
                    seed=args.seed,
                )
            )
    console.print(report(rows))
    console.print(f"seed {args.seed}, {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
