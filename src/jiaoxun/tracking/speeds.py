"""Learning road speeds from the stored tracks (the pure work is `geo.speeds`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.speeds import LearnedSpeeds, Observations, hours_of_week, learn_speeds, observe
from jiaoxun.tracking.models import TrackPoint


def learn_from_tracks(
    session: Session,
    *,
    network: RoadNetwork,
    since: datetime,
    until: datetime,
    tz: ZoneInfo,
    prior_m: float = 2000.0,
    chunk: int = 200_000,
    advance: Callable[[int], None] = lambda n: None,
) -> tuple[LearnedSpeeds, int]:
    """Speeds learned from the track points on the road between `since` and `until` (hours of
    the week counted in `tz`), read
    `chunk` at a time in device and time order; `advance` is told how many were read. Returns
    the speeds and the number of points."""
    where = (TrackPoint.at >= since, TrackPoint.at < until, TrackPoint.edge >= 0)
    query = (
        select(TrackPoint.device_id, TrackPoint.at, TrackPoint.edge, TrackPoint.fraction)
        .where(*where)
        .order_by(TrackPoint.device_id, TrackPoint.at, TrackPoint.id)
    )
    devices: dict[str, int] = {}
    sums = Observations.none(network)
    carried: list[tuple[int, float, int, float]] = []  # the last point, to pair across chunks
    read = 0
    for rows in session.execute(query).yield_per(chunk).partitions():
        points = carried + [
            (devices.setdefault(d, len(devices)), at.timestamp(), e, f) for d, at, e, f in rows
        ]
        device, at_s, edge, fraction = (np.array(column) for column in zip(*points, strict=True))
        sums = sums + observe(
            network,
            device=device.astype(np.int64),
            at_s=at_s.astype(np.float64),
            edge=edge.astype(np.int64),
            fraction=fraction.astype(np.float64),
            hour_of_week=hours_of_week(at_s, tz),
        )
        carried = points[-1:]
        read += len(rows)
        advance(len(rows))
    return learn_speeds(network, sums, prior_m=prior_m), read


def count_track_points(session: Session, *, since: datetime, until: datetime) -> int:
    """How many track points on the road lie between `since` and `until`."""
    where = (TrackPoint.at >= since, TrackPoint.at < until, TrackPoint.edge >= 0)
    return int(session.scalar(select(func.count()).select_from(TrackPoint).where(*where)) or 0)
