"""The CP-SAT model of a roster problem: one boolean per officer, day and shift.

The hard rules (cover, rest, consecutive days, weekly hours, minimum shifts, leave) are
constraint groups, each named, so that an infeasible month can say which of them cannot be met
together; the soft wishes (fair nights and holidays over the months, requests, the pattern's
rotation, no needless heads) are the objective, by the weights of `roster_problem`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from ortools.sat.python import cp_model

from jiaoxun.duty.patterns import REST, STANDBY
from jiaoxun.duty.roster_problem import (
    W_DEVIATION,
    W_EXTRA_HEAD,
    W_HOLIDAY_SPREAD,
    W_NIGHT_SPREAD,
    Ledger,
    Person,
    Problem,
    blocked_by_previous,
    planned_entry,
    too_close,
)

_HOURS_SCALE = 10  # hours are counted in tenths in the model


class RosterModel:
    """The CP-SAT model of a problem. With `explain`, every constraint group is enforced by a
    literal of its own (in `groups`) and there is no objective."""

    def __init__(self, problem: Problem, *, explain: bool) -> None:
        self.problem = problem
        self.model = cp_model.CpModel()
        self.explain = explain
        self.groups: dict[str, cp_model.IntVar] = {}
        self.x: dict[tuple[int, int, str], cp_model.IntVar] = {}
        self.day_of = {day: i for i, day in enumerate(problem.days)}
        self.people = {p.id: p for p in problem.people}
        self.codes = tuple(s.code for s in problem.pattern.shifts)
        for person in problem.people:
            for i, day in enumerate(problem.days):
                standby = planned_entry(problem, person, day) == STANDBY
                for code in (*self.codes, STANDBY) if standby else self.codes:
                    self.x[person.id, i, code] = self.model.new_bool_var(f"x{person.id}_{i}{code}")
                self.model.add_at_most_one(self.day_vars(person.id, i))
        self._add_cover()
        self._add_rest()
        self._add_consecutive()
        self._add_hours()
        self._add_min_shifts()
        self._add_leave()
        if not explain:
            self.model.minimize(self._objective())
            for (person_id, i, code), var in self.x.items():
                planned = planned_entry(problem, self.people[person_id], problem.days[i])
                on_leave = (person_id, problem.days[i]) in problem.leave
                self.model.add_hint(var, planned == code and not on_leave)

    def size(self) -> tuple[int, int]:
        """Variables and constraints of the model."""
        proto = self.model.proto
        return len(proto.variables), len(proto.constraints)

    def day_vars(self, person: int, i: int) -> list[cp_model.IntVar]:
        """The officer's literals of one day (his shifts, and standby where it is planned)."""
        return [
            var
            for code in (*self.codes, STANDBY)
            if (var := self.x.get((person, i, code))) is not None
        ]

    def _group(self, name: str) -> cp_model.IntVar | None:
        if not self.explain:
            return None
        if name not in self.groups:
            self.groups[name] = self.model.new_bool_var(name)
        return self.groups[name]

    def _add(self, constraint: cp_model.Constraint, group: cp_model.IntVar | None) -> None:
        if group is not None:
            constraint.only_enforce_if(group)

    def _add_cover(self) -> None:
        # Heads >= need, drivers >= cars and handlers >= cars are enough for posts (crew >= 2):
        # give each car one driver; of the c - m cars whose driver also handles accidents none
        # needs more, and the other m find m handlers among the handlers not driving, since
        # handlers - (c - m) >= c - (c - m) = m. Each car then holds 1 or 2 of its `crew` seats
        # and the other seats, the counter and the patrol are filled from the remaining heads,
        # which suffice as heads >= cars * crew + counter + patrol. A crew of 1 needs one officer
        # who is both, so that count is bounded instead.
        by_kiosk: dict[int, list[Person]] = defaultdict(list)
        for person in self.problem.people:
            by_kiosk[person.kiosk].append(person)
        for cover in self.problem.covers:
            group = self._group(f"cover:{cover.kiosk}:{cover.shift}")
            i = self.day_of[cover.day]
            staff = by_kiosk[cover.kiosk]

            def heads(
                who: Iterable[Person], i: int = i, shift: str = cover.shift
            ) -> list[cp_model.IntVar]:
                return [self.x[p.id, i, shift] for p in who]

            self._add(self.model.add(sum(heads(staff)) >= cover.heads), group)
            if cover.crew == 1:
                both = [p for p in staff if p.driver and p.accident]
                self._add(self.model.add(sum(heads(both)) >= cover.cars), group)
            else:
                drivers = [p for p in staff if p.driver]
                handlers = [p for p in staff if p.accident]
                self._add(self.model.add(sum(heads(drivers)) >= cover.cars), group)
                self._add(self.model.add(sum(heads(handlers)) >= cover.cars), group)

    def _add_rest(self) -> None:
        problem, group = self.problem, self._group("rest")
        for (a, s), (b, t) in too_close(problem):
            for person in problem.people:
                pair = [self.x[person.id, a, s].Not(), self.x[person.id, b, t].Not()]
                self._add(self.model.add_bool_or(pair), group)
        for person_id, code in problem.previous.items():
            for b, t in blocked_by_previous(problem, code):
                self._add(self.model.add(self.x[person_id, b, t] == 0), group)

    def _add_consecutive(self) -> None:
        problem, group = self.problem, self._group("consecutive")
        most, n = problem.rules.max_consecutive_days, len(problem.days)
        for person in problem.people:
            worked = [sum(self.day_vars(person.id, i)) for i in range(n)]
            before = int(problem.previous.get(person.id, REST) != REST)
            for first in range(-1, n - most):
                window = worked[max(first, 0) : first + most + 1]
                extra = before if first < 0 else 0
                self._add(self.model.add(sum(window) + extra <= most), group)

    def _add_hours(self) -> None:
        problem, group = self.problem, self._group("hours")
        limit = problem.rules.max_hours_per_week
        if limit is None:
            return
        tenths = {s.code: round(s.hours * _HOURS_SCALE) for s in problem.pattern.shifts}
        n = len(problem.days)
        for person in problem.people:
            hours = [sum(tenths[c] * self.x[person.id, i, c] for c in self.codes) for i in range(n)]
            for first in range(max(1, n - 6)):
                window = hours[first : first + 7]
                self._add(self.model.add(sum(window) <= round(limit * _HOURS_SCALE)), group)

    def _add_min_shifts(self) -> None:
        floor, n = self.problem.rules.min_shifts, len(self.problem.days)
        if floor is None:
            return
        group = self._group("min_shifts")
        for person in self.problem.people:
            shifts = [self.x[person.id, i, c] for i in range(n) for c in self.codes]
            self._add(self.model.add(sum(shifts) >= floor), group)

    def _add_leave(self) -> None:
        group = self._group("leave")
        for person, day in sorted(self.problem.leave):
            i = self.day_of.get(day)
            if i is not None and person in self.people:
                self._add(self.model.add(sum(self.day_vars(person, i)) == 0), group)

    def _objective(self) -> cp_model.LinearExprT:
        problem = self.problem
        night = [s.code for s in problem.pattern.shifts if s.night]
        holiday = [i for i, day in enumerate(problem.days) if day in problem.holidays]
        terms: list[cp_model.LinearExprT] = []
        for codes, days, weight, of in (
            (night, range(len(problem.days)), W_NIGHT_SPREAD, "nights"),
            (list(self.codes), holiday, W_HOLIDAY_SPREAD, "holidays"),
        ):
            totals = {
                p.id: getattr(problem.ledger.get(p.id, Ledger()), of)
                + sum(self.x[p.id, i, c] for i in days for c in codes)
                for p in problem.people
            }
            terms.append(weight * self._spread(totals))
        for request in problem.requests:
            i, asker = self.day_of[request.day], request.person
            if (asker, request.day) in problem.leave:
                continue
            if request.shift is None:
                terms.append(request.weight * sum(self.day_vars(asker, i)))
            else:
                terms.append(request.weight * (1 - self.x[asker, i, request.shift]))
        for person in problem.people:
            for i, day in enumerate(problem.days):
                planned = planned_entry(problem, person, day)
                if planned is None or (person.id, day) in problem.leave:
                    continue
                if planned == REST:
                    terms.append(W_DEVIATION * sum(self.day_vars(person.id, i)))
                else:
                    terms.append(W_DEVIATION * (1 - self.x[person.id, i, planned]))
        working = [v for (_, _, code), v in self.x.items() if code != STANDBY]
        need = sum(c.heads for c in problem.covers)
        terms.append(W_EXTRA_HEAD * (sum(working) - need))
        return sum(terms)

    def _spread(self, totals: Mapping[int, cp_model.LinearExprT]) -> cp_model.LinearExprT:
        if not totals:
            return 0
        most = self.model.new_int_var(-(10**6), 10**6, "most")
        least = self.model.new_int_var(-(10**6), 10**6, "least")
        for total in totals.values():
            self.model.add(most >= total)
            self.model.add(least <= total)
        return most - least
