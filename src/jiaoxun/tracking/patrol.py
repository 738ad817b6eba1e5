"""Patrol duty: check-ins at mandatory points and coverage of mandatory lines.

A mandatory point (必巡点) is like a night watchman's clock station: a visit counts when the car
stays within the point's radius, fix after fix, for the dwell time; one check-in is emitted per
visit, at the fix that completes the dwell. Leaving the radius ends the visit, and so does a gap
between fixes longer than `max_gap_s` (nobody knows where the car was meanwhile): coming back is a
new visit. An officer can also check in by hand, when standing close enough.

A mandatory line (必巡线) is a list of directed road edges; both directions of a two-way road
count as the same stretch. Coverage is the share of the line's length actually driven, found
from the road-snapped track: consecutive fixes on one stretch cover the part between them;
consecutive fixes on stretches that meet at a node cover the rest of the first and the start of
the second; fixes farther apart (not adjacent, or a gap over `max_gap_s`) cover nothing between
them, as the way driven is unknown. Driven portions are intervals of edge fractions, keyed by
the stretch's lower edge id (the one `Snapper` snaps to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import pyproj
import shapely

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import Ints, RoadNetwork
from jiaoxun.geo.osm import haversine_m
from jiaoxun.tracking.geofence import local_xy

#: Driven portions: stretch (lower edge id of a two-way road) -> sorted disjoint fraction intervals.
Portions = Mapping[int, tuple[tuple[float, float], ...]]


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


@dataclass(frozen=True)
class MandatoryLine:
    """A mandatory patrol line (必巡线): directed network edges in driving order."""

    id: int
    edges: tuple[int, ...]
    zone: str = ""


@dataclass(frozen=True)
class CheckIn:
    """One visit to a mandatory point. `left_at` is the last fix inside, once known."""

    point_id: int
    unit: str
    arrived_at: datetime
    checked_in_at: datetime
    left_at: datetime | None = None
    manual: bool = False


@dataclass(frozen=True)
class Visit:
    """A stay within a point's radius, in progress."""

    point_id: int
    arrived_at: datetime
    last_at: datetime
    checked_in_at: datetime | None = None


@dataclass(frozen=True)
class CheckInState:
    """What the tracker remembers of one unit: its last fix time and its visits in progress."""

    last_at: datetime
    visits: tuple[Visit, ...] = ()


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

    def inside(self, lon: float, lat: float) -> tuple[int, ...]:
        """Ids of the points whose radius holds a WGS-84 position."""
        x, y = self.xy.transform(lon, lat)
        return tuple(self.points[i].id for i in self.inside_xy(x, y))


class CheckInTracker:
    """Check-ins from the fixes of one unit at a time (see the module docstring).

    `update` is pure: previous state in (None for a unit not seen yet), new state and the
    check-ins completed by this fix out. A fix not later than the previous one is ignored.
    """

    def __init__(self, fence: PointFence, *, max_gap_s: float = 300.0) -> None:
        if not max_gap_s > 0:
            raise InvalidInput(f"max_gap_s(={max_gap_s}) must be > 0")
        self.fence = fence
        self.max_gap_s = max_gap_s

    def update(
        self, state: CheckInState | None, unit: str, lon: float, lat: float, at: datetime
    ) -> tuple[CheckInState, tuple[CheckIn, ...]]:
        """The new state of `unit` seen at WGS-84 (lon, lat) at `at`, and its new check-ins."""
        x, y = self.fence.xy.transform(lon, lat)
        return self.update_xy(state, unit, float(x), float(y), at)

    def update_xy(
        self, state: CheckInState | None, unit: str, x: float, y: float, at: datetime
    ) -> tuple[CheckInState, tuple[CheckIn, ...]]:
        """`update` for a position already projected with the fence's `xy`."""
        if state is not None and at <= state.last_at:
            return state, ()
        open_visits = {}
        if state is not None and (at - state.last_at).total_seconds() <= self.max_gap_s:
            open_visits = {v.point_id: v for v in state.visits}
        visits, check_ins = [], []
        for i in self.fence.inside_xy(x, y):
            point = self.fence.points[i]
            visit = open_visits.get(point.id) or Visit(point.id, arrived_at=at, last_at=at)
            visit = replace(visit, last_at=at)
            if visit.checked_in_at is None and at - visit.arrived_at >= self.fence.dwell[i]:
                visit = replace(visit, checked_in_at=at)
                check_ins.append(CheckIn(point.id, unit, visit.arrived_at, at))
            visits.append(visit)
        return CheckInState(at, tuple(visits)), tuple(check_ins)

    def replay_xy(
        self, unit: str, x: Sequence[float], y: Sequence[float], at: Sequence[datetime]
    ) -> tuple[CheckIn, ...]:
        """Every check-in of a whole track (projected, in time order), with `left_at` filled
        for the visits that ended before the track did."""
        state: CheckInState | None = None
        done: list[CheckIn] = []
        checked: dict[tuple[int, datetime], CheckIn] = {}
        for xi, yi, ti in zip(x, y, at, strict=True):
            before = {(v.point_id, v.arrived_at): v for v in state.visits} if state else {}
            state, new = self.update_xy(state, unit, xi, yi, ti)
            checked.update({(c.point_id, c.arrived_at): c for c in new})
            ongoing = {(v.point_id, v.arrived_at) for v in state.visits}
            for key in [k for k in checked if k not in ongoing]:
                done.append(replace(checked.pop(key), left_at=before[key].last_at))
        return tuple(sorted([*done, *checked.values()], key=lambda c: c.checked_in_at))


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


