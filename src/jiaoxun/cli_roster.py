"""The roster commands of ``jiaoxun``: solve a month by CP-SAT, publish it, show it. Thin."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from jiaoxun.duty.models import Roster

from jiaoxun.cli_common import command_errors, command_session, err, out

roster_app = typer.Typer(help="Rosters: a month of shifts for the force, solved by CP-SAT.")


@roster_app.command("solve")
def roster_solve(
    month: Annotated[str, typer.Option(help="the month, YYYY-MM")],
    pattern: Annotated[str, typer.Option(help="shift pattern: 4t3s, 4t2s, cq3 or your own")] = (
        "4t3s"
    ),
    time_limit: Annotated[float, typer.Option(min=1, max=120, help="seconds to solve")] = 30,
    publish: Annotated[bool, typer.Option(help="publish it when solved")] = False,
) -> None:
    """Solve a month's roster (kept as a draft; with --publish, put in force)."""
    from jiaoxun.db import make_engine, migrate, transaction
    from jiaoxun.duty import rosters, solver
    from jiaoxun.settings import Settings

    with command_errors():
        settings = Settings()
        engine = make_engine(settings.database)
        try:  # a refused month must not leave the pool's connections open
            migrate(engine)
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[best]}"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err, transient=True) as progress:
                task = progress.add_task(f"solving {month}", total=time_limit, best="")

                def step(wall_s: float, objective: float | None, bound: float | None) -> None:
                    best = ""
                    if objective is not None:
                        best = f"objective {objective:g}, bound {bound:g}"
                    progress.update(task, completed=min(wall_s, time_limit), best=best)

                roster_id = rosters.solve_month(
                    sessionmaker(engine, expire_on_commit=False),
                    month=rosters.month_of(month),
                    pattern_code=pattern,
                    tz=settings.tz,
                    rules=solver.Rules(),
                    time_limit_s=time_limit,
                    by="cli",
                    now=datetime.now(UTC),
                    progress=step,
                )
            with transaction(engine) as session:
                roster = rosters.get_roster(session, roster_id)
                if publish and roster.status in rosters.SOLVED:
                    roster = rosters.publish(
                        session, roster.id, version=roster.version, by="cli", now=datetime.now(UTC)
                    )
                _print_roster(session, roster)
                solved = roster.status in rosters.SOLVED
        finally:
            engine.dispose()
        if not solved:
            raise typer.Exit(1)


@roster_app.command("list")
def roster_list() -> None:
    """The rosters, newest first."""
    from jiaoxun.duty.models import Roster

    with command_session() as (_settings, session):
        table = Table(title="rosters")
        for column in ("id", "month", "pattern", "state", "status", "objective", "bound", "s"):
            table.add_column(column)
        for r in session.scalars(select(Roster).order_by(Roster.month.desc(), Roster.id.desc())):
            table.add_row(
                str(r.id),
                r.month.strftime("%Y-%m"),
                r.pattern_code,
                r.state.value,
                r.status,
                _number(r.objective),
                _number(r.bound),
                f"{r.wall_s:.1f}",
            )
        out.print(table)


def _print_roster(session: Session, roster: Roster) -> None:
    from jiaoxun.duty.models import DutyShift

    out.print(
        f"roster {roster.id} of {roster.month:%Y-%m} ({roster.pattern_code}): "
        f"{roster.state.value}, solver {roster.status} in {roster.wall_s:.1f} s, objective "
        f"{_number(roster.objective)} against best bound {_number(roster.bound)}"
    )
    for why in roster.why:
        err.print(f"[bold red]cannot be met:[/] {why}")
    query = select(DutyShift.post).where(DutyShift.roster_id == roster.id)
    posts = Counter(p.value for p in session.scalars(query))
    if posts:
        out.print(", ".join(f"{n} {post} shifts" for post, n in sorted(posts.items())))


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
