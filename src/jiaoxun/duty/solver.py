"""The roster solver: who works which shift on which day, as a CP-SAT model.

A roster is to a kiosk what a seating plan is to a theatre company on tour: every night each
stage needs its cast (cars crewed, each with a driver and an accident handler, the counter, the
patrol lines), nobody plays twice in a row without sleeping, and the hard nights are shared out
fairly over the season. The decision is one boolean per officer, day and shift; the hard rules
(cover, rest, consecutive days, weekly hours, leave) are constraint groups, each named so that an
infeasible month says which of them cannot be met together; the soft wishes (fair nights and
holidays over the months, requests, the pattern's rotation, no needless heads) are the objective.

This module holds `solve`, which returns a frozen `Solution` with the status checked, and is the
solver's one front door: it re-exports the rest from the modules that hold it. The problem and
its answer are in `roster_problem`, the model in `cpsat`, `validate`, `shortfalls` and `explain`
in `infeasible`, `assign_posts` (the shifts turned into the posts crews are made of) in `posts`,
and `check` and `objective_of`, which judge any roster (a hand-made one, or the pattern's plain
rotation) by the same rules, in `judge`.

Pure: no database, no settings, no HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from jiaoxun.duty.cpsat import RosterModel
from jiaoxun.duty.infeasible import explain, shortfalls, validate
from jiaoxun.duty.judge import check, objective_of, period_counts
from jiaoxun.duty.posts import assign_posts
from jiaoxun.duty.roster_problem import (
    W_DEVIATION,
    W_EXTRA_HEAD,
    W_HOLIDAY_SPREAD,
    W_NIGHT_SPREAD,
    Cover,
    Ledger,
    Person,
    Post,
    Problem,
    Request,
    Rules,
    Shifts,
    Solution,
)

__all__ = [
    "W_DEVIATION",
    "W_EXTRA_HEAD",
    "W_HOLIDAY_SPREAD",
    "W_NIGHT_SPREAD",
    "Cover",
    "Ledger",
    "Person",
    "Post",
    "Problem",
    "Progress",
    "Request",
    "Rules",
    "Shifts",
    "Solution",
    "assign_posts",
    "check",
    "explain",
    "objective_of",
    "shortfalls",
    "solve",
    "validate",
]

Progress = Callable[[float, float | None, float | None], None]

_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "model_invalid",
    cp_model.UNKNOWN: "unknown",
}


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 30.0,
    workers: int = 2,
    progress: Progress | None = None,
) -> Solution:
    """The best roster found within `time_limit_s`, its status checked.

    `progress(wall_s, objective, bound)` is called on each improving roster, `wall_s` counted
    from this call. An infeasible problem comes back with status "infeasible" and `why`.
    """
    started = time.perf_counter()
    validate(problem)
    short = shortfalls(problem)
    if short:
        return _empty("infeasible", started, why=short)
    roster = RosterModel(problem, explain=False)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = _STATUS[solver.solve(roster.model, _Callback(progress, started))]
    size = roster.size()
    if status == "infeasible":
        return _empty(status, started, why=explain(problem), size=size)
    if status not in ("optimal", "feasible"):
        return _empty(status, started, size=size)
    shifts = {
        (person, problem.days[i]): code
        for (person, i, code), var in roster.x.items()
        if solver.boolean_value(var)
    }
    return Solution(
        status=status,
        objective=solver.objective_value,
        bound=solver.best_objective_bound,
        wall_s=time.perf_counter() - started,
        shifts=shifts,
        posts=assign_posts(problem, shifts),
        nights=period_counts(problem, shifts, nights=True),
        holidays=period_counts(problem, shifts, nights=False),
        variables=size[0],
        constraints=size[1],
    )


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, progress: Progress | None, started: float) -> None:
        super().__init__()
        self._progress = progress
        self._started = started

    def on_solution_callback(self) -> None:
        if self._progress is not None:
            self._progress(
                time.perf_counter() - self._started,
                self.objective_value,
                self.best_objective_bound,
            )


def _empty(
    status: str, started: float, *, why: tuple[str, ...] = (), size: tuple[int, int] = (0, 0)
) -> Solution:
    return Solution(
        status=status,
        objective=None,
        bound=None,
        wall_s=time.perf_counter() - started,
        shifts={},
        posts=(),
        why=why,
        variables=size[0],
        constraints=size[1],
    )
