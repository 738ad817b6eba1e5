"""Patrol duty at the mandatory points: visits, check-ins, and check-ins by hand.

A mandatory point (必巡点) is like a night watchman's clock station: a visit counts when the car
stays at the point for the dwell time; one check-in is emitted per visit, at the fix that
completes the dwell. The circle has hysteresis, like a thermostat: a visit starts at a fix within
the radius and lasts while the fixes stay within the radius plus a margin, so that GPS noise
around the edge neither ends it nor starts another; coming back within a minimum gap of leaving
resumes it (the time away is no dwell). A gap between fixes longer than the track's limit ends
it (nobody knows where the car was meanwhile). An officer can also check in by hand: proved
only when his unit's own track shows the stay (`proved_stay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyproj
import shapely

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import Floats, Ints
from jiaoxun.geo.osm import haversine_m
from jiaoxun.tracking.geofence import local_xy


@dataclass(frozen=True)
class MandatoryPoint:
    """A mandatory patrol point (必巡点): where, how close, how long and how often."""

    id: int
    lon: float
    lat: float
    radius_m: float
    dwell_min: float
    visits_per_shift: int = 1
    zone: str = ""
    #: local daily windows ("07:00", "08:00") each needing a visit; none: any time
    windows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CheckIn:
    """One visit to a mandatory point. `left_at` is the last fix inside, once known."""

    point_id: int
    unit: str
    arrived_at: datetime
    checked_in_at: datetime
    left_at: datetime | None = None
    manual: bool = False


@dataclass
class Visit:
    """A stay at a mandatory point: from the first fix inside to the last one inside."""

    point_id: int
    arrived_at: datetime
    last_at: datetime
    checked_in_at: datetime | None = None
    #: the last fix inside, when the car has gone out past the margin (it may come back)
    left_at: datetime | None = None
    #: seconds away between leaving and coming back: they are no dwell
    away_s: float = 0.0


class PointFence:
    """Circles around mandatory points; their centres in an STR-tree, in metres."""

    def __init__(self, points: Sequence[MandatoryPoint], *, xy: pyproj.Transformer) -> None:
        for p in points:
            if not p.radius_m > 0 or not p.dwell_min >= 0:
                raise InvalidInput(
                    f"point {p.id}: radius_m(={p.radius_m}) must be > 0"
                    f" and dwell_min(={p.dwell_min}) >= 0"
                )
        if len({p.id for p in points}) != len(points):
            raise InvalidInput("mandatory point ids must be unique")
        self.points = tuple(points)
        self.xy = xy
        x, y = xy.transform([p.lon for p in points], [p.lat for p in points])
        self.x, self.y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.radius_m = np.array([p.radius_m for p in points], dtype=np.float64)
        self.max_radius_m = float(self.radius_m.max()) if points else 0.0
        self.dwell = [timedelta(minutes=p.dwell_min) for p in points]
        self.tree = shapely.STRtree(shapely.points(self.x, self.y))

    @classmethod
    def from_points(
        cls, points: Sequence[MandatoryPoint], *, xy: pyproj.Transformer | None = None
    ) -> PointFence:
        """Fences around `points`; `xy` projects to metres (default: UTM at their centre)."""
        if xy is None:
            lon = np.mean([p.lon for p in points]) if points else 0.0
            lat = np.mean([p.lat for p in points]) if points else 0.0
            xy = local_xy(float(lon), float(lat))
        return cls(points, xy=xy)

    def inside_xy(self, x: float, y: float) -> Ints:
        """Indices of the points whose radius holds a projected position, ascending."""
        r = self.max_radius_m
        near = np.asarray(self.tree.query(shapely.box(x - r, y - r, x + r, y + r)), dtype=np.int64)
        if not len(near):
            return near
        distance = np.hypot(self.x[near] - x, self.y[near] - y)
        return np.sort(near[distance <= self.radius_m[near]])

    def candidates_many(self, x: Floats, y: Floats, *, margin_m: float) -> list[Ints]:
        """The points that may hold each projected position within their radius plus
        `margin_m`, in one query of the STR-tree (for `within_xy`)."""
        r = self.max_radius_m + margin_m
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        which, point = self.tree.query(shapely.box(x - r, y - r, x + r, y + r))
        counts = np.bincount(which, minlength=len(x))
        return np.split(point[np.argsort(which, kind="stable")], np.cumsum(counts)[:-1])

    def within_xy(
        self, x: float, y: float, *, margin_m: float, near: Ints | None = None
    ) -> list[tuple[int, float]]:
        """(index, distance in metres) of the points whose radius plus `margin_m` holds a
        projected position, by index; `near` its candidates when found already."""
        if near is None:
            r = self.max_radius_m + margin_m
            box = shapely.box(x - r, y - r, x + r, y + r)
            near = np.asarray(self.tree.query(box), dtype=np.int64)
        if not len(near):
            return []
        near = np.sort(near)
        distance = np.hypot(self.x[near] - x, self.y[near] - y)
        keep = distance <= self.radius_m[near] + margin_m
        return list(zip(near[keep].tolist(), distance[keep].tolist(), strict=True))

    def inside(self, lon: float, lat: float) -> tuple[int, ...]:
        """Ids of the points whose radius holds a WGS-84 position."""
        x, y = self.xy.transform(lon, lat)
        return tuple(self.points[i].id for i in self.inside_xy(x, y))


class PointVisits:
    """Visits and check-ins at the mandatory points, one fix at a time (see the module
    docstring): `step` updates a unit's visits in place and returns its new check-ins."""

    def __init__(
        self, fence: PointFence, *, leave_margin_m: float = 20.0, min_visit_gap_s: float = 300.0
    ) -> None:
        if not leave_margin_m >= 0 or not min_visit_gap_s >= 0:
            raise InvalidInput(
                f"leave_margin_m(={leave_margin_m}) and min_visit_gap_s(={min_visit_gap_s})"
                " must be >= 0"
            )
        self.fence = fence
        self.leave_margin_m = leave_margin_m
        self.min_visit_gap_s = min_visit_gap_s

    def step(
        self,
        visits: dict[int, Visit],
        x: float,
        y: float,
        at: datetime,
        *,
        unit: str,
        joined: bool = True,
        candidates: Ints | None = None,
    ) -> tuple[CheckIn, ...]:
        """A fix of `unit` at projected (x, y), `joined` to the one before (no gap);
        `candidates` the points near it when found already (`PointFence.candidates_many`)."""
        fence = self.fence
        if not joined:  # nobody knows where the car was meanwhile: every stay ended
            visits.clear()
        near = fence.within_xy(x, y, margin_m=self.leave_margin_m, near=candidates)
        check_ins: list[CheckIn] = []
        for i, distance in near:
            point = fence.points[i]
            visit = visits.get(point.id)
            inside = distance <= point.radius_m
            if visit is not None and (left := visit.left_at) is not None:
                away_s = (at - left).total_seconds()
                if away_s > self.min_visit_gap_s:
                    visit = None  # gone long enough: a new visit if inside
                elif inside:  # back within the gap: the same visit goes on
                    visit.away_s += away_s
                    visit.left_at = None
            if visit is None:
                if not inside:
                    continue
                visit = visits[point.id] = Visit(point.id, arrived_at=at, last_at=at)
            if visit.left_at is None:
                visit.last_at = at
                stayed = at - visit.arrived_at - timedelta(seconds=visit.away_s)
                if visit.checked_in_at is None and stayed >= fence.dwell[i]:
                    visit.checked_in_at = at
                    check_ins.append(CheckIn(point.id, unit, visit.arrived_at, at))
        held = {fence.points[i].id for i, _ in near}
        for point_id, visit in list(visits.items()):
            if point_id not in held and visit.left_at is None:
                visit.left_at = visit.last_at  # out past the margin
            left = visit.left_at
            if left is not None and (at - left).total_seconds() > self.min_visit_gap_s:
                del visits[point_id]
        return tuple(check_ins)


