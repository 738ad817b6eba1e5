"""Simulator speed: a year of the `after` scenario on the demo city, by table and by search.

One run of the scenario with travel times from the node table, and the same run (same seed) with
plain Dijkstra searches, the baseline, in the same process; the ratio is the search time over the
table time. The target is 10 s per simulated year (issue 18).

    .venv/bin/python bench/bench_sim.py [--days 365] [--smoke]

`--smoke` plays 7 days. The script exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from harness import cache_folder, demo_network, parse_args
from jiaoxun.city.generate import layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import cache_path_for
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.table import cached_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.sim.city import sim_city
from jiaoxun.sim.model import simulate
from jiaoxun.sim.report import summarise
from jiaoxun.sim.scenario import load_scenario

TARGET_S_PER_YEAR = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365)
    args = parse_args(parser, smoke={"days": 7})
    console = Console(width=120)
    target_s = TARGET_S_PER_YEAR * args.days / 365
    with cache_folder() as cache:
        searches = TravelTimes(demo_network(cache))
        layout = layout_city(searches, places_from_pbf(DEMO_PBF))
        table_of = cached_table(searches, cache_path_for(DEMO_PBF, cache))  # the server's name
        tabled = TravelTimes(searches.network, table=table_of)
        table = Table(title=f"one run of {args.days:g} days of 'after'")
        for column in ("travel times", "incidents", "seconds", "p50 s", "within 3 min", "target"):
            table.add_column(column)
        timings = {}
        for label, times in (("by table", tabled), ("by search", searches)):
            city = sim_city(times, layout)
            start = time.perf_counter()
            run = simulate(city, load_scenario("after"), days=args.days, seed=1)
            timings[label] = time.perf_counter() - start
            s = summarise([run])
            verdict = "PASS" if timings[label] < target_s else "MISS"
            table.add_row(
                label,
                str(len(run.incidents)),
                f"{timings[label]:.2f}",
                f"{s.response_p50_s.mean:.0f}",
                f"{s.compliance['3分钟'].mean:.3f}",
                f"< {target_s:.3g} s: {verdict}",
            )
    console.print(table)
    console.print(f"table / search speed-up: {timings['by search'] / timings['by table']:.2f}x")


if __name__ == "__main__":
    main()
