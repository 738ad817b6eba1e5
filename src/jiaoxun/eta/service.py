"""Judging the ETA forecast of the dispatch orders that have a GPS arrival."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.geo.accuracy import Accuracy, forecast_accuracy
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.arrival import gps_travel_s
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.tracking.models import TrackPoint

#: the travel times in force at a moment
Replay = Callable[[datetime], TravelTimes]


@dataclass(frozen=True)
class EtaReport:
    """The stored forecasts judged, and the same trips timed again by each of `replayed`."""

    since: datetime
    until: datetime
    stored: Accuracy
    replayed: dict[str, Accuracy]


def eta_report(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    replay_with: Mapping[str, Replay] | None = None,
    turnout_s: float = 0.0,
) -> EtaReport:
    """Each order issued between `since` and `until` with a GPS arrival: its stored `eta_s`
    against its GPS-proved travel time (issue to GPS arrival). With `replay_with` (a name, as
    "class table" or "learned speeds", to the travel times in force at a moment), each such
    trip is timed again by the travel times at its order's time, from the car's last position
    on the road before the order, plus `turnout_s` seconds."""
    rows = session.execute(
        select(DispatchOrder, Incident.lon, Incident.lat)
        .join(Incident, DispatchOrder.incident_id == Incident.id)
        .where(
            DispatchOrder.gps_arrived_at.is_not(None),
            DispatchOrder.issued_at >= since,
            DispatchOrder.issued_at < until,
        )
        .order_by(DispatchOrder.issued_at, DispatchOrder.id)
    ).all()
    observed = [np.nan if (s := gps_travel_s(o)) is None else s for o, _, _ in rows]
    stored = [np.nan if o.eta_s is None else o.eta_s for o, _, _ in rows]
    replayed = {}
    for name, travel_times_at in (replay_with or {}).items():
        predicted = [
            _replay(session, order, lon, lat, travel_times_at(order.issued_at)) + turnout_s
            for order, lon, lat in rows
        ]
        replayed[name] = forecast_accuracy(predicted, observed)
    return EtaReport(since, until, forecast_accuracy(stored, observed), replayed)


def _replay(
    session: Session, order: DispatchOrder, lon: float, lat: float, travel_times: TravelTimes
) -> float:
    """Seconds from the unit's last fix on the road before the order to the scene (nan: none)."""
    fix = session.execute(
        select(TrackPoint.edge, TrackPoint.fraction, TrackPoint.lon, TrackPoint.lat)
        .where(
            TrackPoint.unit_id == order.unit_id,
            TrackPoint.at <= order.issued_at,
            TrackPoint.edge >= 0,
        )
        .order_by(TrackPoint.at.desc())
        .limit(1)
    ).first()
    if fix is None or fix.edge >= travel_times.network.n_edges:
        return float("nan")
    origin = Snap(int(fix.edge), float(fix.fraction), 0.0, float(fix.lon), float(fix.lat))
    target = travel_times.snapper.snap_many(np.array([lon]), np.array([lat]), strict=False)
    if target.distance_m[0] > travel_times.snapper.max_snap_m:
        return float("nan")
    return float(travel_times.times_from(origin, Snaps.of([target[0]]))[0])


def replays(traffic: Traffic) -> dict[str, Replay]:
    """The class table's travel times, and the learned speeds' of each hour where some are."""
    if not traffic.learned:
        return {"class table": lambda _: traffic.base}
    return {"class table": lambda _: traffic.base, "learned speeds": traffic.at}
