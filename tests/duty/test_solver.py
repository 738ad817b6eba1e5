"""The roster solver on problems small enough to check by hand (or by enumeration)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jiaoxun.duty import solver
from jiaoxun.duty.patterns import Pattern, builtin_patterns
from jiaoxun.duty.solver import (
    Cover,
    Ledger,
    Person,
    Problem,
    Request,
    Rules,
    Solution,
    check,
    explain,
    objective_of,
    solve,
)
from jiaoxun.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 12, 7)
FOUR_THREE = builtin_patterns()["4t3s"]


def week(n: int = 7) -> tuple[date, ...]:
    return tuple(MONDAY + timedelta(days=i) for i in range(n))


def kiosk_of_ten(**changes: Any) -> Problem:
    """1 kiosk, 10 officers (1-6 drive, 7-10 handle accidents), 2 cars, a week of 4t3s."""
    people = tuple(
        Person(id=i, kiosk=1, driver=i <= 6, accident=i >= 7, team=(i - 1) % 4)
        for i in range(1, 11)
    )
    covers = tuple(
        Cover(1, day, shift, cars=1, counter=int(shift == "A"))
        for day in week()
        for shift in ("A", "P", "N")
    )
    problem = Problem(
        days=week(),
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={1: (101, 102)},
        covers=covers,
        rules=Rules(max_consecutive_days=4),
        leave=frozenset({(1, week()[2]), (7, week()[3]), (7, week()[4])}),
        previous={1: "P"},
    )
    return dataclasses.replace(problem, **changes)


def hours_between(problem: Problem, first: tuple[date, str], then: tuple[date, str]) -> float:
    """Rest from the end of one shift to the start of another, from the pattern's times."""
    shifts = {s.code: s for s in problem.pattern.shifts}

    def start(day: date, code: str) -> datetime:
        return datetime.combine(day, shifts[code].start, tzinfo=problem.tz).astimezone(UTC)

    end = start(*first) + timedelta(hours=shifts[first[1]].hours)
    return (start(*then) - end).total_seconds() / 3600


Progressed = list[tuple[float, float | None, float | None]]


@pytest.fixture(scope="module")
def small() -> tuple[Problem, Solution, Progressed]:
    """The kiosk of ten solved once (its optimum is found at once, proving it takes long)."""
    seen: Progressed = []
    problem = kiosk_of_ten()
    return problem, solve(problem, time_limit_s=2, progress=lambda *a: seen.append(a)), seen


def test_a_small_kiosk_is_rostered_within_every_rule(
    small: tuple[Problem, Solution, Progressed],
) -> None:
    problem, solution, _ = small
    assert solution.status in ("optimal", "feasible")
    shifts = solution.shifts
    people = {p.id: p for p in problem.people}
    for c in problem.covers:
        on = [people[p] for (p, day), code in shifts.items() if (day, code) == (c.day, c.shift)]
        assert len(on) >= c.cars * c.crew + c.counter + c.patrol
        assert sum(p.driver for p in on) >= c.cars
        assert sum(p.accident for p in on) >= c.cars
    for person in problem.people:
        worked = sorted((day, code) for (p, day), code in shifts.items() if p == person.id)
        if person.id in problem.previous:
            worked.insert(0, (MONDAY - timedelta(days=1), problem.previous[person.id]))
        for first, then in itertools.combinations(worked, 2):
            assert hours_between(problem, first, then) >= 11, (person.id, first, then)
        run = 1 if person.id in problem.previous else 0
        for day in problem.days:
            run = run + 1 if (person.id, day) in shifts else 0
            assert run <= 4, (person.id, day)
        assert not any((person.id, day) in shifts for p, day in problem.leave if p == person.id)
    # the officer who worked the afternoon before Monday cannot take his team's Monday morning
    assert FOUR_THREE.planned(0, MONDAY, MONDAY) == "A"
    assert shifts.get((1, MONDAY)) not in ("A", "N")
    assert check(problem, shifts) == ()
    assert objective_of(problem, shifts) == solution.objective
    assert solution.bound is not None
    assert solution.bound <= solution.objective


