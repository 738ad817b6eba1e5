"""Districting on a straight street written as a real PBF file, and on the Harbin extract.

The street runs north from (126.6, 45.75): ten nodes 0..9, 100 m apart, two-way, ``maxspeed=36``
(10 m/s), so each block takes 10 s. Kiosks stand at node 0 (zone 0) and node 9 (zone 1).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
import shapely
from osmium.osm.mutable import Node, Way

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.planning.districting import (
    HULL_BUFFER_M,
    Districting,
    districts_from_kiosks,
    zone_polygons,
)

# the real Harbin extract the tests ship (tests/data/README.md)
HARBIN_PBF = Path(__file__).parents[1] / "data" / "harbin.osm.pbf"
LON0, LAT0 = 126.6, 45.75
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180
BLOCK_M, BLOCK_S = 100.0, 10.0


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> TravelTimes:
    path = tmp_path_factory.mktemp("street") / "street.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(10):
            writer.add_node(Node(id=i + 1, location=(LON0, LAT0 + i * BLOCK_M / M_PER_DEG_LAT)))
        # one way per block, so that every node is an intersection of the network
        for i in range(9):
            tags = {"highway": "residential", "maxspeed": "36"}
            writer.add_way(Way(id=100 + i, nodes=[i + 1, i + 2], tags=tags))
    network = network_from_pbf(path, cache=False)
    assert np.all(np.diff(network.node_lat) > 0), "nodes 0..9 run south to north"
    return TravelTimes(network)


def kiosks_at(travel_times: TravelTimes, nodes: list[int]) -> Snaps:
    net = travel_times.network
    return travel_times.snap_many(net.node_lon[nodes], net.node_lat[nodes])


def in_metres(travel_times: TravelTimes, geometry: shapely.Geometry) -> shapely.Geometry:
    to_xy = travel_times.snapper.to_xy
    return shapely.transform(geometry, lambda xy: np.column_stack(to_xy.transform(*xy.T)))


def assert_tiles(travel_times: TravelTimes, result: Districting) -> None:
    """Polygons are valid and do not overlap: their union is as large as their areas together."""
    polygons = [in_metres(travel_times, p) for p in result.polygons]
    assert all(shapely.is_valid(polygons))
    areas = [z.area_m2 for z in result.zone_stats]
    assert shapely.area(polygons) == pytest.approx(areas)
    assert shapely.union_all(polygons).area == pytest.approx(sum(areas), rel=1e-9)


def test_each_node_goes_to_the_nearer_kiosk(street: TravelTimes) -> None:
    result = districts_from_kiosks(street, kiosks_at(street, [0, 9]))

    assert result.node_zone.tolist() == [0] * 5 + [1] * 5
    expected_s = BLOCK_S * np.array([0, 1, 2, 3, 4, 4, 3, 2, 1, 0])
    assert result.node_travel_time_s == pytest.approx(expected_s, abs=1e-2)
    assert (result.iterations, result.balanced) == (1, False)
    assert result.handicap_s.tolist() == [0.0, 0.0]


def test_a_start_offset_delays_a_kiosk(street: TravelTimes) -> None:
    late_s = np.array([0.0, 25.0])
    dist, which = street.nearest_origin(kiosks_at(street, [0, 9]), start_offset_s=late_s)

    assert which.tolist() == [0] * 6 + [1] * 4
    expected_s = [0, 10, 20, 30, 40, 50, 25 + 30, 25 + 20, 25 + 10, 25 + 0]
    assert dist == pytest.approx(expected_s, abs=1e-2)


def test_zone_stats_are_the_hand_computed_ones(street: TravelTimes) -> None:
    result = districts_from_kiosks(street, kiosks_at(street, [0, 9]))

    # 4 blocks inside each zone and half of the block 4-5 on the boundary
    for z, stats in enumerate(result.zone_stats):
        assert stats.zone == z
        assert stats.road_length_m == pytest.approx(4.5 * BLOCK_M, abs=0.1)
        assert stats.max_travel_time_s == pytest.approx(4 * BLOCK_S, abs=1e-2)
        assert stats.mean_travel_time_s == pytest.approx(2 * BLOCK_S, abs=1e-2)
        assert stats.workload == 5.0
    total_m = sum(z.road_length_m for z in result.zone_stats)
    assert total_m == pytest.approx(street.network.road_km * 1000, rel=1e-12)


def street_area_m2(length_m: float) -> float:
    """Area of a stretch of street buffered by 200 m with one rounded end (a half 32-gon)."""
    r = HULL_BUFFER_M
    return length_m * 2 * r + 8 * r**2 * math.sin(2 * math.pi / 32)


def test_polygons_halve_the_buffered_street(street: TravelTimes) -> None:
    result = districts_from_kiosks(street, kiosks_at(street, [0, 9]))

    for stats in result.zone_stats:
        assert stats.area_m2 == pytest.approx(street_area_m2(4.5 * BLOCK_M), rel=1e-3)
    assert_tiles(street, result)
    net = street.network
    for node, zone in enumerate(result.node_zone):
        point = shapely.Point(net.node_lon[node], net.node_lat[node])
        assert result.polygons[zone].contains(point)


def test_zone_polygons_follow_a_given_assignment(street: TravelTimes) -> None:
    polygons = zone_polygons(street, np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]), n_zones=2)

    # the boundary lies halfway between nodes 2 and 3, 250 m north of node 0
    south, north = (in_metres(street, p) for p in polygons)
    assert south.area == pytest.approx(street_area_m2(2.5 * BLOCK_M), rel=1e-3)
    assert north.area == pytest.approx(street_area_m2(6.5 * BLOCK_M), rel=1e-3)


def test_balancing_moves_the_boundary_to_the_heavy_side(street: TravelTimes) -> None:
    # the north half is three times as busy: only 7 | 3 nodes is within ±15 % (11 and 9 calls)
    weight = np.array([1.0] * 5 + [3.0] * 5)
    result = districts_from_kiosks(
        street, kiosks_at(street, [0, 9]), node_weight=weight, balance_tolerance=0.15
    )

    assert result.balanced
    assert result.node_zone.tolist() == [0] * 7 + [1] * 3
    assert [z.workload for z in result.zone_stats] == [11.0, 9.0]
    # times are from the zone's own kiosk, without the handicap
    assert result.zone_stats[0].max_travel_time_s == pytest.approx(6 * BLOCK_S, abs=1e-2)
    assert result.zone_stats[1].max_travel_time_s == pytest.approx(2 * BLOCK_S, abs=1e-2)
    assert 3 * BLOCK_S < result.handicap_s[1] - result.handicap_s[0] < 5 * BLOCK_S
    assert_tiles(street, result)


def test_balancing_reports_when_it_does_not_converge(street: TravelTimes) -> None:
    # one node carries everything: no boundary can balance it
    weight = np.zeros(10)
    weight[4] = 1.0
    result = districts_from_kiosks(
        street,
        kiosks_at(street, [0, 9]),
        node_weight=weight,
        balance_tolerance=0.15,
        max_iterations=5,
    )

    assert (result.balanced, result.iterations) == (False, 5)
    assert (result.node_zone >= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"node_weight": np.ones(3)}, "one value per node"),
        ({"node_weight": -np.ones(10)}, ">= 0"),
        ({"balance_tolerance": 0.0}, "balance_tolerance"),
        ({"balance_tolerance": 0.1, "max_iterations": 0}, "max_iterations"),
        ({"node_weight": np.zeros(10), "balance_tolerance": 0.1}, "> 0 somewhere"),
    ],
)
def test_bad_input_is_refused(street: TravelTimes, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        districts_from_kiosks(street, kiosks_at(street, [0, 9]), **kwargs)


# -- the real extract ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harbin(tmp_path_factory: pytest.TempPathFactory) -> TravelTimes:
    network = network_from_pbf(HARBIN_PBF, cache_dir=tmp_path_factory.mktemp("cache"))
    return TravelTimes(network)


def spread_nodes(network: RoadNetwork) -> list[int]:
    """The nodes nearest to the points of a 3 x 3 grid inside the network's bounds."""
    west, south, east, north = network.bounds()
    squash = math.cos(math.radians((south + north) / 2))
    nodes = []
    for lat, lon in itertools.product(
        np.linspace(south, north, 5)[1:-1], np.linspace(west, east, 5)[1:-1]
    ):
        d2 = ((network.node_lon - lon) * squash) ** 2 + (network.node_lat - lat) ** 2
        nodes.append(int(np.argmin(d2)))
    return nodes


