"""Benchmark of the statistics page (issue 14): a year of incidents with their orders, the whole
page for the city computed in the database, against a naive Python pass over the rows.

A fresh database holds the demo city (`ready_server_city`) and a simulated history
(`simulate_history`, the reform scenario with its rates scaled so that the year before holds
about `--incidents` valid incidents), with orders, judged 1-3-5 verdicts, activities and
recognitions. Timed, each `--runs` times, median:

- the page: `analytics.service.summary` (every figure with 同比 and 环比, the chain's p50/p90 per
  priority, buckets, tiers, distributions, rankings, rates, trend) and `heat_of`, for the year
  and for a month, as the API computes them (in process: the HTTP layer is not what is measured);
- the baseline: the same year's incidents of the three windows loaded as ORM rows with their
  orders and verdicts, and counted, bucketed and ranked in Python loops (`naive_page`), the way
  a report is written when the rows are fetched first.

Target (issue 14): the year's page under 300 ms on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_stats.py [--incidents 15000] [--runs 5] [--backend both] [--smoke]

`--smoke` writes a month of history on SQLite and times 2 runs. A MISS is a finding to report,
not a failure: the script exits 0, non-zero on a crash.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bench_api import backends_for, fresh_database
from harness import cache_folder, parse_args, ready_server_city, scratch_folder
from jiaoxun.activities.models import Activity
from jiaoxun.analytics.history import simulate_history
from jiaoxun.analytics.history_scenario import REFORM
from jiaoxun.analytics.service import Ask, heat_of, summary
from jiaoxun.city.context import load_city_context
from jiaoxun.db import make_engine, transaction
from jiaoxun.incidents.models import Incident
from jiaoxun.settings import Settings

TARGET_MS = 300.0
console = Console()


def scaled_reform(incidents_a_year: float) -> Any:
    factor = incidents_a_year / (sum(REFORM.before_per_day.values()) * 365)
    return dataclasses.replace(
        REFORM,
        before_per_day={k: v * factor for k, v in REFORM.before_per_day.items()},
        after_per_day={k: v * factor for k, v in REFORM.after_per_day.items()},
    )


def naive_page(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """The baseline: the rows of the three windows fetched, then counted in Python."""
    length = end - start
    windows = {
        "this": (start, end),
        "last_year": (start - timedelta(days=365), end - timedelta(days=365)),
        "previous": (start - length, start),
    }
    page: dict[str, Any] = {}
    for tag, (lo, hi) in windows.items():
        rows = session.scalars(
            select(Incident)
            .where(Incident.call_at >= lo, Incident.call_at < hi)
            .options(selectinload(Incident.orders), selectinload(Incident.verdicts))
        ).all()
        by_code: Counter[tuple[str, str]] = Counter()
        chain: dict[tuple[int, str], list[float]] = defaultdict(list)
        tiers: Counter[tuple[str, bool]] = Counter()
        for incident in rows:
            cls = "merged" if incident.state == "merged" else "valid"
            by_code[(incident.category_code[:2], cls)] += 1
            for verdict in incident.verdicts:
                if verdict.met_from_dispatch is not None:
                    tiers[(verdict.tier, verdict.met_from_dispatch)] += 1
            if incident.dispatched_at is not None:
                delay = (incident.dispatched_at - incident.call_at).total_seconds()
                chain[(incident.priority, "call_to_dispatch")].append(delay)
            for order in incident.orders[:1]:
                if order.acknowledged_at is not None:
                    ack = (order.acknowledged_at - order.issued_at).total_seconds()
                    chain[(incident.priority, "dispatch_to_ack")].append(ack)
                arrived = order.gps_arrived_at or order.arrived_at
                if arrived is not None:
                    response = (arrived - incident.call_at).total_seconds()
                    chain[(incident.priority, "call_to_arrival")].append(response)
        activities = Counter(
            a.kind
            for a in session.scalars(select(Activity).where(Activity.at >= lo, Activity.at < hi))
        )
        page[tag] = {
            "codes": by_code,
            "tiers": tiers,
            "activities": activities,
            "chain": {
                k: (statistics.median(v), statistics.quantiles(v, n=10)[-1] if len(v) > 1 else v[0])
                for k, v in chain.items()
            },
        }
    return page


def timed(runs: int, work: Any) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def run(
    backend: str, folder: Path, cache: Path, *, incidents: float, days: int, runs: int
) -> list[Any]:
    with fresh_database(backend, folder) as url:
        settings = Settings(database_url=url, data_dir=folder, cache_dir=cache, demo_history=False)
        ready_server_city(settings)
        engine = make_engine(url)
        today = datetime.now(UTC).date()
        after_end = today.replace(day=1) - timedelta(days=1)
        after = (after_end - timedelta(days=min(days, 60) - 1), after_end)
        before = (after[0] - timedelta(days=days), after[0] - timedelta(days=1))
        began = time.perf_counter()
        with transaction(engine) as session:
            city = load_city_context(session, settings)
            simulate_history(
                session,
                city,
                settings,
                scenario=scaled_reform(incidents),
                seed=14,
                before=before,
                after=after,
                now=datetime.now(UTC),
            )
        written_s = time.perf_counter() - began
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(Incident)) or 0
            now = datetime.now(UTC)
            year = Ask(period="custom", start=before[0], end=before[1], scope="city")
            month = Ask(period="month", day=after[1], scope="city")

            def page(ask: Ask) -> Any:
                return lambda: (
                    summary(session, city, settings, ask, now=now),
                    heat_of(session, city, settings, ask, now=now),
                )

            start = datetime.combine(before[0], datetime.min.time(), settings.tz)
            end = datetime.combine(before[1] + timedelta(days=1), datetime.min.time(), settings.tz)
            page(year)()  # warm: the road cells, the statement cache
            rows = [
                (
                    f"{days} days",
                    timed(runs, page(year)),
                    timed(max(1, runs // 2), lambda: naive_page(session, start, end)),
                ),
                ("month", timed(runs, page(month)), None),
            ]
        engine.dispose()
        console.print(f"{backend}: {stored:,} incident rows written in {written_s:.1f} s")
        return [(backend, what, sql_ms, naive_ms, stored) for what, sql_ms, naive_ms in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=float, default=15_000, help="valid incidents a year")
    parser.add_argument("--days", type=int, default=365, help="days of history before")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parse_args(parser, smoke={"days": 31, "runs": 2, "backend": "sqlite"})
    table = Table(title="statistics page for the city (median ms)")
    for column in (
        "backend",
        "period",
        "incident rows",
        "page (SQL)",
        "naive pass",
        "ratio",
        "target",
    ):
        table.add_column(column)
    with cache_folder() as cache:
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            with scratch_folder(f"bench-stats-{backend}") as folder:
                for name, what, sql_ms, naive_ms, stored in run(
                    backend, folder, cache, incidents=args.incidents, days=args.days, runs=args.runs
                ):
                    ratio = f"{naive_ms / sql_ms:.1f}x" if naive_ms else ""
                    verdict = "met" if sql_ms < TARGET_MS else "MISS"
                    table.add_row(
                        name,
                        what,
                        f"{stored:,}",
                        f"{sql_ms:.0f}",
                        f"{naive_ms:.0f}" if naive_ms else "",
                        ratio,
                        f"< {TARGET_MS:.0f}: {verdict}",
                    )
    console.print(table)


if __name__ == "__main__":
    main()
