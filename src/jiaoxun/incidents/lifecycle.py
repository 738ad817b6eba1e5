"""The lifecycles of an incident (警情) and of a dispatch order (派警单), as state machines.

An incident moves like a case file across the desks of the command center: it is opened while
the call is being taken, dispatched, followed while the cars drive and work, and finally closed.
Each unit sent gets its own order, which moves on the unit's side: signed for, departed, arrived,
done. The tables here are the only source of which moves are legal; the service checks every move
against them and writes each step to the audit log. Once units are on their way the incident
follows its orders (`incident_state_after_orders`) instead of being moved by hand, back to taken
when every unit sent was recalled or refused. An incident whose units never arrived ends without
passing through on scene (`END_WITHOUT_ARRIVAL`): the record holds no arrival that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from jiaoxun.errors import IllegalTransition, InvalidInput


class IncidentState(StrEnum):
    """Where an incident stands in the 110 workflow."""

    TAKING = "taking"
    TAKEN = "taken"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    REPORTED = "reported"
    HANDLED = "handled"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    MERGED = "merged"  # a duplicate, merged into its main incident
    TRANSFERRED = "transferred"  # handed to another agency

    @property
    def label_zh(self) -> str:
        return _INCIDENT_LABELS_ZH[self]


class OrderState(StrEnum):
    """Where one unit's dispatch order stands."""

    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    DONE = "done"
    RETURNED = "returned"  # refused by the unit (退单)
    CANCELLED = "cancelled"  # withdrawn by the center

    @property
    def label_zh(self) -> str:
        return _ORDER_LABELS_ZH[self]


_I, _O = IncidentState, OrderState

_INCIDENT_LABELS_ZH = {
    _I.TAKING: "受理中",
    _I.TAKEN: "已受理",
    _I.DISPATCHED: "已派警",
    _I.EN_ROUTE: "已出警",
    _I.ON_SCENE: "已到达",
    _I.REPORTED: "已反馈",
    _I.HANDLED: "处置完毕",
    _I.CLOSED: "已终结",
    _I.CANCELLED: "已撤销",
    _I.MERGED: "已合并",
    _I.TRANSFERRED: "已移交",
}
_ORDER_LABELS_ZH = {
    _O.ISSUED: "已下达",
    _O.ACKNOWLEDGED: "已签收",
    _O.EN_ROUTE: "已出警",
    _O.ARRIVED: "已到达",
    _O.DONE: "处置完毕",
    _O.RETURNED: "退单",
    _O.CANCELLED: "取消",
}

#: legal moves of an incident: state -> the states it may go to next
INCIDENT_TRANSITIONS: Mapping[IncidentState, frozenset[IncidentState]] = MappingProxyType(
    {
        _I.TAKING: frozenset({_I.TAKEN, _I.CANCELLED, _I.MERGED}),
        # closed straight from taken: an invalid call (prank, silent, misdial) needs no unit
        _I.TAKEN: frozenset({_I.DISPATCHED, _I.CANCELLED, _I.MERGED, _I.TRANSFERRED, _I.CLOSED}),
        # back to taken: every order was cancelled or returned, the incident waits for units;
        # closed: ended before any unit arrived (the caller rang back, the matter resolved)
        _I.DISPATCHED: frozenset(
            {_I.TAKEN, _I.EN_ROUTE, _I.ON_SCENE, _I.CLOSED, _I.CANCELLED, _I.MERGED}
        ),
        # a duplicate is often recognised only once the first car is driving
        _I.EN_ROUTE: frozenset(
            {_I.TAKEN, _I.DISPATCHED, _I.ON_SCENE, _I.CLOSED, _I.CANCELLED, _I.MERGED}
        ),
        _I.ON_SCENE: frozenset({_I.REPORTED, _I.HANDLED}),
        _I.REPORTED: frozenset({_I.HANDLED}),
        _I.HANDLED: frozenset({_I.CLOSED}),
        _I.CLOSED: frozenset(),
        _I.CANCELLED: frozenset(),
        _I.MERGED: frozenset(),
        _I.TRANSFERRED: frozenset(),
    }
)