def test_harbin_nine_kiosks(harbin: TravelTimes) -> None:
    kiosks = kiosks_at(harbin, spread_nodes(harbin.network))
    result = districts_from_kiosks(harbin, kiosks)

    assert (result.node_zone >= 0).all()
    assert np.bincount(result.node_zone, minlength=9).min() > 0
    assert np.isfinite(result.node_travel_time_s).all()
    total_m = sum(z.road_length_m for z in result.zone_stats)
    assert total_m == pytest.approx(harbin.network.road_km * 1000, rel=1e-9)
    assert all(
        z.area_m2 > 0 and z.max_travel_time_s > z.mean_travel_time_s > 0 for z in result.zone_stats
    )
    assert_tiles(harbin, result)


def test_harbin_balanced(harbin: TravelTimes) -> None:
    kiosks = kiosks_at(harbin, spread_nodes(harbin.network))
    # calls concentrate in the centre
    net = harbin.network
    east_m = (net.node_lon - net.node_lon.mean()) * M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    north_m = (net.node_lat - net.node_lat.mean()) * M_PER_DEG_LAT
    weight = 0.2 + np.exp(-(east_m**2 + north_m**2) / 4000**2)

    result = districts_from_kiosks(harbin, kiosks, node_weight=weight, balance_tolerance=0.15)

    assert result.balanced
    workload = np.array([z.workload for z in result.zone_stats])
    assert np.abs(workload / workload.mean() - 1).max() <= 0.15
    assert workload.sum() == pytest.approx(weight.sum())
    assert_tiles(harbin, result)
