"""Benchmark of the CAD history import (`jiaoxun history import`): rows per second of
`import_history` against a naive import in the same run.

Rows: `--rows` generated Seattle-shaped CAD calls (the columns of the Seattle SPD export that
`seattle_spd.toml` maps: ids, 1-18 responding units, priorities 1-7 in the sample's shares,
precincts, points in Seattle, a year of local queue times, dispatch delays and response times
drawn log-normally, 13 % NULL responses as in the sample), written to a CSV file.

- `import_history`: the file through the shipped mapping into a fresh, migrated database (the
  reference categories seeded), Core batches of 2,000 rows with ``ON CONFLICT DO NOTHING``, the
  commit included; then the same file again (every row already there).
- Baseline (naive): the same file, the rows read and checked by the same `RowReader`, each
  written as an ORM `Incident` with ``session.add`` and ``flush`` one by one, into a database of
  its own. It runs on the first `--baseline-rows` rows (one flush a row takes minutes for
  100,000 on PostgreSQL); its rows/s is what is compared.

Target: 100,000 rows in under 20 s on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--baseline-rows 10000]
                                           [--backend both] [--smoke]

`--smoke` imports 2,000 rows (1,000 for the baseline) on SQLite. A MISS is a finding to report,
not a failure: the script exits 0, non-zero on a crash.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bench_api import backends_for, fresh_database
from harness import parse_args, scratch_folder
from jiaoxun.analytics.importer import RowReader, batch_name, import_history
from jiaoxun.analytics.mapping import mapping_named
from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.incidents.models import CategoryRow, Incident
from jiaoxun.incidents.reference import seed_reference

TARGET_ROWS, TARGET_S = 100_000, 20.0
HEADER = [
    "cad_id",
    "responding_units",
    "priority",
    "dispatch_precinct",
    "Dispatch_Longitude",
    "dispatch_latitude",
    "CAD_Event_Original_Time_Queued",
    "first_dispatch_delay",
    "first_response_time",
    "min_dispatch_delay",
    "dispatch_neighborhood",
]
PRIORITY_SHARES = {1: 270, 2: 407, 3: 248, 4: 15, 5: 56, 7: 4}  # the sample's counts
PRECINCTS = ("NORTH", "WEST", "EAST", "SOUTH", "SOUTHWEST")
NEIGHBORHOODS = ("BALLARD SOUTH", "CAPITOL HILL", "DOWNTOWN COMMERCIAL", "NORTHGATE", "SLU/CASCADE")

console = Console()


def write_rows(path: Path, rows: int, *, seed: int) -> None:
    """`rows` Seattle-shaped CAD calls into the CSV file `path`."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    priorities, weights = list(PRIORITY_SHARES), list(PRIORITY_SHARES.values())
    with path.open("w", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(HEADER)
        for i in range(rows):
            queued = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            if queued.month == 3 and queued.day == 10 and queued.hour == 2:  # the DST gap
                queued += timedelta(hours=1)
            delay = max(7, round(rng.lognormvariate(4.5, 1.3)))
            response = delay + round(rng.lognormvariate(5.5, 0.8))
            out.writerow(
                [
                    2024_000_000_000 + i,
                    rng.randint(1, 18),
                    rng.choices(priorities, weights)[0],
                    rng.choice(PRECINCTS),
                    f"{rng.uniform(-122.42, -122.25):.8f}",
                    f"{rng.uniform(47.50, 47.73):.8f}",
                    queued.strftime("%Y-%m-%d %H:%M:%S"),
                    delay,
                    "NULL" if rng.random() < 0.131 else response,
                    delay,
                    rng.choice(NEIGHBORHOODS),
                ]
            )


@dataclass(frozen=True)
class Timing:
    rows: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.rows / self.seconds


def ready_database(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        seed_reference(session)
    engine.dispose()


def time_import(url: str, csv_path: Path) -> tuple[Timing, Timing]:
    """`import_history` of the file into a fresh database, then again; commits timed too."""
    ready_database(url)
    engine, mapping, timings = make_engine(url), mapping_named("seattle_spd"), []
    for expect_new in (True, False):
        begin = time.perf_counter()
        with transaction(engine) as session:
            result = import_history(session, csv_path, mapping)
        timings.append(Timing(result.read, time.perf_counter() - begin))
        written = result.imported if expect_new else result.already_there
        if result.rejected or written != result.read:
            raise RuntimeError(f"import read {result.read}, wrote {written}: {result.errors[:3]}")
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(Incident))
    engine.dispose()
    if stored != timings[0].rows:
        raise RuntimeError(f"{stored} incidents stored, {timings[0].rows} rows imported")
    return timings[0], timings[1]


def time_naive(url: str, csv_path: Path, rows: int) -> Timing:
    """The baseline: the first `rows` rows read by the same reader, one ORM object and one
    flush a row, one commit."""
    ready_database(url)
    engine, mapping = make_engine(url), mapping_named("seattle_spd")
    begin = time.perf_counter()
    with csv_path.open(newline="") as stream, transaction(engine) as session:
        lines = csv.reader(stream)
        header = next(lines)
        codes = frozenset(session.scalars(select(CategoryRow.code)))
        reader = RowReader(mapping, header, batch=batch_name(mapping, csv_path), codes=codes)
        for row, values in enumerate(itertools.islice(lines, rows), start=2):
            record, errors = reader.read(values, row)
            if record is None:
                raise RuntimeError(f"row {row} rejected: {errors}")
            session.add(Incident(**record))
            session.flush()
    seconds = time.perf_counter() - begin
    engine.dispose()
    return Timing(rows, seconds)


def verdict(met: bool) -> str:
    return "[bold green]PASS[/]" if met else "[bold red]MISS[/]"


def results_table(results: dict[str, tuple[Timing, Timing, Timing]], rows: int) -> Table:
    table = Table(
        title=f"import of {rows:,} Seattle-shaped CAD rows (target: {TARGET_ROWS:,} in "
        f"< {TARGET_S:.0f} s)",
        title_justify="left",
    )
    columns = ("backend", "import s", "rows/s", "again rows/s", "naive rows/s", "ratio", "met")
    table.caption = "naive: ORM add + flush a row, on the first rows (--baseline-rows)"
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for backend, (first, again, naive) in results.items():
        # the target is met when the rate would import TARGET_ROWS in TARGET_S
        table.add_row(
            backend,
            f"{first.seconds:.2f}",
            f"{first.per_s:,.0f}",
            f"{again.per_s:,.0f}",
            f"{naive.per_s:,.0f}",
            f"{first.per_s / naive.per_s:.1f}x",
            verdict(first.per_s >= TARGET_ROWS / TARGET_S),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=TARGET_ROWS, help="rows imported")
    parser.add_argument("--baseline-rows", type=int, default=10_000, help="rows of the naive")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=20240101)
    args = parse_args(parser, smoke={"rows": 2000, "baseline_rows": 1000, "backend": "sqlite"})
    results: dict[str, tuple[Timing, Timing, Timing]] = {}
    with scratch_folder("bench-import") as folder:
        csv_path = folder / "seattle_generated.csv"
        write_rows(csv_path, args.rows, seed=args.seed)
        baseline_rows = min(args.rows, args.baseline_rows)
        for backend in backends_for(args.backend, smoke=args.smoke, console=console):
            try:
                with fresh_database(backend, folder / "fast") as url:
                    first, again = time_import(url, csv_path)
                with fresh_database(backend, folder / "naive") as url:
                    naive = time_naive(url, csv_path, baseline_rows)
            except OperationalError as exc:  # no PostgreSQL in a full run
                if args.smoke or backend == "sqlite":
                    raise
                console.print(f"[bold red]{backend} skipped:[/] {exc}")
                continue
            results[backend] = (first, again, naive)
    console.print(results_table(results, args.rows))


if __name__ == "__main__":
    main()