# -- line coverage ----------------------------------------------------------------------------


def stretch(network: RoadNetwork, edge: int, fraction: float = 0.0) -> tuple[int, float]:
    """The stretch of a directed edge (its lower id with its twin) and the fraction on it."""
    twin = int(network.edge_twin[edge])
    if 0 <= twin < edge:
        return twin, 1.0 - fraction
    return edge, fraction


def _between(
    network: RoadNetwork, a: tuple[int, float], b: tuple[int, float]
) -> list[tuple[int, float, float]]:
    """The pieces driven from stretch position `a` to `b`: nothing if they do not meet."""
    (ea, fa), (eb, fb) = a, b
    if ea == eb:
        return [(ea, min(fa, fb), max(fa, fb))]
    length = network.edge_length_m
    ends_b = {int(network.edge_tail[eb]): 0.0, int(network.edge_head[eb]): 1.0}
    best: tuple[float, float, float] | None = None
    for node, end_a in ((int(network.edge_tail[ea]), 0.0), (int(network.edge_head[ea]), 1.0)):
        if node in ends_b:
            end_b = ends_b[node]
            cost = abs(end_a - fa) * length[ea] + abs(end_b - fb) * length[eb]
            if best is None or cost < best[0]:
                best = (cost, end_a, end_b)
    if best is None:
        return []
    _, end_a, end_b = best
    return [(ea, min(fa, end_a), max(fa, end_a)), (eb, min(fb, end_b), max(fb, end_b))]


def _union(intervals: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def driven_portions(
    network: RoadNetwork,
    track: Iterable[tuple[int, float, datetime]],
    *,
    max_gap_s: float = 300.0,
) -> Portions:
    """The portions of road driven along a snapped track of (edge, fraction, time), time order.

    A fix off the road (edge -1) or a gap over `max_gap_s` seconds breaks the track.
    """
    pieces: dict[int, list[tuple[float, float]]] = {}
    prev: tuple[int, float, datetime] | None = None
    for edge, fraction, at in track:
        if edge < 0:
            prev = None
            continue
        here = (*stretch(network, edge, fraction), at)
        if prev is not None and (at - prev[2]).total_seconds() <= max_gap_s:
            for e, lo, hi in _between(network, prev[:2], here[:2]):
                pieces.setdefault(e, []).append((lo, hi))
        prev = here
    return {e: _union(v) for e, v in pieces.items()}


def merge_portions(*portions: Portions) -> Portions:
    """The union of the portions driven by several tracks (the cars of a zone)."""
    pieces: dict[int, list[tuple[float, float]]] = {}
    for p in portions:
        for edge, intervals in p.items():
            pieces.setdefault(edge, []).extend(intervals)
    return {e: _union(v) for e, v in pieces.items()}


def driven_fractions(portions: Portions) -> dict[int, float]:
    """The fraction of each stretch driven."""
    return {e: float(sum(hi - lo for lo, hi in v)) for e, v in portions.items()}


def line_length_m(network: RoadNetwork, line_edges: Iterable[int]) -> float:
    """The length of a line in metres, a stretch listed in both directions counted once."""
    stretches = sorted({stretch(network, e)[0] for e in line_edges})
    return float(network.edge_length_m[stretches].sum())


def line_coverage(
    network: RoadNetwork,
    line_edges: Sequence[int],
    driven: AbstractSet[int] | Mapping[int, float],
) -> float:
    """The share of a line's length driven, in [0, 1].

    Parameters
    ----------
    network : the road network (edge lengths in metres).
    line_edges : the line's directed edges; a stretch listed in both directions counts once.
    driven : edges driven whole (a set), or the fraction of each edge driven (a mapping, as
        from `driven_fractions`); either direction of a two-way road stands for the stretch.
    """
    if not line_edges:
        raise InvalidInput("a patrol line needs at least one edge, got 0")
    share: dict[int, float] = {}
    items = driven.items() if isinstance(driven, Mapping) else ((e, 1.0) for e in driven)
    for edge, fraction in items:
        key = stretch(network, edge)[0]
        share[key] = max(share.get(key, 0.0), min(max(fraction, 0.0), 1.0))
    stretches = sorted({stretch(network, e)[0] for e in line_edges})
    lengths = network.edge_length_m[stretches]
    shares = np.array([share.get(s, 0.0) for s in stretches])
    total_m = float(lengths.sum())
    if total_m <= 0:
        return float(shares.mean())
    return float((lengths * shares).sum() / total_m)
