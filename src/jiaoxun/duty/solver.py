"""The roster solver: who works which shift on which day, as a CP-SAT model.

A roster is to a kiosk what a seating plan is to a theatre company on tour: every night each
stage needs its cast (cars crewed, each with a driver and an accident handler, the counter, the
patrol lines), nobody plays twice in a row without sleeping, and the hard nights are shared out
fairly over the season. The decision is one boolean per officer, day and shift; the hard rules
(cover, rest, consecutive days, weekly hours, leave) are constraint groups, each named so that an
infeasible month says which of them cannot be met together; the soft wishes (fair nights and
holidays over the months, requests, the pattern's rotation, no needless heads) are the objective.

Pure: no database, no settings, no HTTP. `solve` returns a frozen `Solution` with the status
checked; `assign_posts` turns the shifts into the posts crews are made of; `check` and
`objective_of` judge any roster (a hand-made one, or the pattern's plain rotation) by the same
rules.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from jiaoxun.duty.patterns import REST, STANDBY, Pattern
from jiaoxun.errors import InvalidInput

# objective weights, in points: one night or holiday more between the most and the least loaded
# officer (ledger included) outweighs a request, which outweighs following the rotation, which
# outweighs one needless head. So a ledger far apart is evened out even by a night beyond the
# cover's need for the officers with the fewest nights, when no one can give his night up.
W_NIGHT_SPREAD = 40
W_HOLIDAY_SPREAD = 40
W_DEVIATION = 3  # per person-day off the team's planned entry (leave days excepted)
W_EXTRA_HEAD = 1  # per officer on a shift beyond the cover's need
_HOURS_SCALE = 10  # hours are counted in tenths in the model
_EXPLAIN_TIME_LIMIT_S = 10.0

Progress = Callable[[float, float | None, float | None], None]
Shifts = Mapping[tuple[int, date], str]


@dataclass(frozen=True)
class Person:
    """An officer: his kiosk, skills, and his team in the pattern's rotation (None: no team)."""

    id: int
    kiosk: int
    driver: bool
    accident: bool
    team: int | None = None


@dataclass(frozen=True)
class Cover:
    """What one kiosk needs in one shift of one day: `cars` cars of `crew` officers (each with a
    driver and an accident handler, one officer may be both), `counter` at the counter and
    `patrol` more on the patrol lines."""

    kiosk: int
    day: date
    shift: str
    cars: int
    crew: int = 2
    counter: int = 0
    patrol: int = 0

    @property
    def heads(self) -> int:
        return self.cars * self.crew + self.counter + self.patrol


@dataclass(frozen=True)
class Request:
    """Soft: `person` wants `shift` on `day` (None: the day off)."""

    person: int
    day: date
    shift: str | None
    weight: int = 10


@dataclass(frozen=True)
class Ledger:
    """What earlier months gave an officer, counted over the same span for everyone."""

    nights: int = 0
    holidays: int = 0


@dataclass(frozen=True)
class Rules:
    min_rest_hours: float = 11.0
    max_consecutive_days: int = 6
    max_hours_per_week: float | None = 48.0  # in any 7 consecutive days
    min_shifts: int | None = None  # per officer over the period


@dataclass(frozen=True)
class Problem:
    """One period (consecutive local days) of one pattern, its officers, cars and demands.

    `cars` maps a kiosk to its unit ids (a cover's cars are the first of them); `previous` the
    shift code an officer worked on the day before the first day (rest across periods);
    `holidays` the statutory holidays among the days. Make-up working days arrive as covers.
    """

    days: tuple[date, ...]
    tz: ZoneInfo
    pattern: Pattern
    anchor: date  # the day team 0 starts its cycle
    people: tuple[Person, ...]
    cars: Mapping[int, tuple[int, ...]]
    covers: tuple[Cover, ...]
    rules: Rules = Rules()
    leave: frozenset[tuple[int, date]] = frozenset()
    requests: tuple[Request, ...] = ()
    ledger: Mapping[int, Ledger] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    previous: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Post:
    """One officer's post in one shift; `role` on a car: "driver", "accident" or "crew"."""

    person: int
    day: date
    shift: str
    kiosk: int
    post: str  # "car" | "counter" | "patrol"
    unit: int | None = None
    role: str | None = None


@dataclass(frozen=True)
class Solution:
    """The solver's answer. `shifts` holds working (person, day) -> shift code (``S``: standby);
    `why` explains an infeasible problem; `nights` and `holidays` are this period's counts."""

    status: str  # "optimal" | "feasible" | "infeasible" | "model_invalid" | "unknown"
    objective: float | None
    bound: float | None
    wall_s: float
    shifts: Shifts
    posts: tuple[Post, ...]
    why: tuple[str, ...] = ()
    nights: Mapping[int, int] = field(default_factory=dict)
    holidays: Mapping[int, int] = field(default_factory=dict)
    variables: int = 0  # the model's size (0 when no model was solved)
    constraints: int = 0

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return (self.objective - self.bound) / max(1.0, abs(self.objective))


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
    roster = _Roster(problem, explain=False)
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
        nights=_counts(problem, shifts, nights=True),
        holidays=_counts(problem, shifts, nights=False),
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


