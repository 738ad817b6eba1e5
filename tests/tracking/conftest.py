"""A hand-made rectangle of roads written as a real PBF file, and a pair of square zones on it.

Five two-way residential roads near (126.6, 45.75); x runs east, y north, in metres:

    5 ---------------------- 4        y = 400
    |                        |
    1 ---------- 2 --------- 3        y = 0
    x = 0       400         800

Zone A is the 1 km square [-600, 400] x [-300, 700], zone B the square [400, 1400] x the same:
their shared border is the line x = 400. Shift time 0 is 08:00 UTC. Helpers reach the tests
through fixtures, not imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import osmium
import pytest
import shapely
from osmium.osm.mutable import Node, Way

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snapper
from jiaoxun.tracking.geofence import ZoneFences

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
LON0, LAT0 = 126.6, 45.75
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

LonLat = tuple[float, float]

NODES = {1: (0.0, 0.0), 2: (400.0, 0.0), 3: (800.0, 0.0), 4: (800.0, 400.0), 5: (0.0, 400.0)}
ROAD = {"highway": "residential"}
WAYS = [(301, [1, 2]), (302, [2, 3]), (303, [3, 4]), (304, [4, 5]), (305, [5, 1])]


def at(x_m: float, y_m: float) -> LonLat:
    """(lon, lat) `x_m` east and `y_m` north of node 1, on the 1e-7° grid of OSM."""
    lon = LON0 + x_m / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    lat = LAT0 + y_m / M_PER_DEG_LAT
    return round(lon * 1e7) / 1e7, round(lat * 1e7) / 1e7


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle given in metres, as a lon/lat polygon."""
    return shapely.Polygon([at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1)])


@dataclass(frozen=True)
class Fix:
    """A fix as the pipeline keeps it (see `jiaoxun.tracking.compliance.TrackFix`)."""

    at: datetime
    lon: float
    lat: float
    edge: int = -1
    fraction: float = 0.0


@pytest.fixture(scope="session")
def place() -> Callable[[float, float], LonLat]:
    """(lon, lat) of the point x metres east and y metres north of node 1."""
    return at


@pytest.fixture(scope="session")
def rectangle() -> Callable[[float, float, float, float], shapely.Polygon]:
    """A lon/lat polygon from x0, y0, x1, y1 in metres."""
    return box


@pytest.fixture(scope="session")
def clock() -> Callable[[float], datetime]:
    """The time `s` seconds into the shift."""
    return lambda s: T0 + timedelta(seconds=s)


@pytest.fixture
def fences() -> ZoneFences:
    return ZoneFences.from_polygons(
        ["A", "B"], [box(-600, -300, 400, 700), box(400, -300, 1400, 700)], hysteresis_m=30.0
    )


@pytest.fixture(scope="session")
def roads(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    path = tmp_path_factory.mktemp("rectangle") / "rectangle.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (x, y) in sorted(NODES.items()):
            writer.add_node(Node(id=node_id, location=at(x, y), tags={}))
        for way_id, refs in WAYS:
            writer.add_way(Way(id=way_id, nodes=refs, tags=ROAD))
    return network_from_pbf(path, cache=False)


@pytest.fixture(scope="session")
def edge(roads: RoadNetwork) -> Callable[[int, int], int]:
    """The directed edge from drawn node `a` to drawn node `b`."""

    def node(osm_id: int) -> int:
        lon, lat = at(*NODES[osm_id])
        (i,) = np.flatnonzero((np.abs(roads.node_lon - lon) + np.abs(roads.node_lat - lat)) < 1e-9)
        return int(i)

    def find(a: int, b: int) -> int:
        (e,) = np.flatnonzero((roads.edge_tail == node(a)) & (roads.edge_head == node(b)))
        return int(e)

    return find


@pytest.fixture(scope="session")
def track(roads: RoadNetwork) -> Callable[[Sequence[tuple[float, float, float]]], list[Fix]]:
    """Fixes from (seconds into the shift, x, y), snapped to the roads (edge -1 beyond 50 m)."""
    snapper = Snapper(roads, max_snap_m=50.0)

    def make(script: Sequence[tuple[float, float, float]]) -> list[Fix]:
        lon, lat = np.array([at(x, y) for _, x, y in script]).T
        snaps = snapper.snap_many(lon, lat, strict=False)
        return [
            Fix(
                at=T0 + timedelta(seconds=s),
                lon=float(lon[i]),
                lat=float(lat[i]),
                edge=int(snaps.edge[i]) if snaps.distance_m[i] <= 50.0 else -1,
                fraction=float(snaps.fraction[i]),
            )
            for i, (s, _, _) in enumerate(script)
        ]

    return make
