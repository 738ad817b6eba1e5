"""Patrol duty: check-ins at mandatory points and coverage of mandatory lines.

A mandatory point (必巡点) is like a night watchman's clock station: a visit counts when the car
stays at the point for the dwell time; one check-in is emitted per visit, at the fix that
completes the dwell. The circle has hysteresis, like a thermostat: a visit starts at a fix within
the radius and lasts while the fixes stay within the radius plus a margin, so that GPS noise
around the edge neither ends it nor starts another; coming back within a minimum gap of leaving
resumes it (the time away is no dwell). A gap between fixes longer than the track's limit ends
it (nobody knows where the car was meanwhile). An officer can also check in by hand: proved
only when his unit's own track shows the stay (`proved_stay`).

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
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyproj
import shapely

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import Ints, RoadNetwork
from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.snap import Snapper
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
    #: local daily windows ("07:00", "08:00") each needing a visit; none: any time
    windows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MandatoryLine:
    """A mandatory patrol line (必巡线): directed network edges in driving order."""

    id: int
    edges: tuple[int, ...]
    zone: str = ""
    passes_per_shift: int = 1
    #: local daily windows ("07:00", "08:00") within which it must be driven; none: any time
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

    def within_xy(self, x: float, y: float, *, margin_m: float) -> list[tuple[int, float]]:
        """(index, distance in metres) of the points whose radius plus `margin_m` holds a
        projected position, by index."""
        r = self.max_radius_m + margin_m
        near = np.asarray(self.tree.query(shapely.box(x - r, y - r, x + r, y + r)), dtype=np.int64)
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
    ) -> tuple[CheckIn, ...]:
        """A fix of `unit` at projected (x, y), `joined` to the one before (no gap)."""
        fence = self.fence
        if not joined:  # nobody knows where the car was meanwhile: every stay ended
            visits.clear()
        near = fence.within_xy(x, y, margin_m=self.leave_margin_m)
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


#: for a stretch of a mandatory line, the stretches that run alongside it: (stretch, metres)
Alongside = Mapping[int, tuple[tuple[int, float], ...]]


def alongside(
    network: RoadNetwork,
    lines: Iterable[MandatoryLine],
    snapper: Snapper,
    *,
    within_m: float = 25.0,
    min_length_m: float = 40.0,
) -> dict[int, tuple[tuple[int, float], ...]]:
    """The road stretches that run alongside each stretch of the lines, within `within_m`.

    A dual carriageway's other half, a side road (辅路), an elevated road over the ground road
    or a tunnel under it are the same street to a patrol, and no GPS tells them apart. A
    stretch runs alongside when all of it lies within `within_m` of the line's stretch, it is
    at least `min_length_m` long (a cross street's stub is not), and it runs the same way or
    the opposite way (within 30°).
    """
    index = {int(e): i for i, e in enumerate(snapper.line_edge)}
    found: dict[int, tuple[tuple[int, float], ...]] = {}
    for key in sorted({stretch(network, e)[0] for line in lines for e in line.edges}):
        if key not in index:
            continue
        own = snapper.lines[index[key]]
        near = snapper.tree.query(own.buffer(within_m))
        beside = []
        for j in near.tolist():
            other_key = int(snapper.line_edge[j])
            other = snapper.lines[j]
            if other_key == key or other.length < min_length_m:
                continue
            probe = shapely.get_coordinates(shapely.segmentize(other, 10.0))
            if shapely.distance(shapely.points(probe), own).max() > within_m:
                continue
            if _parallel(own, other):
                beside.append((other_key, float(network.edge_length_m[other_key])))
        if beside:
            found[key] = tuple(beside)
    return found


def _parallel(own: shapely.LineString, other: shapely.LineString) -> bool:
    """Whether `other` runs along `own` one way or the other (within 30°) where it lies."""
    a, b = (shapely.get_coordinates(other)[i] for i in (0, -1))
    at = [own.project(shapely.Point(*p)) for p in (a, b)]
    if abs(at[1] - at[0]) < 1e-6:
        return False
    c, d = (np.array(own.interpolate(x).coords[0]) for x in at)
    u, v = b - a, d - c
    return bool(abs(u @ v) >= np.cos(np.radians(30)) * np.hypot(*u) * np.hypot(*v))


def line_coverage(
    network: RoadNetwork,
    line_edges: Sequence[int],
    driven: AbstractSet[int] | Mapping[int, float],
    *,
    beside: Alongside | None = None,
) -> float:
    """The share of a line's length driven, in [0, 1].

    Parameters
    ----------
    network : the road network (edge lengths in metres).
    line_edges : the line's directed edges; a stretch listed in both directions counts once.
    driven : edges driven whole (a set), or the fraction of each edge driven (a mapping, as
        from `driven_fractions`); either direction of a two-way road stands for the stretch.
    beside : the stretches alongside those of the line (`alongside`): their metres driven
        count for the line's stretch, up to its length.
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
    if beside:
        next_to = [
            sum(share.get(k, 0.0) * m for k, m in beside.get(s, ())) / max(length, 1e-9)
            for s, length in zip(stretches, lengths.tolist(), strict=True)
        ]
        shares = np.maximum(shares, np.minimum(next_to, 1.0))
    total_m = float(lengths.sum())
    if total_m <= 0:
        return float(shares.mean())
    return float((lengths * shares).sum() / total_m)
