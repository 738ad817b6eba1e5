"""State changes of incidents, dispatch orders and units: each checked against its lifecycle,
stamped with its time, written to the audit log and announced on the event stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from jiaoxun.audit.service import record
from jiaoxun.errors import Conflict, NotFound
from jiaoxun.events import emit
from jiaoxun.incidents.lifecycle import (
    ACTIVE_ORDER_STATES,
    FINAL_INCIDENT_STATES,
    INCIDENT_TIMESTAMP,
    ORDER_TIMESTAMP,
    IncidentState,
    OrderState,
    check_incident,
    check_order,
    incident_state_after_orders,
    path_between,
)
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus
from jiaoxun.users.models import User

#: what a unit is doing while its order is in each state
UNIT_STATUS_OF_ORDER = {
    OrderState.ISSUED: UnitStatus.DISPATCHED,
    OrderState.ACKNOWLEDGED: UnitStatus.DISPATCHED,
    OrderState.EN_ROUTE: UnitStatus.EN_ROUTE,
    OrderState.ARRIVED: UnitStatus.ON_SCENE,
    OrderState.DONE: UnitStatus.AVAILABLE,
    OrderState.RETURNED: UnitStatus.AVAILABLE,
    OrderState.CANCELLED: UnitStatus.AVAILABLE,
}


def get_incident(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    query = (
        select(Incident)
        .where(Incident.id == incident_id)
        .options(selectinload(Incident.orders).selectinload(DispatchOrder.unit))
    )
    incident = session.scalar(query.with_for_update() if for_update else query)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def move_incident(
    session: Session,
    incident: Incident,
    target: IncidentState,
    *,
    by: str,
    reason: str,
    now: datetime,
) -> None:
    """Move the incident to `target` through every legal step, each stamped and audited."""
    if incident.state == target:
        return
    steps = path_between(incident.state, target)
    if not steps:
        check_incident(incident.state, target)  # raises, naming the rule
    for step in steps:
        check_incident(incident.state, step)
        previous, incident.state = incident.state, step
        stamp = INCIDENT_TIMESTAMP.get(step)
        if stamp and getattr(incident, stamp) is None:
            setattr(incident, stamp, now)
        record(
            session,
            by=by,
            action="transition",
            entity="incident",
            entity_id=incident.id,
            from_state=previous.value,
            to_state=step.value,
            reason=reason,
            at=now,
        )
    emit(
        session,
        "incident",
        "changed",
        {
            "id": incident.id,
            "number": incident.number,
            "state": incident.state.value,
            "zone_id": incident.zone_id,  # who may see it: the zone's officers, the center
        },
    )


def follow_orders(
    session: Session, incident: Incident, *, by: str, reason: str, now: datetime
) -> None:
    """Move the incident to the state its orders say (`incident_state_after_orders`)."""
    if incident.state in FINAL_INCIDENT_STATES:
        return
    follows = incident_state_after_orders(incident.state, [o.state for o in incident.orders])
    move_incident(session, incident, follows, by=by, reason=reason, now=now)


def move_order(
    session: Session,
    order: DispatchOrder,
    target: OrderState,
    *,
    by: str,
    reason: str,
    now: datetime,
) -> None:
    """Move an order one step, and its unit to the status that goes with it."""
    check_order(order.state, target)
    previous, order.state = order.state, target
    stamp = ORDER_TIMESTAMP.get(target)
    if stamp:
        setattr(order, stamp, now)
    record(
        session,
        by=by,
        action="transition",
        entity="order",
        entity_id=order.id,
        from_state=previous.value,
        to_state=target.value,
        reason=reason,
        at=now,
    )
    announce_order(session, order)
    set_unit_status(
        session, order.unit, UNIT_STATUS_OF_ORDER[target], by=by, reason=reason, now=now
    )


def announce_order(session: Session, order: DispatchOrder, **extra: str) -> None:
    """Tell the event stream that an order changed (its state, and any `extra` fields)."""
    emit(
        session,
        "order",
        "changed",
        {
            "id": order.id,
            "incident_id": order.incident_id,
            "unit_id": order.unit_id,
            "state": order.state.value,
            **extra,
        },
    )


def set_unit_status(
    session: Session,
    unit: Unit,
    status: UnitStatus,
    *,
    by: str,
    reason: str,
    now: datetime,
    only_from: frozenset[UnitStatus] | None = None,
) -> None:
    """Change a unit's status in one conditional UPDATE: with `only_from`, a unit that is not
    in one of those statuses any more (another dispatcher was quicker) raises `Conflict`."""
    if unit.status == status and only_from is None:
        return
    query = update(Unit).where(Unit.id == unit.id)
    if only_from is not None:
        query = query.where(Unit.status.in_(only_from))
    result = session.execute(
        query.values(status=status, status_at=now, version=Unit.version + 1).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.refresh(unit)
        raise Conflict(f"unit {unit.call_sign} is {unit.status.value}, not free for an order")
    previous = unit.status
    session.refresh(unit)
    record(
        session,
        by=by,
        action="transition",
        entity="unit",
        entity_id=unit.id,
        from_state=previous.value,
        to_state=status.value,
        reason=reason,
        at=now,
    )
    emit(
        session,
        "unit",
        "changed",
        {"id": unit.id, "call_sign": unit.call_sign, "status": status.value},
    )


def cancel_active_orders(
    session: Session, incident: Incident, *, user: User, reason: str, now: datetime
) -> None:
    """Cancel every order of the incident still running; their units become available."""
    for order in incident.orders:
        if order.state in ACTIVE_ORDER_STATES and order.state is not OrderState.ARRIVED:
            move_order(
                session, order, OrderState.CANCELLED, by=user.username, reason=reason, now=now
            )
        elif order.state is OrderState.ARRIVED:
            move_order(session, order, OrderState.DONE, by=user.username, reason=reason, now=now)
