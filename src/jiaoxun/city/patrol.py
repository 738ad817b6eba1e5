"""Choose a city's mandatory patrol lines (必巡线) and patrol points (必巡点), zone by zone.

A patrol line is a drivable stretch of one named main road inside one zone, about a kilometre or
two long, followed edge by edge as straight as the road goes. A patrol point is a real school,
hospital, square, station, bank or market inside a zone, with a check-in radius and dwell time
fitting its kind. Lines and points are shared out among zones in proportion to their main-road
length and their places, and the same network always gives the same choice. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jiaoxun.geo.network import ROAD_CLASSES, RoadNetwork
from jiaoxun.geo.places import Place
from jiaoxun.geo.travel import TravelTimes

_MAIN_ROADS = tuple(
    ROAD_CLASSES.index(c) for c in ("trunk", "primary", "secondary", "tertiary", "motorway")
)
# where a zone has too few main roads, its lines may follow these named streets
_OTHER_ROADS = tuple(ROAD_CLASSES.index(c) for c in ("unclassified", "residential"))
_LINE_TARGET_M = 1500.0
_LINE_MIN_M = 300.0

#: check-in radius (m), dwell (minutes) and visits per shift by kind of place
POINT_RULES: dict[str, tuple[float, float, int]] = {
    "school": (80.0, 10.0, 2),
    "hospital": (100.0, 5.0, 2),
    "square": (120.0, 10.0, 2),
    "station": (100.0, 10.0, 2),
    "bank": (50.0, 3.0, 1),
    "market": (80.0, 5.0, 1),
    "key_site": (80.0, 5.0, 1),
}
#: daily windows that each need a visit, by kind of place: a school's gates open and close
POINT_WINDOWS: dict[str, tuple[tuple[str, str], ...]] = {
    "school": (("07:00", "08:00"), ("16:30", "17:30")),
}
#: patrol points of these kinds make their surroundings a key site (重点部位), within this radius:
#: the 1-minute response tier applies there
KEY_SITE_KINDS = frozenset({"key_site", "station", "hospital", "school", "bank"})
KEY_SITE_RADIUS_M = 200.0
_POINT_KIND_ORDER = ("hospital", "school", "station", "square", "bank", "market", "key_site")
_POINT_MIN_SPACING_M = 150.0


@dataclass(frozen=True)
class PatrolLinePlan:
    name: str
    zone: int
    edges: tuple[int, ...]
    length_m: float
    coords: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PatrolPointPlan:
    name: str
    kind: str
    zone: int
    lon: float
    lat: float
    radius_m: float
    dwell_min: float
    visits_per_shift: int
    osm_ref: str
    windows: tuple[tuple[str, str], ...] = ()


def share_out(
    total: int, weights: NDArray[np.float64], capacity: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Split `total` into integers proportional to `weights`, none above its `capacity`.

    Largest remainders first; what a full share cannot take goes to the others in proportion.
    """
    counts = np.zeros(len(weights), dtype=np.int64)
    target = min(total, int(capacity.sum()))
    while counts.sum() < target:
        spare = counts < capacity
        left = target - int(counts.sum())
        w = np.where(spare, weights, 0.0)
        exact = left * (w / w.sum() if w.sum() > 0 else spare / spare.sum())
        add = np.floor(exact).astype(np.int64)
        add[np.argsort(-(exact - add), kind="stable")[: left - int(add.sum())]] += 1
        counts += np.minimum(add, capacity - counts)
    return counts


def _heading(network: RoadNetwork, edge: int, *, at_end: bool) -> float:
    coords = network.edge_coords(edge)
    a, b = (coords[-2], coords[-1]) if at_end else (coords[0], coords[1])
    dx = (b[0] - a[0]) * np.cos(np.radians(a[1]))
    return float(np.arctan2(b[1] - a[1], dx))


class _LineWalker:
    """Walks along named main roads, edge after edge, to make patrol lines."""

    def __init__(self, network: RoadNetwork, node_zone: NDArray[np.int64]) -> None:
        self.network = network
        self.node_zone = node_zone
        order = np.argsort(network.edge_tail, kind="stable")
        self.out_edges = order
        self.out_start = np.concatenate(
            [[0], np.cumsum(np.bincount(network.edge_tail, minlength=network.n_nodes))]
        )
        self.used = np.zeros(network.n_edges, dtype=bool)

    def usable(self, edge: int, zone: int, classes: tuple[int, ...] = _MAIN_ROADS) -> bool:
        net = self.network
        return (
            not self.used[edge]
            and net.edge_name[edge] >= 0
            and net.edge_road_class[edge] in classes
            and self.node_zone[net.edge_tail[edge]] == zone
            and self.node_zone[net.edge_head[edge]] == zone
        )

    def walk(self, start: int, zone: int) -> list[int]:
        net = self.network
        path, length = [start], float(net.edge_length_m[start])
        self._use(start)
        while length < _LINE_TARGET_M:
            last = path[-1]
            head = net.edge_head[last]
            options = [
                int(e)
                for e in self.out_edges[self.out_start[head] : self.out_start[head + 1]]
                if net.edge_name[e] == net.edge_name[last]
                and self.usable(int(e), zone, (int(net.edge_road_class[e]),))
            ]
            if not options:
                break
            here = _heading(net, last, at_end=True)
            turn = [
                abs(np.angle(np.exp(1j * (_heading(net, e, at_end=False) - here)))) for e in options
            ]
            best = options[int(np.argmin(turn))]
            if min(turn) > np.radians(60):
                break  # the road turns off: end the line rather than follow a corner
            path.append(best)
            length += float(net.edge_length_m[best])
            self._use(best)
        return path

    def _use(self, edge: int) -> None:
        self.used[edge] = True
        twin = self.network.edge_twin[edge]
        if twin >= 0:
            self.used[twin] = True


