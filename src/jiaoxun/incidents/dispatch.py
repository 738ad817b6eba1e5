"""Use cases of dispatching: rank the units, send one or several (一点报警，多点响应), move the
orders through their states as the units report, reassign. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotFound
from jiaoxun.events import emit
from jiaoxun.geo.routes import Route
from jiaoxun.geo.snap import Snap
from jiaoxun.geo.turnout import turnout_s as turnout_of
from jiaoxun.incidents import verdicts
from jiaoxun.incidents.lifecycle import (
    ACTIVE_ORDER_STATES,
    IncidentState,
    OrderState,
)
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.recommend import Recommendation, UnitView, recommend
from jiaoxun.incidents.targets import predict
from jiaoxun.incidents.transitions import (
    follow_orders,
    get_incident,
    move_incident,
    move_order,
    set_unit_status,
)
from jiaoxun.settings import Settings
from jiaoxun.units.models import Unit
from jiaoxun.units.service import crew_sizes
from jiaoxun.units.status import FREE, UnitStatus
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role

_ENDED = frozenset({OrderState.DONE, OrderState.RETURNED, OrderState.CANCELLED})
#: incident states in which units can be sent (or more units added)
DISPATCHABLE = frozenset(
    {IncidentState.TAKEN, IncidentState.DISPATCHED, IncidentState.EN_ROUTE, IncidentState.ON_SCENE}
)


def unit_position(unit: Unit) -> tuple[float | None, float | None, datetime | None]:
    """(lon, lat, fix time) of a unit: its last accepted fix, whatever its status. A unit at
    its kiosk is there only while its device says so: no fix, no position."""
    return unit.last_lon, unit.last_lat, unit.last_fix_at


def unit_views(session: Session, city: CityContext, *, now: datetime) -> list[UnitView]:
    """Every unit as the recommender sees it: the columns it needs, read as plain rows (a
    province's fleet as ORM objects cost most of a recommendation)."""
    crews = crew_sizes(session)
    rows = session.execute(
        select(
            Unit.id,
            Unit.call_sign,
            Unit.zone_id,
            Unit.status,
            Unit.last_lon,
            Unit.last_lat,
            Unit.last_fix_at,
        ).order_by(Unit.call_sign)
    )
    views = []
    for unit_id, call_sign, zone_id, status, lon, lat, fix_at in rows:
        zone = city.zone_by_id(zone_id)
        code = zone.code if zone else None
        crewed = crews.get(unit_id, 0) > 0
        views.append(UnitView(unit_id, call_sign, code, status, lon, lat, fix_at, crewed))
    return views


def recommendations(
    session: Session, incident_id: int, *, city: CityContext, settings: Settings, now: datetime
) -> tuple[Incident, Recommendation]:
    """Every unit ranked by exact road ETA to the incident, with the plan's chosen set. For a
    top-up the zones already sent count for the distinct-zones rule, and the expected verdicts
    are timed as the real ones will be: from the first dispatch, with the units already sent."""
    incident = get_incident(session, incident_id)
    zone = city.zone_by_id(incident.zone_id)
    sent = [o for o in incident.orders if o.state not in _ENDED]
    still_needed = max(incident.required_units - len(sent), 1)
    tiers = verdicts.tiers_of(session, incident)
    result = recommend(
        lon=incident.lon,
        lat=incident.lat,
        units=unit_views(session, city, now=now),
        travel_times=city.traffic.at(now),
        plan=ResponsePlan(units=still_needed, distinct_zones=incident.distinct_zones),
        tiers=tiers,
        now=now,
        max_fix_age_s=settings.max_fix_age_s,
        place_class=incident.place_class,
        zone=zone.code if zone else None,
        since_call_s=max((now - incident.call_at).total_seconds(), 0.0),
        zones_sent=frozenset(_zones_of(sent, city)),
        turnout_s=settings.turnout_s,
    )
    if sent and incident.dispatched_at is not None:
        since_dispatch_s = (now - incident.dispatched_at).total_seconds()
        etas = {c.unit_id: c.eta_s for c in result.candidates}  # the chosen all have one
        expected = [_expected_s(o, dispatched_at=incident.dispatched_at) for o in sent]
        expected += [since_dispatch_s + float(etas[u] or 0.0) for u in result.chosen]
        result = replace(
            result,
            verdicts=predict(
                tiers,
                etas_s=[e for e in expected if e is not None],
                required_units=incident.required_units,
                place_class=incident.place_class,
                zone=zone.code if zone else None,
                since_call_s=(incident.dispatched_at - incident.call_at).total_seconds(),
            ),
        )
    return incident, result


def _zones_of(orders: Sequence[DispatchOrder], city: CityContext) -> set[str]:
    zones = (city.zone_by_id(o.unit.zone_id) for o in orders)
    return {z.code for z in zones if z is not None}


def _expected_s(order: DispatchOrder, *, dispatched_at: datetime) -> float | None:
    """Seconds from the incident's first dispatch to the order's arrival: the real one, else
    the one its ETA forecast (None: no forecast)."""
    arrived = verdicts.arrival_of(order)
    if arrived is not None:
        return (arrived[0] - dispatched_at).total_seconds()
    if order.eta_s is None:
        return None
    return (order.issued_at - dispatched_at).total_seconds() + order.eta_s


def route_to_incident(
    session: Session, incident_id: int, unit_id: int, *, city: CityContext, now: datetime
) -> Route:
    """The fastest road route from where the unit is (its last fix, as the recommender sees it)
    to the incident. `Conflict` when the unit has no position yet."""
    incident = get_incident(session, incident_id)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    lon, lat, _ = unit_position(unit)
    if lon is None or lat is None:
        raise Conflict(f"unit {unit.call_sign} has no position yet: no fix received")
    tt = city.traffic.at(now)
    return tt.route(tt.snap(lon, lat), tt.snap(incident.lon, incident.lat))


def open_orders_of(session: Session, unit_id: int) -> Sequence[DispatchOrder]:
    """The unit's orders not finished yet (issued, acknowledged, en route, arrived), newest
    first."""
    return session.scalars(
        select(DispatchOrder)
        .where(DispatchOrder.unit_id == unit_id, DispatchOrder.state.in_(ACTIVE_ORDER_STATES))
        .order_by(DispatchOrder.issued_at.desc(), DispatchOrder.id.desc())
    ).all()


def dispatch(
    session: Session,
    incident_id: int,
    unit_ids: Sequence[int],
    *,
    user: User,
    city: CityContext,
    reason: str,
    now: datetime,
    turnout_s: Mapping[str, float] | None = None,
) -> list[DispatchOrder]:
    """Send units to an incident: one order each, keeping its ETA (turnout included). A unit
    another dispatcher took first, or one that is not free, makes the whole dispatch fail
    with `Conflict` (nothing is half-sent)."""
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput(f"unit_ids {list(unit_ids)} name a unit twice")
    incident = get_incident(session, incident_id, for_update=True)
    if incident.state not in DISPATCHABLE:
        raise Conflict(
            f"incident {incident.number} is {incident.state.value}: units can be sent only while "
            f"it is {', '.join(sorted(s.value for s in DISPATCHABLE))}"
        )
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    missing = [i for i in unit_ids if i not in units]
    if missing:
        raise NotFound(f"unit {missing[0]} does not exist")
    target = city.travel_times.snap(incident.lon, incident.lat)
    orders = []
    crews = crew_sizes(session)
    for unit_id in unit_ids:
        unit = units[unit_id]
        if not crews.get(unit.id):
            raise Conflict(f"unit {unit.call_sign} has no crew on duty: it cannot take an order")
        eta_s = _eta_s(city, unit, target, now=now, turnout_s=turnout_s or {})
        set_unit_status(
            session,
            unit,
            UnitStatus.DISPATCHED,
            by=user.username,
            reason=f"dispatched to {incident.number}",
            now=now,
            only_from=FREE,
        )
        order = DispatchOrder(
            incident_id=incident.id,
            unit_id=unit.id,
            state=OrderState.ISSUED,
            eta_s=eta_s,
            issued_by=user.username,
            issued_at=now,
        )
        order.unit = unit
        incident.orders.append(order)
        orders.append(order)
    try:
        session.flush()
    except IntegrityError as exc:  # the partial unique index: a unit already holds an order
        raise Conflict(f"a unit of {list(unit_ids)} already holds an active order") from exc
    for order in orders:
        _announce_order(session, order, user=user, reason=reason, now=now)
    if incident.state is IncidentState.TAKEN:
        move_incident(
            session,
            incident,
            IncidentState.DISPATCHED,
            by=user.username,
            reason=reason or "units dispatched",
            now=now,
        )
    return orders


def _eta_s(
    city: CityContext, unit: Unit, target: Snap, *, now: datetime, turnout_s: Mapping[str, float]
) -> float | None:
    """The unit's ETA from where it is, its turnout included, kept on the order to judge the
    forecast later."""
    lon, lat, _ = unit_position(unit)
    if lon is None or lat is None:
        return None
    tt = city.traffic.at(now)
    snaps = tt.snap_many(np.array([lon]), np.array([lat]), strict=False)
    if snaps.distance_m[0] > tt.snapper.max_snap_m:
        return None
    eta = float(tt.times_to(target, snaps)[0] + turnout_of([unit.status], by_status=turnout_s)[0])
    return eta if np.isfinite(eta) else None


def _announce_order(
    session: Session, order: DispatchOrder, *, user: User, reason: str, now: datetime
) -> None:
    record(
        session,
        by=user.username,
        action="create",
        entity="order",
        entity_id=order.id,
        to_state=order.state.value,
        reason=reason,
        at=now,
        detail={
            "incident_id": order.incident_id,
            "unit_id": order.unit_id,
            "call_sign": order.unit.call_sign,
            "eta_s": order.eta_s,
        },
    )
    emit(
        session,
        "order",
        "created",
        {
            "id": order.id,
            "incident_id": order.incident_id,
            "unit_id": order.unit_id,
            "state": order.state.value,
        },
    )


def get_order(session: Session, order_id: int) -> DispatchOrder:
    order = session.get(DispatchOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"dispatch order {order_id} does not exist")
    return order


def order_status(
    session: Session,
    order_id: int,
    state: OrderState,
    *,
    user: User,
    reason: str,
    feedback: str,
    now: datetime,
) -> DispatchOrder:
    """A unit reports: acknowledged, en route, arrived, done, or returns the order (退单).
    An officer may act only on his own unit's orders. The incident follows its orders."""
    order = get_order(session, order_id)
    if user.role is Role.OFFICER and order.unit_id != user.unit_id:
        raise NotAllowed(
            f"officer {user.username} may act only on his own unit's orders; order {order_id} "
            f"belongs to unit {order.unit.call_sign}"
        )
    move_order(session, order, state, by=user.username, reason=reason, now=now)
    if feedback:
        order.feedback = feedback
    incident = get_incident(session, order.incident_id, for_update=True)
    if state is OrderState.ARRIVED:
        verdicts.write(session, incident, on=verdicts.ARRIVAL, now=now)
    follow_orders(
        session, incident, by=user.username, reason=f"order {order.id} {state.value}", now=now
    )
    return order


def reassign(
    session: Session,
    order_id: int,
    unit_id: int,
    *,
    user: User,
    city: CityContext,
    reason: str,
    now: datetime,
    turnout_s: Mapping[str, float] | None = None,
) -> DispatchOrder:
    """Take an order off its unit and give the incident another unit instead."""
    order = get_order(session, order_id)
    if order.state in _ENDED or order.state is OrderState.ARRIVED:
        raise Conflict(
            f"order {order_id} is {order.state.value}: only a running order can be "
            "reassigned before arrival"
        )
    move_order(
        session,
        order,
        OrderState.CANCELLED,
        by=user.username,
        reason=f"reassigned: {reason}",
        now=now,
    )
    (new,) = dispatch(
        session,
        order.incident_id,
        [unit_id],
        user=user,
        city=city,
        reason=f"reassigned from {order.unit.call_sign}: {reason}",
        now=now,
        turnout_s=turnout_s,
    )
    follow_orders(
        session,
        get_incident(session, order.incident_id),
        by=user.username,
        reason=f"order {order.id} reassigned",
        now=now,
    )
    return new
