"""A roster problem and its answer, as the roster solver takes and gives them.

A `Problem` is one period of one shift pattern: the officers (`Person`), what each kiosk needs in
each shift (`Cover`), the hard rules (`Rules`), the leave, the officers' wishes (`Request`) and
what earlier months gave them (`Ledger`). A `Solution` is the solver's answer: the shift of every
working officer and day, and the `Post` each holds on it. The objective's weights are here too,
for the model and for judging any roster by the same measure, and the timing the rest rule needs
(when a shift may follow another, and what the day before the period forbids).

Pure data: no database, no settings, no HTTP, no solver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jiaoxun.duty.patterns import REST, STANDBY, Pattern

# objective weights, in points: one night or holiday more between the most and the least loaded
# officer (ledger included) outweighs a request, which outweighs following the rotation, which
# outweighs one needless head. So a ledger far apart is evened out even by a night beyond the
# cover's need for the officers with the fewest nights, when no one can give his night up.
W_NIGHT_SPREAD = 40
W_HOLIDAY_SPREAD = 40
W_DEVIATION = 3  # per person-day off the team's planned entry (leave days excepted)
W_EXTRA_HEAD = 1  # per officer on a shift beyond the cover's need

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


def planned_entry(problem: Problem, person: Person, day: date) -> str | None:
    """The officer's cycle entry on `day` by his team's rotation (None: he has no team)."""
    if person.team is None:
        return None
    return problem.pattern.planned(person.team, day, problem.anchor)


# -- the rest rule in time -------------------------------------------------------------------


def gap_h(start: datetime, end: datetime) -> float:
    """Hours from `end` to `start`, elapsed (aware datetimes of one zone subtract by the wall
    clock, so through UTC)."""
    return (start.astimezone(UTC) - end.astimezone(UTC)).total_seconds() / 3600


def _reach_days(problem: Problem) -> int:
    """A shift starting `reach` days after another's day is never too close to it (a shift
    starts within its day and lasts at most the longest shift's hours)."""
    longest_h = max(s.hours for s in problem.pattern.shifts)
    return 2 + int(problem.rules.min_rest_hours + longest_h) // 24


def too_close(problem: Problem) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """Pairs ((day index, shift), (later day index, shift)) with less rest than the rules ask."""
    shifts, tz, days = problem.pattern.shifts, problem.tz, problem.days
    reach = _reach_days(problem)
    bounds = {(i, s.code): s.bounds(day, tz) for i, day in enumerate(days) for s in shifts}
    pairs = []
    for a in range(len(days)):
        for b in range(a + 1, min(a + reach, len(days))):
            for s in shifts:
                for t in shifts:
                    gap = gap_h(bounds[b, t.code][0], bounds[a, s.code][1])
                    if gap < problem.rules.min_rest_hours:
                        pairs.append(((a, s.code), (b, t.code)))
    return pairs


def blocked_by_previous(problem: Problem, code: str) -> list[tuple[int, str]]:
    """(day index, shift) an officer who worked `code` the day before the period may not work."""
    if code in (REST, STANDBY):
        return []
    shift = problem.pattern.shift(code)
    ended = shift.bounds(problem.days[0] - timedelta(days=1), problem.tz)[1]
    return [
        (i, t.code)
        for i, day in enumerate(problem.days[: _reach_days(problem)])
        for t in problem.pattern.shifts
        if gap_h(t.bounds(day, problem.tz)[0], ended) < problem.rules.min_rest_hours
    ]
