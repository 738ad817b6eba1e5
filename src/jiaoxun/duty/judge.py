"""Judging any roster by the solver's rules: a hand-made one, the pattern's plain rotation, or
the solver's own answer.

`check` names the hard rules a roster breaks; `objective_of` scores it by the objective's
weights, so that a roster from elsewhere compares with the solver's on the same measure;
`period_counts` gives each officer's nights or holiday shifts in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from itertools import pairwise

from jiaoxun.duty.patterns import REST, STANDBY
from jiaoxun.duty.roster_problem import (
    W_DEVIATION,
    W_EXTRA_HEAD,
    W_HOLIDAY_SPREAD,
    W_NIGHT_SPREAD,
    Ledger,
    Person,
    Problem,
    Shifts,
    gap_h,
    planned_entry,
)
from jiaoxun.errors import InvalidInput


def check(problem: Problem, shifts: Shifts) -> tuple[str, ...]:
    """The hard rules a roster breaks (cover, rest, consecutive days, weekly hours, leave,
    minimum shifts), one plain sentence each; () for a roster that keeps them all."""
    people = {p.id: p for p in problem.people}
    real = {s.code: s for s in problem.pattern.shifts}
    on: dict[tuple[int, date, str], list[Person]] = defaultdict(list)
    worked: dict[int, dict[date, str]] = defaultdict(dict)
    for (person_id, day), code in shifts.items():
        if person_id not in people or day not in problem.days or code not in (*real, STANDBY):
            raise InvalidInput(f"roster entry {code!r} of person {person_id} on {day} is unknown")
        on[people[person_id].kiosk, day, code].append(people[person_id])
        worked[person_id][day] = code
    found: list[str] = []
    for c in problem.covers:
        staff = on[c.kiosk, c.day, c.shift]
        for need, n, word in (
            (c.heads, len(staff), "officer"),
            (c.cars, sum(p.driver for p in staff), "driver"),
            (c.cars, sum(p.accident for p in staff), "accident handler"),
            (c.cars if c.crew == 1 else 0, sum(p.driver and p.accident for p in staff), "both"),
        ):
            if n < need:
                found.append(f"kiosk {c.kiosk} on {c.day} {c.shift}: {n} of {need} {word}")
    for person in problem.people:
        found += _breaches(problem, person.id, worked[person.id])
    return tuple(found)


def _breaches(problem: Problem, person: int, worked: dict[date, str]) -> list[str]:
    """The rules one officer's days break (`worked`: day -> code)."""
    rules, tz = problem.rules, problem.tz
    real = {s.code: s for s in problem.pattern.shifts}
    found = [
        f"person {person} works on {day}, a day of leave"
        for day in sorted(worked)
        if (person, day) in problem.leave
    ]
    n_shifts = sum(code in real for code in worked.values())
    if rules.min_shifts is not None and n_shifts < rules.min_shifts:
        found.append(f"person {person}: {n_shifts} of at least {rules.min_shifts} shifts")
    before = problem.days[0] - timedelta(days=1)
    if problem.previous.get(person, REST) != REST:
        worked = {before: problem.previous[person], **worked}
    timed = sorted(
        (*real[code].bounds(day, tz), day, code) for day, code in worked.items() if code in real
    )
    for (_, end, day, s), (start, _, later, t) in pairwise(timed):
        if gap_h(start, end) < rules.min_rest_hours:
            found.append(
                f"person {person}: {gap_h(start, end):g} h of rest between {s} on {day} "
                f"and {t} on {later}, at least {rules.min_rest_hours:g} h"
            )
    return found + _streaks(person, worked, before, problem)


def _streaks(person: int, worked: Mapping[date, str], before: date, problem: Problem) -> list[str]:
    rules, days = problem.rules, problem.days
    found = []
    run = 1 if before in worked else 0
    for day in days:
        run = run + 1 if day in worked else 0
        if run == rules.max_consecutive_days + 1:
            found.append(
                f"person {person}: more than {rules.max_consecutive_days} working days in a row "
                f"up to {day}"
            )
    limit = rules.max_hours_per_week
    if limit is not None:
        real = {s.code: s.hours for s in problem.pattern.shifts}
        for first in range(max(1, len(days) - 6)):
            window = days[first : first + 7]
            hours = sum(real.get(worked.get(day, REST), 0.0) for day in window)
            if hours > limit + 1e-9:
                found.append(f"person {person}: {hours:g} h from {window[0]}, at most {limit:g} h")
    return found


def objective_of(problem: Problem, shifts: Shifts) -> int:
    """The solver's objective for any roster, by the same weights (a lower value is better)."""
    total = 0
    for weight, of in ((W_NIGHT_SPREAD, "nights"), (W_HOLIDAY_SPREAD, "holidays")):
        period = period_counts(problem, shifts, nights=of == "nights")
        counts = [getattr(problem.ledger.get(p, Ledger()), of) + n for p, n in period.items()]
        total += weight * (max(counts) - min(counts)) if counts else 0
    for r in problem.requests:
        if (r.person, r.day) not in problem.leave:
            code = shifts.get((r.person, r.day))
            total += r.weight * (code is not None if r.shift is None else code != r.shift)
    for person in problem.people:
        for day in problem.days:
            planned = planned_entry(problem, person, day)
            if planned is not None and (person.id, day) not in problem.leave:
                code = shifts.get((person.id, day))
                total += W_DEVIATION * (code is not None if planned == REST else code != planned)
    real = {s.code for s in problem.pattern.shifts}
    working = sum(code in real for code in shifts.values())
    return total + W_EXTRA_HEAD * (working - sum(c.heads for c in problem.covers))


def period_counts(problem: Problem, shifts: Shifts, *, nights: bool) -> dict[int, int]:
    """Each officer's nights in a roster (with `nights` false, his shifts on holidays), of this
    period alone: the ledger is not counted."""
    days: Collection[date]
    if nights:
        codes, days = {s.code for s in problem.pattern.shifts if s.night}, problem.days
    else:
        codes, days = {s.code for s in problem.pattern.shifts}, problem.holidays
    return {p.id: sum(shifts.get((p.id, day)) in codes for day in days) for p in problem.people}
