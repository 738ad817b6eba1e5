"""``jiaoxun history simulate``: write a simulated year before the reform and the months after
it, so that the statistics have a past to compare with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.table import Table

from jiaoxun.analytics.history import (
    DEMO_SEED,
    HistoryWritten,
    default_periods,
    simulate_history,
)
from jiaoxun.analytics.history_scenario import SCENARIOS, scenario_named
from jiaoxun.city.context import load_city_context
from jiaoxun.city.service import current_city
from jiaoxun.cli_common import command_session, out, progress_bar
from jiaoxun.errors import InvalidInput
from jiaoxun.incidents.reference import seed_reference


def _day(text: str | None, *, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def _report(written: HistoryWritten) -> None:
    if written.already:
        out.print(
            f"simulated history {written.batch} is stored already: nothing written "
            "(--replace writes it again)"
        )
        return
    table = Table(title=f"simulated history {written.batch}")
    table.add_column("records")
    table.add_column("written", justify="right")
    for label, count in (
        ("incidents", written.incidents),
        ("  of which invalid calls", written.invalid),
        ("merged duplicates", written.merged),
        ("dispatch orders", written.orders),
        ("1-3-5 verdicts", written.verdicts),
        ("activities", written.activities),
        ("recognitions", written.recognitions),
    ):
        table.add_row(label, f"{count:,}")
    out.print(table)
    if written.replaced:
        out.print(f"replaced {written.replaced:,} incidents of the earlier simulated history")


def simulate_command(
    scenario: Annotated[
        str, typer.Option(help=f"history scenario: {', '.join(sorted(SCENARIOS))}")
    ] = "reform",
    seed: Annotated[
        int, typer.Option(help="seed of the random draws (same seed, same history)")
    ] = (DEMO_SEED),
    before_start: Annotated[
        str | None, typer.Option(help="first day before the reform (default: a year before)")
    ] = None,
    before_end: Annotated[
        str | None, typer.Option(help="last day before (default: the day before after-start)")
    ] = None,
    after_start: Annotated[
        str | None, typer.Option(help="first day after (default: two full months back)")
    ] = None,
    after_end: Annotated[
        str | None, typer.Option(help="last day after (default: the end of last month)")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="delete the simulated history stored (never live records) first")
    ] = False,
) -> None:
    """Write a simulated history: a year before the reform and two months after it, with
    orders, 1-3-5 verdicts, activities and recognitions, every record marked as simulated."""
    with command_session() as (settings, session):
        now = datetime.now(UTC)
        chosen = scenario_named(scenario)
        (b0, b1), (a0, a1) = default_periods(now.astimezone(settings.tz).date())
        after = (
            _day(after_start, option="--after-start") or a0,
            _day(after_end, option="--after-end") or a1,
        )
        if after_start is not None and before_end is None:
            b1 = date.fromordinal(after[0].toordinal() - 1)
        if after_start is not None and before_start is None:
            b0 = after[0].replace(year=after[0].year - 1)
        before = (
            _day(before_start, option="--before-start") or b0,
            _day(before_end, option="--before-end") or b1,
        )
        if current_city(session) is None:
            raise InvalidInput("no city is stored: build one first (jiaoxun city build)")
        seed_reference(session)  # the categories, plans and tiers the incidents refer to
        city = load_city_context(session, settings)
        with progress_bar() as bar:
            task = bar.add_task("drawing the history", total=None)

            def advance(what: str, done: int, total: int) -> None:
                bar.update(task, description=f"writing {what}", completed=done, total=total)

            written = simulate_history(
                session,
                city,
                settings,
                scenario=chosen,
                seed=seed,
                before=before,
                after=after,
                now=now,
                replace=replace,
                progress=advance,
            )
    _report(written)
