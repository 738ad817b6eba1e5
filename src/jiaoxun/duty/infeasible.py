"""What is wrong with a roster problem: malformed input, and why no roster exists.

`validate` refuses a problem that makes no sense (days not consecutive, a cover of a shift the
pattern lacks); `shortfalls` are cheap pre-checks by counting (too few officers, drivers or
accident handlers may work a cover); `explain` asks the model itself which of its rule groups
cannot be met together.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from itertools import pairwise

from ortools.sat.python import cp_model

from jiaoxun.duty.cpsat import RosterModel
from jiaoxun.duty.patterns import REST, STANDBY
from jiaoxun.duty.roster_problem import Cover, Person, Problem, blocked_by_previous
from jiaoxun.errors import InvalidInput

_EXPLAIN_TIME_LIMIT_S = 10.0


def validate(problem: Problem) -> None:
    """Raise InvalidInput for a problem that is malformed (not merely infeasible)."""
    days = problem.days
    if not days:
        raise InvalidInput("a roster needs at least one day, days(=()) is empty")
    for before, after in pairwise(days):
        if (after - before).days != 1:
            raise InvalidInput(f"days must be consecutive, {after} follows {before}")
    codes = {s.code for s in problem.pattern.shifts}
    ids = [p.id for p in problem.people]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"person ids are unique, {sorted({i for i in ids if ids.count(i) > 1})}")
    for person in problem.people:
        if person.team is not None and not 0 <= person.team < problem.pattern.teams:
            raise InvalidInput(
                f"person {person.id}: team(={person.team}) must be in "
                f"0..{problem.pattern.teams - 1} for pattern {problem.pattern.code}"
            )
    seen: set[tuple[int, date, str]] = set()
    for c in problem.covers:
        key = (c.kiosk, c.day, c.shift)
        where = f"cover of kiosk {c.kiosk} on {c.day} {c.shift}"
        if key in seen:
            raise InvalidInput(f"{where}: one cover per kiosk, day and shift, this one repeats")
        seen.add(key)
        if c.day not in days or c.shift not in codes:
            raise InvalidInput(f"{where}: the day must be in the period and the shift in {codes}")
        if min(c.cars, c.counter, c.patrol) < 0 or c.crew < 1:
            raise InvalidInput(f"{where}: cars, counter, patrol >= 0 and crew(={c.crew}) >= 1")
        if c.cars > len(problem.cars.get(c.kiosk, ())):
            raise InvalidInput(
                f"{where}: cars(={c.cars}) exceeds the kiosk's "
                f"{len(problem.cars.get(c.kiosk, ()))} units"
            )
    for r in problem.requests:
        if r.person not in ids or r.day not in days or r.shift not in (*codes, None):
            raise InvalidInput(
                f"request of person {r.person} for {r.day} {r.shift}: the person must be rostered, "
                f"the day in the period and the shift one of {sorted(codes)} or None (day off)"
            )
    for person_id, code in problem.previous.items():
        if person_id not in ids or code not in (*codes, STANDBY, REST):
            raise InvalidInput(f"previous shift {code!r} of person {person_id} is unknown")
    rules = problem.rules
    if rules.min_rest_hours < 0 or rules.max_consecutive_days < 1:
        raise InvalidInput(
            f"rules: min_rest_hours(={rules.min_rest_hours}) >= 0 and "
            f"max_consecutive_days(={rules.max_consecutive_days}) >= 1"
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _needs(covers: list[Cover], staff: list[Person]) -> list[tuple[int, list[Person], str]]:
    """What `covers` ask of `staff` together: (need, who may meet it, the word for one of them)
    for the heads, and for a driver and an accident handler in each car."""
    cars = sum(c.cars for c in covers)
    return [
        (sum(c.heads for c in covers), staff, "officer"),
        (cars, [p for p in staff if p.driver], "driver"),
        (cars, [p for p in staff if p.accident], "accident handler"),
    ]


def shortfalls(problem: Problem) -> tuple[str, ...]:
    """Cheap pre-checks: covers that too few officers of the kiosk may work, shift by shift and
    over the day (one shift a day each). Plain sentences; () when none is found."""
    blocked = {
        (person, problem.days[i], t)
        for person, code in problem.previous.items()
        for i, t in blocked_by_previous(problem, code)
    }
    found: list[str] = []
    by_day: dict[tuple[int, date], list[Cover]] = defaultdict(list)
    for c in problem.covers:
        by_day[c.kiosk, c.day].append(c)
    for (kiosk, day), covers in sorted(by_day.items()):
        free = [p for p in problem.people if p.kiosk == kiosk and (p.id, day) not in problem.leave]
        for c in sorted(covers, key=lambda c: c.shift):
            may = [p for p in free if (p.id, day, c.shift) not in blocked]
            for need, who, word in _needs([c], may):
                if len(who) < need:
                    found.append(
                        f"kiosk {kiosk} needs {_plural(need, word)} on {day} {c.shift} "
                        f"but has {len(who)} who may work then"
                    )
        if len(covers) > 1:
            names = ", ".join(sorted(c.shift for c in covers))
            for need, who, word in _needs(covers, free):
                if len(who) < need:
                    found.append(
                        f"kiosk {kiosk} needs {_plural(need, word)} on {day} over shifts "
                        f"{names} but has {len(who)} who may work that day (one shift a day)"
                    )
    return (*found, *_period_shortfalls(problem))


def _most_shifts(problem: Problem, person: Person) -> int:
    """An upper bound of the shifts one officer may work in the period: days off leave, and
    per block of max+1 days (consecutive days) and of 7 days (weekly hours)."""
    rules, n = problem.rules, len(problem.days)
    free = sum((person.id, day) not in problem.leave for day in problem.days)
    in_a_row = n - n // (rules.max_consecutive_days + 1)
    weekly = n
    if rules.max_hours_per_week is not None:
        per_week = int(rules.max_hours_per_week // min(s.hours for s in problem.pattern.shifts))
        weekly = sum(min(per_week, len(problem.days[i : i + 7])) for i in range(0, n, 7))
    return min(free, in_a_row, weekly)


def _period_shortfalls(problem: Problem) -> list[str]:
    """Kiosks whose officers (drivers, accident handlers) cannot work the shifts their covers
    need over the whole period, even at the most shifts the rules allow each of them."""
    found = []
    kiosks = sorted({c.kiosk for c in problem.covers})
    for kiosk in kiosks:
        covers = [c for c in problem.covers if c.kiosk == kiosk]
        staff = [p for p in problem.people if p.kiosk == kiosk]
        for need, who, word in _needs(covers, staff):
            most = sum(_most_shifts(problem, p) for p in who)
            if most < need:
                found.append(
                    f"kiosk {kiosk} needs {need} {word} shifts from {problem.days[0]} to "
                    f"{problem.days[-1]} but its {_plural(len(who), word)} may work at most "
                    f"{most} (by leave, consecutive days and weekly hours)"
                )
    return found


def explain(problem: Problem, *, time_limit_s: float = _EXPLAIN_TIME_LIMIT_S) -> tuple[str, ...]:
    """Why no roster exists: the pre-checks' shortfalls, else the constraint groups that cannot
    be met together (an unsatisfiable core of assumptions, shrunk by deletion). () when the
    problem is feasible."""
    validate(problem)
    short = shortfalls(problem)
    if short:
        return short
    roster = RosterModel(problem, explain=True)
    names = {var.index: name for name, var in roster.groups.items()}
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    deadline = time.perf_counter() + time_limit_s

    def core_of(groups: list[str]) -> list[str] | None:
        roster.model.clear_assumptions()
        roster.model.add_assumptions([roster.groups[g] for g in groups])
        solver.parameters.max_time_in_seconds = max(0.1, deadline - time.perf_counter())
        if solver.solve(roster.model) != cp_model.INFEASIBLE:
            return None
        return sorted(names[i] for i in solver.sufficient_assumptions_for_infeasibility())

    core = core_of(sorted(roster.groups))
    if core is None:
        if solver.status_name() in ("OPTIMAL", "FEASIBLE"):
            return ()
        return (f"the search for the conflicting rules ran out of time after {time_limit_s:g} s",)
    for name in list(core):
        if name in core and time.perf_counter() < deadline:
            smaller = core_of([g for g in core if g != name])
            if smaller is not None:
                core = smaller
    rules = [_describe(problem, name) for name in core]
    return (f"no roster meets these {len(rules)} rules together", *rules)


def _describe(problem: Problem, group: str) -> str:
    rules = problem.rules
    if group.startswith("cover:"):
        _, kiosk, shift = group.split(":")
        covers = [c for c in problem.covers if c.kiosk == int(kiosk) and c.shift == shift]
        return (
            f"the cover of kiosk {kiosk} in shift {shift}: up to "
            f"{_plural(max(c.heads for c in covers), 'officer')} and "
            f"{_plural(max(c.cars for c in covers), 'car')} (a driver and an accident handler "
            f"in each) on {_plural(len(covers), 'day')}"
        )
    return {
        "rest": f"the rest rule: at least {rules.min_rest_hours:g} h between the end of one "
        f"shift and the start of the next",
        "consecutive": f"at most {rules.max_consecutive_days} working days in a row",
        "hours": f"at most {rules.max_hours_per_week or 0:g} h of shifts in any 7 days",
        "leave": f"the leave ({_plural(len(problem.leave), 'person-day')})",
        "min_shifts": f"at least {rules.min_shifts} shifts per officer over the period",
    }[group]
