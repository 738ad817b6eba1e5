"""The posts of a roster: which officer drives which car, handles its accidents, holds the
counter or walks the patrol lines in each shift he works."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from jiaoxun.duty.patterns import STANDBY
from jiaoxun.duty.roster_problem import Cover, Person, Post, Problem, Shifts


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