def test_the_posts_crew_every_car_with_a_driver_and_a_handler(
    small: tuple[Problem, Solution, Progressed],
) -> None:
    problem, solution, _ = small
    people = {p.id: p for p in problem.people}
    posts = defaultdict(list)
    for post in solution.posts:
        posts[post.day, post.shift, post.post, post.unit].append(people[post.person])
    for c in problem.covers:
        car = posts[c.day, c.shift, "car", 101]
        assert len(car) == c.crew
        assert any(p.driver for p in car)
        assert any(p.accident for p in car)
        assert posts[c.day, c.shift, "car", 102] == []  # the cover asks for one car
        assert len(posts[c.day, c.shift, "counter", None]) == c.counter
    # one post for every shift worked, none for anyone else
    assert sorted((p.person, p.day, p.shift) for p in solution.posts) == sorted(
        (p, day, code) for (p, day), code in solution.shifts.items()
    )
    roles = {p.role for p in solution.posts if p.post == "car"}
    assert roles <= {"driver", "accident", "crew"}


def test_the_optimum_of_a_tiny_problem_equals_the_enumerations_minimum() -> None:
    night = {"code": "N", "name_zh": "夜", "name_en": "Night", "start": "00:00", "hours": 8}
    pattern = Pattern.from_dict(
        {
            "code": "n3",
            "name_zh": "夜三",
            "name_en": "Nights of three",
            "teams": 3,
            "cycle": ["N", "N", "-"],
            "shifts": [night],
        }
    )
    days = week(3)
    people = (
        Person(1, kiosk=1, driver=True, accident=True, team=0),
        Person(2, kiosk=1, driver=True, accident=False, team=1),
        Person(3, kiosk=1, driver=False, accident=True),
    )
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=pattern,
        anchor=MONDAY,
        people=people,
        cars={1: (101,)},
        covers=tuple(Cover(1, day, "N", cars=1) for day in days),
        rules=Rules(max_consecutive_days=2),
        requests=(Request(1, days[1], None), Request(2, days[0], "N", weight=7)),
        ledger={3: Ledger(nights=1)},
        holidays=frozenset({days[1]}),
    )
    best = None
    for works in itertools.product((0, 1), repeat=9):
        worked = {
            (p.id, day): works[3 * i + j]
            for i, p in enumerate(people)
            for j, day in enumerate(days)
        }
        if any(sum(worked[p.id, d] for d in days) > 2 for p in people):
            continue  # two nights in a row at most: three of three days break it
        on = [[p for p in people if worked[p.id, d]] for d in days]
        if any(
            len(o) < 2 or not any(p.driver for p in o) or not any(p.accident for p in o) for o in on
        ):
            continue
        nights = [{3: 1}.get(p.id, 0) + sum(worked[p.id, d] for d in days) for p in people]
        holidays = [worked[p.id, days[1]] for p in people]
        cost = solver.W_NIGHT_SPREAD * (max(nights) - min(nights))
        cost += solver.W_HOLIDAY_SPREAD * (max(holidays) - min(holidays))
        cost += 10 * worked[1, days[1]] + 7 * (1 - worked[2, days[0]])
        for p in people[:2]:
            assert p.team is not None
            for d in days:
                planned = pattern.planned(p.team, d, MONDAY) == "N"
                cost += solver.W_DEVIATION * (planned != bool(worked[p.id, d]))
        cost += solver.W_EXTRA_HEAD * (sum(worked.values()) - 6)
        best = cost if best is None else min(best, cost)
    solution = solve(problem, time_limit_s=10)
    assert solution.status == "optimal"
    assert solution.objective == best
    assert objective_of(problem, solution.shifts) == best


def test_the_ledger_gives_fewer_nights_to_whoever_had_many() -> None:
    people = tuple(Person(i, kiosk=1, driver=True, accident=True) for i in range(1, 5))
    days = week(4)
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={1: (101,)},
        covers=tuple(Cover(1, day, "N", cars=1) for day in days),
    )
    even = solve(problem, time_limit_s=10)
    assert sorted(even.nights.values()) == [2, 2, 2, 2]
    ledgered = solve(dataclasses.replace(problem, ledger={1: Ledger(nights=3)}), time_limit_s=10)
    assert ledgered.status == "optimal"
    assert ledgered.nights[1] == 0
    assert min(ledgered.nights[i] for i in (2, 3, 4)) >= 2


def four_and_a_floater(**changes: Any) -> Problem:
    """Teams 0-3 and an officer of no team, one officer a shift, 4 days of 4t3s."""
    people = (
        *(Person(i + 1, kiosk=1, driver=True, accident=True, team=i) for i in range(4)),
        Person(5, kiosk=1, driver=True, accident=True),
    )
    covers = tuple(
        Cover(1, day, shift, cars=0, patrol=1) for day in week(4) for shift in ("A", "P", "N")
    )
    # no night shift, so that sharing nights does not pull anyone off his rotation
    days_only = dataclasses.replace(
        FOUR_THREE, shifts=tuple(dataclasses.replace(s, night=False) for s in FOUR_THREE.shifts)
    )
    problem = Problem(
        days=week(4),
        tz=SHANGHAI,
        pattern=days_only,
        anchor=MONDAY,
        people=people,
        cars={1: ()},
        covers=covers,
    )
    return dataclasses.replace(problem, **changes)


