"""The order of a kiosk's queue: booked citizens whose slot began, priority walk-ins, the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jiaoxun.services.queue import Waiting, next_ticket

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def order(waiting: list[Waiting], *, now: datetime = NOW) -> list[int]:
    """The ids in the order they would be called."""
    left, called = list(waiting), []
    while (chosen := next_ticket(left, now=now)) is not None:
        called.append(chosen.id)
        left.remove(chosen)
    return called


def test_no_one_waiting() -> None:
    assert next_ticket([], now=NOW) is None


def test_walk_ins_in_the_order_they_came() -> None:
    assert order([Waiting(1, at(-5)), Waiting(2, at(-20)), Waiting(3, at(-10))]) == [2, 3, 1]


def test_priority_before_normal_walk_ins() -> None:
    tickets = [Waiting(1, at(-30)), Waiting(2, at(-5), priority=True), Waiting(3, at(-1))]
    assert order(tickets) == [2, 1, 3]


def test_booked_whose_slot_began_go_first_by_slot_start() -> None:
    tickets = [
        Waiting(1, at(-40)),
        Waiting(2, at(-30), priority=True),
        Waiting(3, at(-2), slot_starts_at=at(0)),  # his slot begins now
        Waiting(4, at(-25), slot_starts_at=at(-20)),
    ]
    assert order(tickets) == [4, 3, 2, 1]


def test_booked_before_his_slot_waits_as_a_walk_in() -> None:
    early = Waiting(1, at(-10), slot_starts_at=at(20))
    tickets = [early, Waiting(2, at(-15)), Waiting(3, at(-5))]
    assert order(tickets) == [2, 1, 3]
    # once his slot has begun he goes ahead of both
    assert order(tickets, now=at(20)) == [1, 2, 3]


def test_ties_by_id() -> None:
    assert order([Waiting(7, at(-1)), Waiting(5, at(-1))]) == [5, 7]