def manual_check_in(
    point: MandatoryPoint,
    lon: float,
    lat: float,
    at: datetime,
    *,
    unit: str,
    max_distance_m: float | None = None,
) -> CheckIn:
    """A check-in by hand (the officer presses the button) at WGS-84 (lon, lat).

    Accepted within `max_distance_m` of the point (default: the point's radius, metres);
    otherwise `InvalidInput` names the distance.
    """
    limit_m = point.radius_m if max_distance_m is None else max_distance_m
    lon_lat = [np.array([v], dtype=np.float64) for v in (lon, lat, point.lon, point.lat)]
    distance_m = float(haversine_m(*lon_lat)[0])
    if not distance_m <= limit_m:
        raise InvalidInput(
            f"manual check-in at point {point.id} refused: {distance_m:.0f} m from it,"
            f" the limit is {limit_m:.0f} m"
        )
    return CheckIn(point.id, unit, arrived_at=at, checked_in_at=at, manual=True)


def proved_stay(
    point: MandatoryPoint,
    track: Sequence[tuple[datetime, float, float]],
    at: datetime,
    *,
    margin_m: float = 20.0,
    max_gap_s: float = 300.0,
    slack_s: float = 60.0,
) -> datetime | None:
    """The start of the unit's stay at `point` that proves a check-in at `at`, or None.

    `track` is the unit's fixes (time, WGS-84 lon, lat) in time order. A stay is a run of fixes
    within the radius plus `margin_m`, at most `max_gap_s` apart, one of them within the radius;
    it proves the check-in when it lasted the dwell and lasted until `slack_s` before `at` or
    later, having begun by `at`.
    """
    if not track:
        return None
    lon = np.array([p[1] for p in track], dtype=np.float64)
    lat = np.array([p[2] for p in track], dtype=np.float64)
    distance = haversine_m(lon, lat, np.full_like(lon, point.lon), np.full_like(lat, point.lat))
    dwell, slack = timedelta(minutes=point.dwell_min), timedelta(seconds=slack_s)
    run: list[int] = []
    for i, (when, _, _) in enumerate(track):
        joined = run and (when - track[run[-1]][0]).total_seconds() <= max_gap_s
        if distance[i] > point.radius_m + margin_m or not joined:
            run = []
        if distance[i] <= point.radius_m + margin_m:
            run.append(i)
        if not run:
            continue
        first, last = track[run[0]][0], track[run[-1]][0]
        reached = any(distance[k] <= point.radius_m for k in run)
        if reached and first <= at and last >= at - slack and last - first >= dwell:
            return first
    return None