def test_requests_are_honoured_when_the_cover_allows() -> None:
    tuesday = MONDAY + timedelta(days=1)
    plain = solve(four_and_a_floater(), time_limit_s=10)
    assert plain.shifts[1, MONDAY] == "A"  # team 0's rotation
    assert (2, tuesday) not in plain.shifts  # team 1 rests on Tuesday
    asked = solve(
        four_and_a_floater(requests=(Request(1, MONDAY, None), Request(2, tuesday, "A"))),
        time_limit_s=10,
    )
    assert asked.status == "optimal"
    assert (1, MONDAY) not in asked.shifts
    assert asked.shifts[2, tuesday] == "A"
    assert check(four_and_a_floater(), asked.shifts) == ()


def test_too_few_drivers_for_the_cars_is_named() -> None:
    people = tuple(Person(i, kiosk=3, driver=i == 1, accident=True) for i in range(1, 6))
    problem = Problem(
        days=week(1),
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={3: (301, 302)},
        covers=(Cover(3, MONDAY, "N", cars=2),),
    )
    solution = solve(problem)
    assert solution.status == "infeasible"
    assert solution.shifts == {}
    assert solution.objective is None
    assert "kiosk 3 needs 2 drivers on 2026-12-07 N but has 1 who may work then" in solution.why


def test_a_kiosk_short_over_the_month_is_named() -> None:
    # 2 officers, 1 a shift every day for 8 days: 16 shifts, but at most 6 of 7 days each
    people = tuple(Person(i, kiosk=1, driver=True, accident=True) for i in (1, 2))
    problem = Problem(
        days=week(8),
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={1: ()},
        covers=tuple(Cover(1, d, s, cars=0, patrol=1) for d in week(8) for s in ("A", "P")),
    )
    (why,) = solve(problem).why
    assert why.startswith("kiosk 1 needs 16 officer shifts from 2026-12-07 to 2026-12-14")
    assert "may work at most 14" in why


def test_a_hidden_conflict_of_rest_and_consecutive_days_names_the_rules() -> None:
    # Officers 1 and 2 drive and handle accidents, 3 does neither and is on leave on Monday.
    # Monday night needs 1 and 2, Tuesday all three, one of 1 and 2 in the car at night, 3 in
    # the morning or the afternoon; Wednesday night needs one more: 1 and 2 would work a third
    # day in a row, 3 would have 8 h or none of rest. Either rule alone could be met.
    people = (
        Person(1, kiosk=1, driver=True, accident=True),
        Person(2, kiosk=1, driver=True, accident=True),
        Person(3, kiosk=1, driver=False, accident=False),
    )
    monday, tuesday, wednesday = days = week(3)
    covers = (
        Cover(1, monday, "N", cars=0, patrol=2),
        Cover(1, tuesday, "N", cars=1, crew=1),
        Cover(1, tuesday, "A", cars=0, patrol=1),
        Cover(1, tuesday, "P", cars=0, patrol=1),
        Cover(1, wednesday, "N", cars=0, patrol=1),
    )
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={1: (101,)},
        covers=covers,
        rules=Rules(max_consecutive_days=2),
        leave=frozenset({(3, monday)}),
    )
    assert solver.shortfalls(problem) == ()
    solution = solve(problem)
    assert solution.status == "infeasible"
    assert solution.why[0].startswith("no roster meets these")
    assert (
        "the rest rule: at least 11 h between the end of one shift and the start of the next"
        in (solution.why)
    )
    assert "at most 2 working days in a row" in solution.why
    assert any(s.startswith("the cover of kiosk 1 in shift N") for s in solution.why)
    assert solution.why == explain(problem)
    for rules in (Rules(max_consecutive_days=2, min_rest_hours=0), Rules(max_consecutive_days=3)):
        assert solve(dataclasses.replace(problem, rules=rules)).status == "optimal"


def test_a_tiny_time_limit_on_a_large_problem_answers_with_a_status() -> None:
    people = tuple(
        Person(i, kiosk=i % 4 + 1, driver=i % 5 < 3, accident=i % 5 >= 2, team=i // 4 % 4)
        for i in range(1, 161)
    )
    days = week(21)
    covers = tuple(
        Cover(k, d, s, cars=2, patrol=int(s == "N"))
        for k in range(1, 5)
        for d in days
        for s in "APN"
    )
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=FOUR_THREE,
        anchor=MONDAY,
        people=people,
        cars={k: (10 * k + 1, 10 * k + 2) for k in range(1, 5)},
        covers=covers,
    )
    solution = solve(problem, time_limit_s=0.01, workers=1)
    assert solution.status in ("unknown", "feasible")
    if solution.status == "unknown":
        assert (solution.shifts, solution.objective, solution.posts) == ({}, None, ())
    assert solution.variables > len(people) * len(days) * 3 - 1