def _counts(problem: Problem, shifts: Shifts, *, nights: bool) -> dict[int, int]:
    night = {s.code for s in problem.pattern.shifts if s.night}
    real = {s.code for s in problem.pattern.shifts}
    counts = dict.fromkeys((p.id for p in problem.people), 0)
    for (person, day), code in shifts.items():
        if code in (night if nights else real) and (nights or day in problem.holidays):
            counts[person] += 1
    return counts


# -- the model -------------------------------------------------------------------------------


class _Roster:
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
                standby = _planned(problem, person, day) == STANDBY
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
                planned = _planned(problem, self.people[person_id], problem.days[i])
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
        for (a, s), (b, t) in _too_close(problem):
            for person in problem.people:
                pair = [self.x[person.id, a, s].Not(), self.x[person.id, b, t].Not()]
                self._add(self.model.add_bool_or(pair), group)
        for person_id, code in problem.previous.items():
            for b, t in _blocked_by_previous(problem, code):
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
                planned = _planned(problem, person, day)
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


def _planned(problem: Problem, person: Person, day: date) -> str | None:
    if person.team is None:
        return None
    return problem.pattern.planned(person.team, day, problem.anchor)


def _gap_h(start: datetime, end: datetime) -> float:
    """Hours from `end` to `start`, elapsed (aware datetimes of one zone subtract by the wall
    clock, so through UTC)."""
    return (start.astimezone(UTC) - end.astimezone(UTC)).total_seconds() / 3600


def _reach_days(problem: Problem) -> int:
    """A shift starting `reach` days after another's day is never too close to it (a shift
    starts within its day and lasts at most the longest shift's hours)."""
    longest_h = max(s.hours for s in problem.pattern.shifts)
    return 2 + int(problem.rules.min_rest_hours + longest_h) // 24


def _too_close(problem: Problem) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """Pairs ((day index, shift), (later day index, shift)) with less rest than the rules ask."""
    shifts, tz, days = problem.pattern.shifts, problem.tz, problem.days
    reach = _reach_days(problem)
    bounds = {(i, s.code): s.bounds(day, tz) for i, day in enumerate(days) for s in shifts}
    pairs = []
    for a in range(len(days)):
        for b in range(a + 1, min(a + reach, len(days))):
            for s in shifts:
                for t in shifts:
                    gap = _gap_h(bounds[b, t.code][0], bounds[a, s.code][1])
                    if gap < problem.rules.min_rest_hours:
                        pairs.append(((a, s.code), (b, t.code)))
    return pairs


def _blocked_by_previous(problem: Problem, code: str) -> list[tuple[int, str]]:
    """(day index, shift) an officer who worked `code` the day before the period may not work."""
    if code in (REST, STANDBY):
        return []
    shift = problem.pattern.shift(code)
    ended = shift.bounds(problem.days[0] - timedelta(days=1), problem.tz)[1]
    return [
        (i, t.code)
        for i, day in enumerate(problem.days[: _reach_days(problem)])
        for t in problem.pattern.shifts
        if _gap_h(t.bounds(day, problem.tz)[0], ended) < problem.rules.min_rest_hours
    ]


# -- checks of the input, and of infeasible problems ---------------------------------------


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


def shortfalls(problem: Problem) -> tuple[str, ...]:
    """Cheap pre-checks: covers that too few officers of the kiosk may work, shift by shift and
    over the day (one shift a day each). Plain sentences; () when none is found."""
    blocked = {
        (person, problem.days[i], t)
        for person, code in problem.previous.items()
        for i, t in _blocked_by_previous(problem, code)
    }
    found: list[str] = []
    by_day: dict[tuple[int, date], list[Cover]] = defaultdict(list)
    for c in problem.covers:
        by_day[c.kiosk, c.day].append(c)
    for (kiosk, day), covers in sorted(by_day.items()):
        free = [p for p in problem.people if p.kiosk == kiosk and (p.id, day) not in problem.leave]
        for c in sorted(covers, key=lambda c: c.shift):
            may = [p for p in free if (p.id, day, c.shift) not in blocked]
            for need, who, word in (
                (c.heads, may, "officer"),
                (c.cars, [p for p in may if p.driver], "driver"),
                (c.cars, [p for p in may if p.accident], "accident handler"),
            ):
                if len(who) < need:
                    found.append(
                        f"kiosk {kiosk} needs {_plural(need, word)} on {day} {c.shift} "
                        f"but has {len(who)} who may work then"
                    )
        if len(covers) > 1:
            names = ", ".join(sorted(c.shift for c in covers))
            cars = sum(c.cars for c in covers)
            for need, who, word in (
                (sum(c.heads for c in covers), free, "officer"),
                (cars, [p for p in free if p.driver], "driver"),
                (cars, [p for p in free if p.accident], "accident handler"),
            ):
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
        cars = sum(c.cars for c in covers)
        for need, who, word in (
            (sum(c.heads for c in covers), staff, "officer"),
            (cars, [p for p in staff if p.driver], "driver"),
            (cars, [p for p in staff if p.accident], "accident handler"),
        ):
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
    roster = _Roster(problem, explain=True)
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


