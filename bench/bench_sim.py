"""How fast the simulator runs a year of the `after` scenario on the demo city, with the node
table against plain Dijkstra searches in the same run.

    .venv/bin/python bench/bench_sim.py [--days 365]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from jiaoxun.city.generate import layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.table import cached_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.sim.city import sim_city
from jiaoxun.sim.model import simulate
from jiaoxun.sim.report import summarise
from jiaoxun.sim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365)
    args = parser.parse_args()
    console = Console(width=120)
    searches = TravelTimes(network_from_pbf(DEMO_PBF))
    layout = layout_city(searches, places_from_pbf(DEMO_PBF))
    with tempfile.TemporaryDirectory() as cache:
        tabled = TravelTimes(searches.network, table=cached_table(searches, Path(cache) / "t"))
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
            verdict = "PASS" if timings[label] < 20 else "MISS"
            table.add_row(
                label,
                str(len(run.incidents)),
                f"{timings[label]:.1f}",
                f"{s.response_p50_s.mean:.0f}",
                f"{s.compliance['3分钟'].mean:.3f}",
                f"< 20 s: {verdict}",
            )
    console.print(table)
    console.print(f"table / search speed-up: {timings['by search'] / timings['by table']:.2f}x")


if __name__ == "__main__":
    main()