def test_progress_reports_each_better_roster(small: tuple[Problem, Solution, Progressed]) -> None:
    _, solution, seen = small
    assert seen
    walls, objectives = [s[0] for s in seen], [s[1] for s in seen]
    assert walls == sorted(walls)
    assert all(o is not None for o in objectives)
    assert objectives[-1] == solution.objective
    assert all(a >= b for a, b in itertools.pairwise(o for o in objectives if o is not None))


def test_twelve_hour_shifts_keep_the_weekly_hours_and_no_day_after_a_night() -> None:
    twelve = builtin_patterns()["4t2s"]
    people = tuple(Person(i, kiosk=1, driver=True, accident=True, team=i % 4) for i in range(8))
    days = week()
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=twelve,
        anchor=MONDAY,
        people=people,
        cars={1: (101,)},
        covers=tuple(Cover(1, d, s, cars=1) for d in days for s in ("D", "N")),
        requests=(Request(0, MONDAY, "D", weight=50),),
        previous={0: "N"},
    )
    solution = solve(problem, time_limit_s=5)
    assert solution.status in ("optimal", "feasible")
    for person in people:
        worked = sorted((d, c) for (p, d), c in solution.shifts.items() if p == person.id)
        assert 12 * len(worked) <= 48
        for first, then in itertools.pairwise(worked):
            assert hours_between(problem, first, then) >= 11
    # officer 0 worked Sunday's night to 08:00 on Monday: his team's Monday day shift, and his
    # request for it, give way to the rest rule at any weight
    assert twelve.planned(0, MONDAY, MONDAY) == "D"
    assert solution.shifts.get((0, MONDAY)) != "D"
    assert check(problem, solution.shifts) == ()


def test_standby_is_a_working_day_without_a_post() -> None:
    cq3 = builtin_patterns()["cq3"]
    people = tuple(Person(i + 1, kiosk=1, driver=True, accident=True, team=i) for i in range(5))
    days = week(5)
    problem = Problem(
        days=days,
        tz=SHANGHAI,
        pattern=cq3,
        anchor=MONDAY,
        people=people,
        cars={1: ()},
        covers=tuple(Cover(1, d, s, cars=0, patrol=1) for d in days for s in "APN"),
        ledger={p.id: Ledger(nights=0) for p in people},
    )
    solution = solve(problem, time_limit_s=10)
    assert solution.status == "optimal"
    standby = {key for key, code in solution.shifts.items() if code == "S"}
    assert standby
    for person, day in standby:
        assert cq3.planned(person - 1, day, MONDAY) == "S"
    assert not {(p.person, p.day) for p in solution.posts} & standby
    assert check(problem, solution.shifts) == ()


def test_check_names_a_roster_that_breaks_the_rules() -> None:
    problem = kiosk_of_ten(previous={})
    tuesday = MONDAY + timedelta(days=1)
    found = check(problem, {(5, MONDAY): "P", (5, tuesday): "A", (7, MONDAY + timedelta(3)): "A"})
    assert (
        "person 5: 8 h of rest between P on 2026-12-07 and A on 2026-12-08, at least 11 h" in found
    )
    assert "person 7 works on 2026-12-10, a day of leave" in found
    assert "kiosk 1 on 2026-12-07 A: 0 of 3 officer" in found


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"days": (MONDAY, MONDAY + timedelta(days=2))}, "days must be consecutive"),
        ({"covers": (Cover(1, MONDAY, "A", cars=3),)}, "cars(=3) exceeds the kiosk's 2 units"),
        ({"covers": (Cover(1, MONDAY, "X", cars=1),)}, "the shift in"),
        ({"requests": (Request(99, MONDAY, "A"),)}, "request of person 99"),
        ({"previous": {1: "Q"}}, "previous shift 'Q' of person 1"),
    ],
)
def test_a_malformed_problem_is_refused(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        solve(kiosk_of_ten(**changes))
    assert words in str(refused.value)


def test_the_gap_is_relative_to_the_objective() -> None:
    solution = Solution("feasible", objective=200.0, bound=150.0, wall_s=1.0, shifts={}, posts=())
    assert solution.gap == 0.25
