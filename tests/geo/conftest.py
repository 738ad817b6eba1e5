"""A hand-made town written as a real PBF file, and the helpers to read its network back.

The town is a 3 x 3 grid of 400 m blocks near (126.6, 45.75) with a roundabout to the east:

    7 ---- 8 ---- 9 - - 60 (private)       one-way 7 -> 50 north: a dead end, dropped
    |      ^      |
    4 <--- 5 <--- 6 ---- 20 (roundabout 20 -> 21 -> 22 -> 23 -> 20) ---- 22 ---- 24
    |      ^      |
    1 -10- 2 ---- 3

Node 10 is a shape node of First Street (1-10-2-3). Middle Road (2 -> 5 -> 8) is ``oneway=yes``;
Second Street is drawn 4, 5, 6 with ``oneway=-1``. East Road (3-6-9) has ``maxspeed=60``, the
road 22-24 ``maxspeed=30 mph``. A footway (5-31-9), a parking aisle (7-30), a private road (9-60),
an island far away (40-41-42) and the dead end 7 -> 50 must all be left out.

Helpers reach the tests through fixtures (`plan`, `write_pbf`), not imports.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import pytest
from osmium.osm.mutable import Node, Relation, Way

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.table import node_table
from jiaoxun.geo.travel import TravelTimes

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
LON0, LAT0 = 126.6, 45.75

LonLat = tuple[float, float]
Nodes = dict[int, LonLat]
Ways = list[tuple[int, list[int], dict[str, str]]]
#: (relation id, members as (type "n" or "w", ref, role), tags)
Relations = list[tuple[int, list[tuple[str, int, str]], dict[str, str]]]


def at(east_m: float, north_m: float) -> LonLat:
    """(lon, lat) about `east_m`, `north_m` from the town origin, on the 1e-7° grid of OSM."""
    lon = LON0 + east_m / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    lat = LAT0 + north_m / M_PER_DEG_LAT
    return round(lon * 1e7) / 1e7, round(lat * 1e7) / 1e7


def haversine_m(a: LonLat, b: LonLat) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def write_pbf_file(
    path: Path, nodes: Nodes, ways: Ways, relations: Relations | None = None
) -> Path:
    """Write nodes, ways, then relations, sorted by id (the order OSM files keep) as a PBF
    file."""
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id in sorted(nodes):
            writer.add_node(Node(id=node_id, location=nodes[node_id], tags={}))
        for way_id, refs, tags in sorted(ways, key=lambda w: w[0]):
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags))
        for rel_id, members, tags in sorted(relations or [], key=lambda r: r[0]):
            writer.add_relation(Relation(id=rel_id, members=members, tags=tags))
    return path


RESIDENTIAL = {"highway": "residential"}
TWO_WAY = [(1, 2), (2, 3), (7, 8), (8, 9), (1, 4), (4, 7), (3, 6), (6, 9), (6, 20), (22, 24)]
ONE_WAY = [(2, 5), (5, 8), (6, 5), (5, 4), (20, 22), (22, 20)]


@dataclass(frozen=True)
class TownPlan:
    """The town as drawn, and lookups from its OSM ids into a built network."""

    nodes: Nodes = field(
        default_factory=lambda: {
            1: at(0, 0),
            2: at(400, 0),
            3: at(800, 0),
            4: at(0, 400),
            5: at(400, 400),
            6: at(800, 400),
            7: at(0, 800),
            8: at(400, 800),
            9: at(800, 800),
            10: at(200, -60),
            20: at(950, 400),
            21: at(1000, 350),
            22: at(1050, 400),
            23: at(1000, 450),
            24: at(1250, 400),
            30: at(-100, 800),
            31: at(600, 600),
            40: at(3000, 3000),
            41: at(3200, 3000),
            42: at(3200, 3200),
            50: at(0, 1000),
            60: at(900, 800),
        }
    )
    ways: Ways = field(
        default_factory=lambda: [
            (101, [1, 10, 2, 3], {**RESIDENTIAL, "name": "First Street"}),
            (102, [7, 8, 9], {**RESIDENTIAL, "name": "Third Street"}),
            (103, [1, 4, 7], RESIDENTIAL),
            (104, [3, 6, 9], {**RESIDENTIAL, "maxspeed": "60"}),
            (105, [2, 5, 8], {**RESIDENTIAL, "oneway": "yes"}),
            (106, [4, 5, 6], {**RESIDENTIAL, "oneway": "-1"}),
            (107, [6, 20], {"highway": "tertiary"}),
            (108, [20, 21, 22, 23, 20], {"highway": "tertiary", "junction": "roundabout"}),
            (109, [22, 24], {"highway": "primary", "maxspeed": "30 mph"}),
            (110, [5, 31, 9], {"highway": "footway"}),
            (111, [7, 30], {"highway": "service", "service": "parking_aisle"}),
            (112, [40, 41, 42], RESIDENTIAL),
            (113, [7, 50], {**RESIDENTIAL, "oneway": "yes"}),
            (114, [9, 60], {**RESIDENTIAL, "access": "private"}),
        ]
    )
    #: directed edges of the kept network as (OSM tail, OSM head)
    edges: frozenset[tuple[int, int]] = frozenset(
        {*TWO_WAY, *((b, a) for a, b in TWO_WAY), *ONE_WAY}
    )
    kept_nodes: frozenset[int] = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 22, 24})

    def osm_ids(self, network: RoadNetwork) -> list[int]:
        """The OSM id of every network node, found by its coordinates."""
        ids = []
        for lon, lat in zip(network.node_lon, network.node_lat, strict=True):
            (osm_id,) = [
                i for i, (x, y) in self.nodes.items() if abs(x - lon) + abs(y - lat) < 1e-9
            ]
            ids.append(osm_id)
        return ids

    def node(self, network: RoadNetwork, osm_id: int) -> int:
        return self.osm_ids(network).index(osm_id)

    def edge(self, network: RoadNetwork, tail: int, head: int) -> int:
        """The one directed edge from OSM node `tail` to OSM node `head`."""
        (edge,) = np.flatnonzero(
            (network.edge_tail == self.node(network, tail))
            & (network.edge_head == self.node(network, head))
        )
        return int(edge)

    def length_m(self, *osm_ids: int) -> float:
        """Length in metres of the polyline through the given nodes."""
        points = [self.nodes[i] for i in osm_ids]
        return sum(haversine_m(a, b) for a, b in itertools.pairwise(points))

    def between(self, a: int, b: int, fraction: float) -> LonLat:
        """The point `fraction` of the way along the straight road from node `a` to node `b`."""
        (lon_a, lat_a), (lon_b, lat_b) = self.nodes[a], self.nodes[b]
        return lon_a + fraction * (lon_b - lon_a), lat_a + fraction * (lat_b - lat_a)

    @staticmethod
    def north_of(point: LonLat, metres: float) -> LonLat:
        return point[0], point[1] + metres / M_PER_DEG_LAT


@pytest.fixture(scope="session")
def plan() -> TownPlan:
    return TownPlan()


@pytest.fixture(scope="session")
def write_pbf() -> Callable[..., Path]:
    return write_pbf_file


@pytest.fixture
def town_pbf(tmp_path: Path, plan: TownPlan) -> Path:
    return write_pbf_file(tmp_path / "town.osm.pbf", plan.nodes, plan.ways)


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory, plan: TownPlan) -> RoadNetwork:
    pbf = tmp_path_factory.mktemp("town") / "town.osm.pbf"
    return network_from_pbf(write_pbf_file(pbf, plan.nodes, plan.ways), cache=False)


@pytest.fixture(scope="session", params=["search", "table"])
def town_times(town: RoadNetwork, request: pytest.FixtureRequest) -> TravelTimes:
    """The town's travel times, answered by Dijkstra searches and again by the node table."""
    times = TravelTimes(town, max_snap_m=100.0)
    if request.param == "table":
        times.use_table(node_table(times))
    return times


# the real Harbin extract the tests ship (tests/data/README.md)
HARBIN_PBF = Path(__file__).parents[1] / "data" / "harbin.osm.pbf"


@pytest.fixture(scope="session")
def harbin(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    """The real Harbin extract, with its network cache in a temporary folder."""
    return network_from_pbf(HARBIN_PBF, cache_dir=tmp_path_factory.mktemp("harbin-cache"))
