"""Judging the ETA forecast of the dispatch orders that have a GPS arrival."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.geo.accuracy import Accuracy, forecast_accuracy
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.speeds import with_learned_speeds
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.arrival import gps_travel_s
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.settings import Settings
from jiaoxun.tracking.models import TrackPoint


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
    replay_with: dict[str, TravelTimes] | None = None,
    turnout_s: float = 0.0,
) -> EtaReport:
    """Each order issued between `since` and `until` with a GPS arrival: its stored `eta_s`
    against its GPS-proved travel time (issue to GPS arrival). With `replay_with` (a name, as
    "class table" or "learned speeds", to travel times), each such trip is timed again from the
    car's last position on the road before the order, plus `turnout_s` seconds."""
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
    for name, travel_times in (replay_with or {}).items():
        predicted = [
            _replay(session, order, lon, lat, travel_times) + turnout_s for order, lon, lat in rows
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


def replay_travel_times(travel_times: TravelTimes, settings: Settings) -> dict[str, TravelTimes]:
    """The class table's travel times, and the learned speeds' where some are learned."""
    learned = with_learned_speeds(travel_times.network, settings.data_dir)
    if learned is travel_times.network:
        return {"class table": travel_times}
    return {
        "class table": travel_times,
        "learned speeds": TravelTimes(learned, max_snap_m=settings.max_snap_m),
    }
