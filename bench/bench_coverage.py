"""Benchmark of coverage and the maximal covering problem on the demo city.

Coverage of road and of demand (road metres, spread evenly) within 1, 3 and 5 minutes from the
9 kiosks of `layout_city`, from 9 sites chosen by `MaximalCovering` (3-minute service time,
candidates thinned to one node per square of `--spacing` metres) with CP-SAT and with SCIP, from
9 sites chosen by a greedy heuristic (the baseline, run on the same candidates), and from the
27 cars spread over their zones (3 per zone, placed by a maximal covering of the zone's own
demand). A PNG map of the 3-minute coverage, kiosks against optimal sites, goes to `--png`.

    .venv/bin/python bench/bench_coverage.py [--spacing M] [--png PATH] [--smoke]

`--smoke` thins the candidates to one per 1,500 m square and draws the map into a folder removed
at the end unless `--png` says where. The script always exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from rich.console import Console
from rich.table import Table

from harness import cache_folder, demo_network, parse_args, scratch_folder
from jiaoxun.city.generate import layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.planning.coverage import (
    candidate_nodes,
    coverage,
    road_node_weight,
    take,
)
from jiaoxun.planning.covering import MaximalCovering
from jiaoxun.planning.drawing import draw_coverage

SERVICE_S = 180.0
KEPT_PNG = Path(tempfile.gettempdir()) / "jiaoxun-coverage.png"
console = Console(width=max(Console().width, 130))


def greedy_sites(problem: MaximalCovering) -> tuple[int, ...]:
    """Add, p times, the candidate that covers the most demand not yet covered."""
    covered = np.zeros(problem.reach.shape[1], dtype=bool)
    chosen: list[int] = []
    for _ in range(problem.p):
        gain = (problem.reach & ~covered) @ problem.demand
        gain[chosen] = -1.0
        best = int(np.argmax(gain))
        chosen.append(best)
        covered |= problem.reach[best]
    return tuple(sorted(chosen))


def cars_in_zones(
    travel_times: TravelTimes, node_zone: np.ndarray, *, spacing_m: float, per_zone: int
) -> Snaps:
    """`per_zone` car positions in each zone, covering the zone's own demand best."""
    net = travel_times.network
    weight = road_node_weight(net)
    nodes = candidate_nodes(net, spacing_m=spacing_m / 2)
    picked: list[int] = []
    for zone in range(int(node_zone.max()) + 1):
        mine = nodes[node_zone[nodes] == zone]
        snaps = travel_times.snap_many(net.node_lon[mine], net.node_lat[mine])
        zone_weight = np.where(node_zone == zone, weight, 0.0)
        problem = MaximalCovering.from_travel_times(
            travel_times,
            snaps,
            service_s=SERVICE_S,
            p=min(per_zone, len(mine)),
            node_weight=zone_weight,
        )
        picked.extend(int(mine[i]) for i in problem.solve("scip").sites)
    return travel_times.snap_many(net.node_lon[picked], net.node_lat[picked])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=400.0, help="candidate spacing, metres")
    parser.add_argument("--png", type=Path, help=f"where to write the map (default: {KEPT_PNG})")
    args = parse_args(parser, smoke={"spacing": 1500.0})
    with scratch_folder("bench-coverage") as folder, cache_folder() as cache:
        png = args.png or (folder / "coverage.png" if args.smoke else KEPT_PNG)
        measure(args.spacing, png, cache=cache)


def measure(spacing_m: float, png: Path, *, cache: Path) -> None:
    travel_times = TravelTimes(demo_network(cache))
    net = travel_times.network
    layout = layout_city(travel_times, places_from_pbf(DEMO_PBF))
    kiosks = travel_times.snap_many(
        np.array([k.lon for k in layout.kiosks]), np.array([k.lat for k in layout.kiosks])
    )
    nodes = candidate_nodes(net, spacing_m=spacing_m)
    candidates = travel_times.snap_many(net.node_lon[nodes], net.node_lat[nodes])

    start = time.perf_counter()
    problem = MaximalCovering.from_travel_times(
        travel_times, candidates, service_s=SERVICE_S, p=len(kiosks)
    )
    build_s = time.perf_counter() - start
    rows: list[tuple[str, Snaps, float | None, str]] = [
        ("9 kiosks (layout_city)", kiosks, None, "")
    ]
    optimal_sites = candidates
    for solver in ("cp-sat", "scip"):
        result = problem.solve(solver)
        optimal_sites = take(candidates, result.sites)
        rows.append((f"9 sites, MCLP {solver}", optimal_sites, result.solve_time_s, result.status))
    start = time.perf_counter()
    greedy = greedy_sites(problem)
    rows.append(
        (
            "9 sites, greedy baseline",
            take(candidates, greedy),
            time.perf_counter() - start,
            "heuristic",
        )
    )
    start = time.perf_counter()
    cars = cars_in_zones(
        travel_times, layout.districting.node_zone, spacing_m=spacing_m, per_zone=3
    )
    rows.append(("27 cars, 3 per zone", cars, time.perf_counter() - start, "9 zone MCLPs"))

    table = Table(
        title=f"Coverage of the demo city ({net.n_nodes} nodes, {net.road_km:.0f} km of road)"
    )
    table.add_column("sites")
    for minutes in (1, 3, 5):
        table.add_column(f"road {minutes} min", justify="right")
        table.add_column(f"demand {minutes} min", justify="right")
    table.add_column("solve s", justify="right")
    table.add_column("status")
    results = {}
    for name, sites, solve_s, status in rows:
        result = coverage(travel_times, sites)
        results[name] = result
        shares = [f"{x:.1%}" for s in result.shares for x in (s.road_share, s.demand_share)]
        table.add_row(name, *shares, "" if solve_s is None else f"{solve_s:.2f}", status)
    console.print(table)
    console.print(
        f"{len(nodes)} candidates (one per {spacing_m:.0f} m square); building the MCLP"
        f" took {build_s:.2f} s, one cut-off search per candidate."
    )
    draw_coverage(
        net,
        [
            ("9 kiosks", results[rows[0][0]], kiosks),
            ("9 MCLP sites", results[rows[2][0]], optimal_sites),
        ],
        png,
    )
    console.print(f"map of the 3-minute coverage written to {png}")


if __name__ == "__main__":
    main()