#: legal moves of a dispatch order: state -> the states it may go to next
ORDER_TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = MappingProxyType(
    {
        _O.ISSUED: frozenset({_O.ACKNOWLEDGED, _O.RETURNED, _O.CANCELLED}),
        _O.ACKNOWLEDGED: frozenset({_O.EN_ROUTE, _O.RETURNED, _O.CANCELLED}),
        _O.EN_ROUTE: frozenset({_O.ARRIVED, _O.CANCELLED}),
        _O.ARRIVED: frozenset({_O.DONE}),
        _O.DONE: frozenset(),
        _O.RETURNED: frozenset(),
        _O.CANCELLED: frozenset(),
    }
)

#: the timestamp column each incident state sets on entry (`call_at` is set at creation)
INCIDENT_TIMESTAMP: Mapping[IncidentState, str] = MappingProxyType(
    {
        _I.TAKEN: "taken_at",
        _I.DISPATCHED: "dispatched_at",
        _I.EN_ROUTE: "departed_at",
        _I.ON_SCENE: "arrived_at",
        _I.REPORTED: "reported_at",
        _I.HANDLED: "handled_at",
        _I.CLOSED: "closed_at",
        _I.CANCELLED: "cancelled_at",
        _I.MERGED: "merged_at",
        _I.TRANSFERRED: "transferred_at",
    }
)

#: the timestamp column each order state sets on entry (`issued_at` is set at creation)
ORDER_TIMESTAMP: Mapping[OrderState, str] = MappingProxyType(
    {
        _O.ACKNOWLEDGED: "acknowledged_at",
        _O.EN_ROUTE: "departed_at",
        _O.ARRIVED: "arrived_at",
        _O.DONE: "done_at",
        _O.RETURNED: "returned_at",
        _O.CANCELLED: "cancelled_at",
    }
)

#: the states from which an incident is ended by a direct move, because no unit has arrived yet
#: (from on scene on, closing passes through handled)
END_WITHOUT_ARRIVAL = frozenset({_I.TAKING, _I.TAKEN, _I.DISPATCHED, _I.EN_ROUTE})

#: orders that still hold their unit
ACTIVE_ORDER_STATES = frozenset({_O.ISSUED, _O.ACKNOWLEDGED, _O.EN_ROUTE, _O.ARRIVED})
FINAL_INCIDENT_STATES = frozenset(s for s, nxt in INCIDENT_TRANSITIONS.items() if not nxt)
FINAL_ORDER_STATES = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)

# the states in which an incident follows its orders, and how far along it can be moved by them
_FOLLOWING = (_I.DISPATCHED, _I.EN_ROUTE, _I.ON_SCENE)
_RANK = {state: rank for rank, state in enumerate((*_FOLLOWING, _I.REPORTED))}

State = TypeVar("State", IncidentState, OrderState)


def is_final(state: IncidentState | OrderState) -> bool:
    """Whether no move leads out of `state`."""
    if isinstance(state, IncidentState):
        return state in FINAL_INCIDENT_STATES
    return state in FINAL_ORDER_STATES


def _check(
    kind: str, table: Mapping[State, frozenset[State]], current: State, target: State
) -> None:
    allowed = table[current]
    if target in allowed:
        return
    if not allowed:
        options = f"from {current} it can go nowhere (final)"
    else:
        # in declaration order, which is the order of the workflow
        options = "allowed: " + ", ".join(s for s in type(current) if s in allowed)
    raise IllegalTransition(f"{kind} cannot go from {current} to {target}; {options}")


def check_incident(current: IncidentState, target: IncidentState) -> None:
    """Refuse an incident move the lifecycle does not allow.

    Raises
    ------
    IllegalTransition
        Naming both states and the states `current` may go to.
    """
    _check("incident", INCIDENT_TRANSITIONS, current, target)


