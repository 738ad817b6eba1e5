"""A hand-made block written as a real PBF file, where every road ETA can be worked out by hand.

Four streets at 36 km/h (10 m/s) around a 1000 m x 200 m block near (126.6, 45.75):

    D ---------------> C      North Street, one-way D -> C (100 s)
    |                  |
    A ---------------- B      Main Street, two-way (100 s); West and East Lane two-way (20 s)

A is the origin; x runs east, y north, in metres. An incident on North Street at x = 400 is
reached from Main Street at x by going west: x / 10 + 20 + 40 seconds; from North Street past
it, only by going all the way round. Helpers reach the tests through fixtures, not imports.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import osmium
import pytest
from osmium.osm.mutable import Node, Way

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.table import node_table
from jiaoxun.geo.travel import TravelTimes

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
LON0, LAT0 = 126.6, 45.75
MAX_SNAP_M = 100.0

LonLat = tuple[float, float]

NODES = {1: (0.0, 0.0), 2: (1000.0, 0.0), 3: (1000.0, 200.0), 4: (0.0, 200.0)}
STREET = {"highway": "residential", "maxspeed": "36"}
WAYS = [
    (201, [1, 2], {**STREET, "name": "Main Street"}),
    (202, [4, 3], {**STREET, "name": "North Street", "oneway": "yes"}),
    (203, [1, 4], {**STREET, "name": "West Lane"}),
    (204, [2, 3], {**STREET, "name": "East Lane"}),
]


def at(x_m: float, y_m: float) -> LonLat:
    """(lon, lat) `x_m` east and `y_m` north of corner A, on the 1e-7° grid of OSM."""
    lon = LON0 + x_m / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    lat = LAT0 + y_m / M_PER_DEG_LAT
    return round(lon * 1e7) / 1e7, round(lat * 1e7) / 1e7


def write_block(path: Path) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (x, y) in sorted(NODES.items()):
            writer.add_node(Node(id=node_id, location=at(x, y), tags={}))
        for way_id, refs, tags in WAYS:
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags))
    return path


def with_island(network: RoadNetwork, a: LonLat, b: LonLat) -> RoadNetwork:
    """`network` plus a two-way road from `a` to `b` that joins nothing.

    An extract read by `network_from_pbf` keeps only roads a car can both enter and leave; a
    network from elsewhere may not, and then a unit can be out of reach.
    """
    n, e = network.n_nodes, network.n_edges
    geom_n = len(network.geom_lon)
    return dataclasses.replace(
        network,
        node_lon=np.append(network.node_lon, [a[0], b[0]]),
        node_lat=np.append(network.node_lat, [a[1], b[1]]),
        edge_tail=np.append(network.edge_tail, [n, n + 1]),
        edge_head=np.append(network.edge_head, [n + 1, n]),
        edge_length_m=np.append(network.edge_length_m, [200.0, 200.0]),
        edge_speed_kph=np.append(network.edge_speed_kph, [36.0, 36.0]),
        edge_travel_time_s=np.append(network.edge_travel_time_s, [20.0, 20.0]),
        edge_road_class=np.append(network.edge_road_class, network.edge_road_class[:2]),
        edge_name=np.append(network.edge_name, [-1, -1]),
        edge_twin=np.append(network.edge_twin, [e + 1, e]),
        edge_osm_way=np.append(network.edge_osm_way, [999, 999]),
        geom_start=np.append(network.geom_start, [geom_n + 2, geom_n + 4]),
        geom_lon=np.append(network.geom_lon, [a[0], b[0], b[0], a[0]]),
        geom_lat=np.append(network.geom_lat, [a[1], b[1], b[1], a[1]]),
    )


@pytest.fixture(scope="session")
def place() -> Callable[[float, float], LonLat]:
    """(lon, lat) of the point x metres east and y metres north of corner A."""
    return at


@pytest.fixture(scope="session")
def block(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    pbf = write_block(tmp_path_factory.mktemp("block") / "block.osm.pbf")
    return network_from_pbf(pbf, cache=False)


@pytest.fixture(scope="session", params=["search", "table"])
def block_times(block: RoadNetwork, request: pytest.FixtureRequest) -> TravelTimes:
    """The block's travel times, answered by Dijkstra searches and again by the node table."""
    times = TravelTimes(block, max_snap_m=MAX_SNAP_M)
    if request.param == "table":
        times.use_table(node_table(times))
    return times


@pytest.fixture(scope="session")
def island_times(block: RoadNetwork) -> TravelTimes:
    """The block plus a road 2 km to the east that no car can drive to or from."""
    return TravelTimes(with_island(block, at(3000, 0), at(3200, 0)), max_snap_m=MAX_SNAP_M)
