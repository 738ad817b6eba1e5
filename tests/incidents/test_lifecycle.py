"""The incident and dispatch-order state machines; the state an incident takes from its orders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from jiaoxun.errors import IllegalTransition, InvalidInput
from jiaoxun.incidents.lifecycle import (
    ACTIVE_ORDER_STATES,
    END_WITHOUT_ARRIVAL,
    INCIDENT_TIMESTAMP,
    INCIDENT_TRANSITIONS,
    ORDER_TIMESTAMP,
    ORDER_TRANSITIONS,
    IncidentState,
    OrderState,
    check_incident,
    check_order,
    incident_state_after_orders,
    is_final,
    order_overdue,
    path_between,
)

Inc, Ord = IncidentState, OrderState

# the legal moves, written out by hand so that a change to the tables must change the test too
INCIDENT_MOVES = {
    ("taking", "taken"),
    ("taking", "cancelled"),
    ("taking", "merged"),
    ("taken", "dispatched"),
    ("taken", "cancelled"),
    ("taken", "merged"),
    ("taken", "transferred"),
    ("taken", "closed"),
    ("dispatched", "taken"),
    ("dispatched", "en_route"),
    ("dispatched", "on_scene"),
    ("dispatched", "closed"),
    ("dispatched", "cancelled"),
    ("dispatched", "merged"),
    ("en_route", "taken"),
    ("en_route", "dispatched"),
    ("en_route", "on_scene"),
    ("en_route", "closed"),
    ("en_route", "cancelled"),
    ("en_route", "merged"),
    ("on_scene", "reported"),
    ("on_scene", "handled"),
    ("reported", "handled"),
    ("handled", "closed"),
}
ORDER_MOVES = {
    ("issued", "acknowledged"),
    ("issued", "returned"),
    ("issued", "cancelled"),
    ("acknowledged", "en_route"),
    ("acknowledged", "returned"),
    ("acknowledged", "cancelled"),
    ("en_route", "arrived"),
    ("en_route", "cancelled"),
    ("arrived", "done"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Inc, Inc)))
def test_every_incident_pair(current: IncidentState, target: IncidentState) -> None:
    if (current, target) in INCIDENT_MOVES:
        check_incident(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"^incident cannot go from {current} to "):
            check_incident(current, target)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Ord, Ord)))
def test_every_order_pair(current: OrderState, target: OrderState) -> None:
    if (current, target) in ORDER_MOVES:
        check_order(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"^order cannot go from {current} to "):
            check_order(current, target)


def test_tables_cover_every_state_and_are_frozen() -> None:
    assert set(INCIDENT_TRANSITIONS) == set(Inc)
    assert set(ORDER_TRANSITIONS) == set(Ord)
    with pytest.raises(TypeError):
        INCIDENT_TRANSITIONS[Inc.CLOSED] = frozenset({Inc.TAKEN})  # type: ignore[index]


@pytest.mark.parametrize(
    ("check", "current", "target", "message"),
    [
        (
            check_incident,
            Inc.CLOSED,
            Inc.DISPATCHED,
            "incident cannot go from closed to dispatched; from closed it can go nowhere (final)",
        ),
        (
            check_incident,
            Inc.DISPATCHED,
            Inc.HANDLED,
            "incident cannot go from dispatched to handled; "
            "allowed: taken, en_route, on_scene, closed, cancelled, merged",
        ),
        (
            check_incident,
            Inc.TAKEN,
            Inc.TAKEN,
            "incident cannot go from taken to taken; "
            "allowed: dispatched, closed, cancelled, merged, transferred",
        ),
        (
            check_order,
            Ord.ISSUED,
            Ord.ARRIVED,
            "order cannot go from issued to arrived; allowed: acknowledged, returned, cancelled",
        ),
        (
            check_order,
            Ord.RETURNED,
            Ord.ISSUED,
            "order cannot go from returned to issued; from returned it can go nowhere (final)",
        ),
    ],
)
def test_exact_messages(
    check: Callable[..., None], current: str, target: str, message: str
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check(current, target)
    assert str(caught.value) == message


def test_labels() -> None:
    assert [s.label_zh for s in Inc] == [
        "受理中",
        "已受理",
        "已派警",
        "已出警",
        "已到达",
        "已反馈",
        "处置完毕",
        "已终结",
        "已撤销",
        "已合并",
        "已移交",
    ]
    assert [s.label_zh for s in Ord] == [
        "已下达",
        "已签收",
        "已出警",
        "已到达",
        "处置完毕",
        "退单",
        "取消",
    ]


def test_timestamps() -> None:
    # every state but the initial one stamps its own column; the creation stamps the first
    assert set(INCIDENT_TIMESTAMP) == set(Inc) - {Inc.TAKING}
    assert set(ORDER_TIMESTAMP) == set(Ord) - {Ord.ISSUED}
    assert len(set(INCIDENT_TIMESTAMP.values())) == len(INCIDENT_TIMESTAMP)
    assert INCIDENT_TIMESTAMP[Inc.EN_ROUTE] == "departed_at"
    assert INCIDENT_TIMESTAMP[Inc.ON_SCENE] == "arrived_at"
    assert INCIDENT_TIMESTAMP[Inc.TRANSFERRED] == "transferred_at"
    assert ORDER_TIMESTAMP[Ord.EN_ROUTE] == "departed_at"
    assert ORDER_TIMESTAMP[Ord.RETURNED] == "returned_at"


def test_active_and_final() -> None:
    assert {Ord.ISSUED, Ord.ACKNOWLEDGED, Ord.EN_ROUTE, Ord.ARRIVED} == ACTIVE_ORDER_STATES
    assert [s for s in Inc if is_final(s)] == [
        Inc.CLOSED,
        Inc.CANCELLED,
        Inc.MERGED,
        Inc.TRANSFERRED,
    ]
    assert [s for s in Ord if is_final(s)] == [Ord.DONE, Ord.RETURNED, Ord.CANCELLED]
    assert not ACTIVE_ORDER_STATES & {s for s in Ord if is_final(s)}


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        (Inc.DISPATCHED, Inc.ON_SCENE, (Inc.ON_SCENE,)),
        (Inc.DISPATCHED, Inc.REPORTED, (Inc.ON_SCENE, Inc.REPORTED)),
        (Inc.EN_ROUTE, Inc.REPORTED, (Inc.ON_SCENE, Inc.REPORTED)),
        (Inc.TAKING, Inc.CLOSED, (Inc.TAKEN, Inc.CLOSED)),
        # ended before any arrival: no on scene, no handled on the way
        (Inc.DISPATCHED, Inc.CLOSED, (Inc.CLOSED,)),
        (Inc.EN_ROUTE, Inc.CLOSED, (Inc.CLOSED,)),
        (Inc.TAKING, Inc.HANDLED, (Inc.TAKEN, Inc.DISPATCHED, Inc.ON_SCENE, Inc.HANDLED)),
        (Inc.ON_SCENE, Inc.ON_SCENE, ()),
    ],
)
def test_path_between(
    current: IncidentState, target: IncidentState, path: tuple[IncidentState, ...]
) -> None:
    assert path_between(current, target) == path


def test_path_between_refuses_backwards() -> None:
    with pytest.raises(
        IllegalTransition, match=r"^incident cannot get from on_scene to dispatched"
    ):
        path_between(Inc.ON_SCENE, Inc.DISPATCHED)


@pytest.mark.parametrize(
    ("current", "orders", "expected"),
    [
        (Inc.DISPATCHED, [], Inc.TAKEN),
        (Inc.DISPATCHED, [Ord.ISSUED, Ord.ACKNOWLEDGED], Inc.DISPATCHED),
        (Inc.DISPATCHED, [Ord.ACKNOWLEDGED, Ord.EN_ROUTE], Inc.EN_ROUTE),
        (Inc.DISPATCHED, [Ord.ISSUED, Ord.ARRIVED], Inc.ON_SCENE),  # skips en_route
        (Inc.EN_ROUTE, [Ord.EN_ROUTE, Ord.ARRIVED], Inc.ON_SCENE),
        (Inc.EN_ROUTE, [Ord.DONE, Ord.EN_ROUTE], Inc.ON_SCENE),  # one done, one still driving
        (Inc.ON_SCENE, [Ord.DONE, Ord.ARRIVED], Inc.ON_SCENE),
        (Inc.ON_SCENE, [Ord.DONE, Ord.DONE], Inc.REPORTED),
        (Inc.ON_SCENE, [Ord.DONE, Ord.RETURNED, Ord.CANCELLED], Inc.REPORTED),
        (Inc.DISPATCHED, [Ord.DONE], Inc.REPORTED),
        (Inc.ON_SCENE, [Ord.RETURNED, Ord.CANCELLED], Inc.ON_SCENE),  # nobody done: not reported
        # before any arrival it reads the standing orders: the car driving was recalled
        (Inc.EN_ROUTE, [Ord.CANCELLED, Ord.ISSUED], Inc.DISPATCHED),
        (Inc.EN_ROUTE, [Ord.CANCELLED], Inc.TAKEN),
        # from on scene never backwards: someone was there
        (Inc.ON_SCENE, [Ord.EN_ROUTE], Inc.ON_SCENE),
        # outside dispatched … on scene the dispatcher moves it, not the orders
        (Inc.TAKEN, [Ord.ARRIVED], Inc.TAKEN),
        (Inc.REPORTED, [Ord.ARRIVED], Inc.REPORTED),
        (Inc.CANCELLED, [Ord.DONE], Inc.CANCELLED),
        (Inc.CLOSED, [Ord.EN_ROUTE], Inc.CLOSED),
    ],
)
def test_incident_follows_orders(
    current: IncidentState, orders: list[OrderState], expected: IncidentState
) -> None:
    assert incident_state_after_orders(current, orders) == expected


@pytest.mark.parametrize("current", list(Inc))
def test_followed_state_is_always_reachable(current: IncidentState) -> None:
    for n in range(3):
        for orders in itertools.combinations_with_replacement(Ord, n):
            after = incident_state_after_orders(current, orders)
            steps = path_between(current, after)  # raises when it would move backwards
            for before, step in itertools.pairwise((current, *steps)):
                check_incident(before, step)
            assert not (is_final(current) and after != current)


# every combination of the states of a 2-order incident, from dispatched: what it reads
# (A acknowledged, I issued, E en route, R arrived, D done, X returned, C cancelled)
_SHORT = {"I": Ord.ISSUED, "A": Ord.ACKNOWLEDGED, "E": Ord.EN_ROUTE, "R": Ord.ARRIVED}
_SHORT |= {"D": Ord.DONE, "X": Ord.RETURNED, "C": Ord.CANCELLED}
TWO_ORDERS = {
    "II": Inc.DISPATCHED, "IA": Inc.DISPATCHED, "IE": Inc.EN_ROUTE, "IR": Inc.ON_SCENE,
    "ID": Inc.ON_SCENE, "IX": Inc.DISPATCHED, "IC": Inc.DISPATCHED,
    "AA": Inc.DISPATCHED, "AE": Inc.EN_ROUTE, "AR": Inc.ON_SCENE, "AD": Inc.ON_SCENE,
    "AX": Inc.DISPATCHED, "AC": Inc.DISPATCHED,
    "EE": Inc.EN_ROUTE, "ER": Inc.ON_SCENE, "ED": Inc.ON_SCENE, "EX": Inc.EN_ROUTE,
    "EC": Inc.EN_ROUTE,
    "RR": Inc.ON_SCENE, "RD": Inc.ON_SCENE, "RX": Inc.ON_SCENE, "RC": Inc.ON_SCENE,
    "DD": Inc.REPORTED, "DX": Inc.REPORTED, "DC": Inc.REPORTED,
    "XX": Inc.TAKEN, "XC": Inc.TAKEN, "CC": Inc.TAKEN,
}  # fmt: skip


@pytest.mark.parametrize("pair", sorted(TWO_ORDERS))
@pytest.mark.parametrize("current", [Inc.DISPATCHED, Inc.EN_ROUTE])
def test_two_orders_every_combination(current: IncidentState, pair: str) -> None:
    orders = [_SHORT[c] for c in pair]
    expected = TWO_ORDERS[pair]
    assert incident_state_after_orders(current, orders) == expected
    assert incident_state_after_orders(current, orders[::-1]) == expected
    # once on scene, the orders never take it back
    on_scene = incident_state_after_orders(Inc.ON_SCENE, orders)
    assert on_scene == (Inc.REPORTED if expected is Inc.REPORTED else Inc.ON_SCENE)


def test_two_orders_table_is_complete() -> None:
    pairs = {"".join(p) for p in itertools.combinations_with_replacement("IAERDXC", 2)}
    assert set(TWO_ORDERS) == pairs


@pytest.mark.parametrize("current", list(Inc))
def test_ending_without_arrival_never_passes_on_scene(current: IncidentState) -> None:
    for end in (Inc.CLOSED, Inc.CANCELLED, Inc.MERGED):
        try:
            steps = path_between(current, end)
        except IllegalTransition:
            assert is_final(current) or current not in END_WITHOUT_ARRIVAL
            continue
        if current in END_WITHOUT_ARRIVAL:
            assert Inc.ON_SCENE not in steps, (current, end)
            assert Inc.HANDLED not in steps, (current, end)
            assert steps[-1] == end
            assert len(steps) <= 2


T0 = datetime(2024, 3, 1, 22, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("acknowledged_after_s", "now_after_s", "overdue"),
    [
        (None, 29.0, False),
        (None, 30.0, False),  # on the limit is in time
        (None, 30.5, True),
        (12.0, 600.0, False),
        (30.0, 600.0, False),
        (45.0, 46.0, True),  # signed for late: stays overdue
    ],
)
def test_order_overdue(
    acknowledged_after_s: float | None, now_after_s: float, overdue: bool
) -> None:
    acknowledged_at = None
    if acknowledged_after_s is not None:
        acknowledged_at = T0 + timedelta(seconds=acknowledged_after_s)
    now = T0 + timedelta(seconds=now_after_s)
    assert order_overdue(issued_at=T0, acknowledged_at=acknowledged_at, now=now) is overdue


@pytest.mark.parametrize("state", [Ord.RETURNED, Ord.CANCELLED])
def test_an_order_cancelled_or_returned_is_never_overdue(state: OrderState) -> None:
    later = T0 + timedelta(hours=5)
    assert not order_overdue(issued_at=T0, acknowledged_at=None, now=later, state=state)
    assert order_overdue(issued_at=T0, acknowledged_at=None, now=later, state=Ord.ISSUED)


def test_order_overdue_custom_limit() -> None:
    now = T0 + timedelta(seconds=50)
    assert not order_overdue(issued_at=T0, acknowledged_at=None, now=now, limit_s=60)
    assert order_overdue(issued_at=T0, acknowledged_at=None, now=now, limit_s=45)
    with pytest.raises(InvalidInput, match=r"^acknowledgement limit_s\(=0\) must be > 0$"):
        order_overdue(issued_at=T0, acknowledged_at=None, now=now, limit_s=0)