def choose_lines(
    network: RoadNetwork, node_zone: NDArray[np.int64], *, count: int
) -> list[PatrolLinePlan]:
    """Pick `count` patrol lines along named roads, main roads first, shared out among zones
    by their road length."""
    n_zones = int(node_zone.max()) + 1
    road_length = np.bincount(
        node_zone[network.edge_tail], weights=network.edge_length_m, minlength=n_zones
    ).astype(np.float64)
    walker = _LineWalker(network, node_zone)
    # start from the most important, then the longest stretches
    order = np.lexsort(
        (np.arange(network.n_edges), -network.edge_length_m, network.edge_road_class)
    )
    by_zone: list[list[list[int]]] = [[] for _ in range(n_zones)]
    for zone in range(n_zones):
        for classes in (_MAIN_ROADS, _OTHER_ROADS):
            for start in order:
                if walker.usable(int(start), zone, classes):
                    path = walker.walk(int(start), zone)
                    if network.edge_length_m[path].sum() >= _LINE_MIN_M:
                        by_zone[zone].append(path)
    capacity = np.array([len(z) for z in by_zone], dtype=np.int64)
    quota = share_out(count, road_length, capacity)
    lines: list[PatrolLinePlan] = []
    for zone, paths in enumerate(by_zone):
        for i, path in enumerate(paths[: quota[zone]]):
            coords = np.vstack([network.edge_coords(e) for e in path])
            lines.append(
                PatrolLinePlan(
                    name=f"{network.names[network.edge_name[path[0]]]} {i + 1}",
                    zone=zone,
                    edges=tuple(path),
                    length_m=float(network.edge_length_m[path].sum()),
                    coords=tuple((round(x, 7), round(y, 7)) for x, y in coords),
                )
            )
    return lines


def choose_points(
    travel_times: TravelTimes,
    places: Sequence[Place],
    node_zone: NDArray[np.int64],
    *,
    count: int,
) -> list[PatrolPointPlan]:
    """Pick `count` patrol points among real places, kinds taken in turn within each zone."""
    fit = [p for p in places if p.kind in POINT_RULES]
    snaps = travel_times.snap_many(
        np.array([p.lon for p in fit]), np.array([p.lat for p in fit]), strict=False
    )
    near_road = snaps.distance_m <= 200.0
    zone_of = node_zone[travel_times.network.edge_tail[snaps.edge]]
    n_zones = int(node_zone.max()) + 1
    by_zone: list[list[Place]] = [[] for _ in range(n_zones)]
    for place, zone, ok in zip(fit, zone_of, near_road, strict=True):
        if ok:
            by_zone[int(zone)].append(place)
    ordered = [_in_turn(candidates) for candidates in by_zone]
    capacity = np.array([len(z) for z in ordered], dtype=np.int64)
    quota = share_out(count, capacity.astype(np.float64), capacity)
    points: list[PatrolPointPlan] = []
    for zone, chosen in enumerate(ordered):
        for place in chosen[: quota[zone]]:
            radius, dwell, visits = POINT_RULES[place.kind]
            points.append(
                PatrolPointPlan(
                    name=place.name,
                    kind=place.kind,
                    zone=zone,
                    lon=place.lon,
                    lat=place.lat,
                    radius_m=radius,
                    dwell_min=dwell,
                    visits_per_shift=visits,
                    osm_ref=place.osm_ref,
                    windows=POINT_WINDOWS.get(place.kind, ()),
                )
            )
    return points


def _in_turn(candidates: list[Place]) -> list[Place]:
    """Places one kind after another, larger places first, none too close to an earlier one."""
    queues = {
        kind: sorted((p for p in candidates if p.kind == kind), key=lambda p: -p.area_m2)
        for kind in _POINT_KIND_ORDER
    }
    chosen: list[Place] = []
    while any(queues.values()):
        for kind in _POINT_KIND_ORDER:
            while queues[kind]:
                place = queues[kind].pop(0)
                if all(_far_enough(place, other) for other in chosen):
                    chosen.append(place)
                    break
    return chosen


def _far_enough(a: Place, b: Place) -> bool:
    dx = (a.lon - b.lon) * 111_320 * np.cos(np.radians(a.lat))
    dy = (a.lat - b.lat) * 110_540
    return bool(np.hypot(dx, dy) >= _POINT_MIN_SPACING_M and a.name != b.name)
