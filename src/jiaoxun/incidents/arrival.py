"""Arrival proved by GPS: a unit is at the scene when its own device says so.

Like the time clock at a factory gate, the unit's first accepted fix within `radius_m` of the
scene of its open order stamps the order's `gps_arrived_at` with the time of that fix, beside the
officer's own "arrived" (which stays as he pressed it). The verdicts use the GPS time where there
is one, and a gap between the two beyond a limit is flagged for the commander (`arrival_gap`).

The distance is the straight line to the incident's point, not the road network: the scene is
where the caller is (a courtyard, a shop, a square) and the car stops at the kerb nearest to it,
often on another road than the one the scene snaps to; a network distance would first snap both
points and add a detour of hundreds of metres to a car at the door across a divided road or a
parallel street. The straight line can only be shorter than the road, so the radius (a few times
the GPS error) bounds the error of the proof, and it costs no search per fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from jiaoxun.audit.service import record
from jiaoxun.geo.osm import haversine_m
from jiaoxun.incidents import verdicts
from jiaoxun.incidents.lifecycle import ACTIVE_ORDER_STATES
from jiaoxun.incidents.models import ACTIVE_ORDERS_SQL, DispatchOrder
from jiaoxun.incidents.transitions import announce_order

#: the name GPS-proved arrivals are audited under
BY_GPS = "gps"


class UnitFix(NamedTuple):
    """An accepted position fix of a unit (WGS-84 degrees)."""

    unit_id: int
    lon: float
    lat: float
    at: datetime


def gps_arrivals(
    session: Session, fixes: Sequence[UnitFix], *, radius_m: float, now: datetime
) -> list[DispatchOrder]:
    """Stamp `gps_arrived_at` on the open orders whose unit has a fix within `radius_m` of the
    scene, issued no later than the fix; write the verdicts those arrivals decide. Returns the
    orders stamped."""
    by_unit: dict[int, list[UnitFix]] = defaultdict(list)
    for fix in sorted(fixes, key=lambda f: f.at):
        by_unit[fix.unit_id].append(fix)
    # the units holding an order under way and not yet proved, found by the index of the orders
    # under way: a province's batch names hundreds of units, and a few have an order
    waiting = set(
        session.scalars(
            select(DispatchOrder.unit_id).where(
                text(ACTIVE_ORDERS_SQL), DispatchOrder.gps_arrived_at.is_(None)
            )
        )
    )
    units = [u for u in by_unit if u in waiting]
    if not units:
        return []
    orders = session.scalars(
        select(DispatchOrder)
        .where(
            DispatchOrder.unit_id.in_(units),
            DispatchOrder.state.in_(ACTIVE_ORDER_STATES),
            DispatchOrder.gps_arrived_at.is_(None),
        )
        .options(selectinload(DispatchOrder.incident))
    ).all()
    stamped = []
    for order in orders:
        at = _first_within(order, by_unit[order.unit_id], radius_m=radius_m)
        if at is None:
            continue
        fix, distance_m = at
        # the incident's row locked, as a request locks it, and read again: its verdicts are
        # written once, whoever comes first (a dispatcher's "arrived" or this fix)
        session.refresh(order.incident, with_for_update=True)
        order.gps_arrived_at = fix.at
        record(
            session,
            by=BY_GPS,
            action="gps_arrival",
            entity="order",
            entity_id=order.id,
            reason=f"fix {distance_m:.0f} m from the scene (limit {radius_m:.0f} m)",
            at=fix.at,
            detail={"lon": fix.lon, "lat": fix.lat, "distance_m": round(distance_m, 1)},
        )
        announce_order(session, order, gps_arrived_at=fix.at.isoformat())
        verdicts.write(session, order.incident, on=verdicts.ARRIVAL, now=now)
        stamped.append(order)
    return stamped


def _first_within(
    order: DispatchOrder, fixes: Sequence[UnitFix], *, radius_m: float
) -> tuple[UnitFix, float] | None:
    after = [f for f in fixes if f.at >= order.issued_at]
    if not after:
        return None
    scene = order.incident
    distance_m = haversine_m(
        np.array([f.lon for f in after]),
        np.array([f.lat for f in after]),
        np.full(len(after), scene.lon),
        np.full(len(after), scene.lat),
    )
    within = np.flatnonzero(distance_m <= radius_m)
    if not len(within):
        return None
    first = int(within[0])
    return after[first], float(distance_m[first])


def arrival_gap_s(order: DispatchOrder) -> float | None:
    """Seconds between the officer's "arrived" and the GPS arrival (positive: he pressed it
    after his car got there); None unless both are known."""
    if order.arrived_at is None or order.gps_arrived_at is None:
        return None
    return (order.arrived_at - order.gps_arrived_at).total_seconds()


def gps_travel_s(order: DispatchOrder) -> float | None:
    """The GPS-proved travel time of the order: from its dispatch to the GPS arrival, seconds;
    what its stored `eta_s` forecast."""
    if order.gps_arrived_at is None:
        return None
    return (order.gps_arrived_at - order.issued_at).total_seconds()
