"""Duplicate calls: the same incident reported twice.

A crash at a busy crossing brings many 110 calls within minutes. Before a second incident is
opened, the dispatcher is shown the open incidents of the same kind (the same level-1 category)
reported nearby and recently, nearest first, so that the new call can be merged into one of them
(重复警情) instead of sending more cars to the same scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from jiaoxun.geo.osm import haversine_m


@dataclass(frozen=True)
class OpenIncident:
    """An incident not yet closed: where, of what kind (level-1 code such as "010000"), when."""

    incident_id: int
    lon: float
    lat: float
    category_top: str
    call_at: datetime


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open incident the new call may repeat: metres away and minutes between the calls."""

    incident_id: int
    distance_m: float
    minutes_apart: float


def find_duplicates(
    *,
    lon: float,
    lat: float,
    category_top: str,
    call_at: datetime,
    open_incidents: Sequence[OpenIncident],
    max_distance_m: float = 200.0,
    max_minutes: float = 30.0,
) -> tuple[DuplicateCandidate, ...]:
    """Open incidents that the call at (`lon`, `lat`) may repeat, nearest first.

    Parameters
    ----------
    lon, lat : the new call's location, WGS-84 degrees.
    category_top : its level-1 category code; only incidents with the same code match.
    call_at : when it came in; incidents called up to `max_minutes` before or after match.
    open_incidents : the incidents to compare with.
    max_distance_m : the largest great-circle distance, metres, that still matches.
    max_minutes : the largest time between the two calls, minutes, that still matches.

    Ties in distance go to the closer call in time, then the lower incident id.
    """
    if not max_distance_m >= 0:
        raise ValueError(f"max_distance_m(={max_distance_m}) must be >= 0.")
    if not max_minutes >= 0:
        raise ValueError(f"max_minutes(={max_minutes}) must be >= 0.")
    same_kind = [i for i in open_incidents if i.category_top == category_top]
    if not same_kind:
        return ()
    distance_m = haversine_m(
        np.full(len(same_kind), lon),
        np.full(len(same_kind), lat),
        np.array([i.lon for i in same_kind], dtype=np.float64),
        np.array([i.lat for i in same_kind], dtype=np.float64),
    )
    matches = []
    for incident, d_m in zip(same_kind, distance_m.tolist(), strict=True):
        minutes = abs((incident.call_at - call_at).total_seconds()) / 60.0
        if d_m <= max_distance_m and minutes <= max_minutes:
            matches.append(DuplicateCandidate(incident.incident_id, d_m, minutes))
    matches.sort(key=lambda m: (m.distance_m, m.minutes_apart, m.incident_id))
    return tuple(matches)