def check_order(current: OrderState, target: OrderState) -> None:
    """Refuse a dispatch-order move the lifecycle does not allow.

    Raises
    ------
    IllegalTransition
        Naming both states and the states `current` may go to.
    """
    _check("order", ORDER_TRANSITIONS, current, target)


def path_between(current: IncidentState, target: IncidentState) -> tuple[IncidentState, ...]:
    """The shortest chain of legal moves from `current` to `target`.

    Returns
    -------
    tuple of IncidentState
        The states passed through, `target` last and `current` left out; empty when they are
        the same state.

    Raises
    ------
    IllegalTransition
        When no chain of legal moves leads from `current` to `target`.
    """
    # breadth-first, neighbours in declaration order so that the answer never depends on hashing
    came_from: dict[IncidentState, IncidentState | None] = {current: None}
    frontier = [current]
    while frontier and target not in came_from:
        step = []
        for state in frontier:
            for nxt in IncidentState:
                if nxt in INCIDENT_TRANSITIONS[state] and nxt not in came_from:
                    came_from[nxt] = state
                    step.append(nxt)
        frontier = step
    if target not in came_from:
        raise IllegalTransition(f"incident cannot get from {current} to {target} by any path")
    chain: list[IncidentState] = []
    at: IncidentState | None = target
    while at is not None and at != current:
        chain.append(at)
        at = came_from[at]
    return tuple(reversed(chain))


def incident_state_after_orders(
    current: IncidentState, orders: Sequence[OrderState]
) -> IncidentState:
    """The state an incident should be in, given the states of its dispatch orders.

    Once dispatched, an incident follows its units: on scene as soon as one has arrived (or is
    done), reported once every order still standing (neither returned nor cancelled) is done,
    with at least one done. Before any arrival it reads what the standing orders say: en route
    when one of them is en route, dispatched when they are all issued or acknowledged, and taken
    again when none stands (every unit recalled or refused: it waits for new units). From on
    scene on it never moves backwards (someone was there); it never leaves a final state; outside
    dispatched … on scene it stays where it is (the dispatcher moves it). A move may skip
    states; `path_between` gives the steps.

    Parameters
    ----------
    current : IncidentState
        The incident's state now.
    orders : sequence of OrderState
        The states of all its orders, in any order.
    """
    if current not in _FOLLOWING:
        return current
    standing = [s for s in orders if s not in (_O.RETURNED, _O.CANCELLED)]
    if standing and all(s == _O.DONE for s in standing):
        derived = _I.REPORTED
    elif any(s in (_O.ARRIVED, _O.DONE) for s in orders):
        derived = _I.ON_SCENE
    elif current is _I.ON_SCENE:
        return current
    elif _O.EN_ROUTE in standing:
        return _I.EN_ROUTE
    elif standing:
        return _I.DISPATCHED
    else:
        return _I.TAKEN
    return max(current, derived, key=_RANK.__getitem__)


def order_overdue(
    *,
    issued_at: datetime,
    acknowledged_at: datetime | None,
    now: datetime,
    limit_s: float = 30.0,
    state: OrderState | None = None,
) -> bool:
    """Whether an order missed its acknowledgement limit (the KPI: signed for within 30 s).

    An order acknowledged late stays overdue, for the record. An order returned or cancelled is
    never overdue: nobody is waiting for it to be signed for any more.

    Parameters
    ----------
    issued_at, acknowledged_at : datetime
        When the order was issued and signed for (None: not yet).
    state : OrderState, optional
        The order's state; returned and cancelled orders are never overdue.
    now : datetime
        The time of the check.
    limit_s : float
        Seconds allowed for acknowledgement; exactly on the limit is in time.

    Raises
    ------
    InvalidInput
        When `limit_s` is not positive.
    """
    if not limit_s > 0:
        raise InvalidInput(f"acknowledgement limit_s(={limit_s}) must be > 0")
    if state in (_O.RETURNED, _O.CANCELLED):
        return False
    until = acknowledged_at if acknowledged_at is not None else now
    return (until - issued_at).total_seconds() > limit_s