# -- posts, and judging any roster -----------------------------------------------------------


def assign_posts(problem: Problem, shifts: Shifts) -> tuple[Post, ...]:
    """The posts of a roster, deterministic: in each covered kiosk shift the cars are filled
    (a driver, then an accident handler where the driver is none, then crew), then the counter;
    everyone else on the shift goes to the patrol lines. Standby is no post."""
    people = {p.id: p for p in problem.people}
    working: dict[tuple[int, date, str], list[Person]] = defaultdict(list)
    for (person_id, day), code in sorted(shifts.items()):
        if code != STANDBY:
            person = people[person_id]
            working[person.kiosk, day, code].append(person)
    covers = {(c.kiosk, c.day, c.shift): c for c in problem.covers}
    posts: list[Post] = []
    for (kiosk, day, shift), staff in sorted(working.items()):
        cover = covers.get((kiosk, day, shift))
        if cover is not None:
            posts += _fill(cover, problem.cars.get(kiosk, ())[: cover.cars], staff)
        posts += [Post(p.id, day, shift, kiosk, "patrol") for p in staff]
    return tuple(posts)


def _fill(cover: Cover, units: tuple[int, ...], staff: list[Person]) -> list[Post]:
    """The car and counter posts of one cover, taken out of `staff` (sorted by id)."""

    def take(*wanted: Callable[[Person], bool]) -> Person | None:
        for test in wanted:
            for person in staff:
                if test(person):
                    staff.remove(person)
                    return person
        return None

    seats: dict[int, list[tuple[Person, str]]] = {unit: [] for unit in units}
    for unit in units:
        if cover.crew == 1:
            driver = take(lambda p: p.driver and p.accident)
        else:
            driver = take(lambda p: p.driver and not p.accident, lambda p: p.driver)
        if driver is not None:
            seats[unit].append((driver, "driver"))
    for unit in units:
        if not any(p.accident for p, _ in seats[unit]) and len(seats[unit]) < cover.crew:
            handler = take(lambda p: p.accident and not p.driver, lambda p: p.accident)
            if handler is not None:
                seats[unit].append((handler, "accident"))
    plain = (lambda p: not p.driver and not p.accident, lambda p: True)
    for unit in units:
        while len(seats[unit]) < cover.crew and (person := take(*plain)) is not None:
            seats[unit].append((person, "crew"))
    posts = [
        Post(p.id, cover.day, cover.shift, cover.kiosk, "car", unit=unit, role=role)
        for unit, seated in seats.items()
        for p, role in seated
    ]
    for _ in range(cover.counter):
        if (person := take(*plain)) is not None:
            posts.append(Post(person.id, cover.day, cover.shift, cover.kiosk, "counter"))
    return posts


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
        if _gap_h(start, end) < rules.min_rest_hours:
            found.append(
                f"person {person}: {_gap_h(start, end):g} h of rest between {s} on {day} "
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
    real = {s.code for s in problem.pattern.shifts}
    night = {s.code for s in problem.pattern.shifts if s.night}
    total = 0
    for weight, of, codes, days in (
        (W_NIGHT_SPREAD, "nights", night, set(problem.days)),
        (W_HOLIDAY_SPREAD, "holidays", real, problem.holidays),
    ):
        counts = [
            getattr(problem.ledger.get(p.id, Ledger()), of)
            + sum(shifts.get((p.id, day)) in codes for day in days)
            for p in problem.people
        ]
        total += weight * (max(counts) - min(counts)) if counts else 0
    for r in problem.requests:
        if (r.person, r.day) not in problem.leave:
            code = shifts.get((r.person, r.day))
            total += r.weight * (code is not None if r.shift is None else code != r.shift)
    for person in problem.people:
        for day in problem.days:
            planned = _planned(problem, person, day)
            if planned is not None and (person.id, day) not in problem.leave:
                code = shifts.get((person.id, day))
                total += W_DEVIATION * (code is not None if planned == REST else code != planned)
    working = sum(code in real for code in shifts.values())
    return total + W_EXTRA_HEAD * (working - sum(c.heads for c in problem.covers))
