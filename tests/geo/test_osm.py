"""Reading the drivable network from a PBF file: the hand-made town, the cache, bad input."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from jiaoxun.errors import DataSourceError
from jiaoxun.geo import osm
from jiaoxun.geo.network import ROAD_CLASSES, RoadNetwork
from jiaoxun.geo.osm import DEFAULT_SPEEDS_KPH, network_from_pbf, parse_maxspeed

MPH_KPH = 1.609344
CACHE_NAME = "town.osm.pbf.jiaoxun-cache.npz"


@pytest.mark.parametrize(
    ("value", "speed_kph"),
    [
        ("60", 60.0),
        ("30 mph", 30 * MPH_KPH),
        ("50 km/h", 50.0),
        ("45.5", 45.5),
        ("50;60", 50.0),
        ("walk;40", 40.0),
        ("none", None),
        ("signals", None),
        ("CN:urban", None),
        ("0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_maxspeed(value, speed_kph):
    assert parse_maxspeed(value) == pytest.approx(speed_kph)


# -- the town ---------------------------------------------------------------------------------


def test_town_keeps_only_the_strongly_connected_drivable_roads(town, plan):
    assert (town.n_nodes, town.n_edges) == (12, 26)
    assert set(plan.osm_ids(town)) == plan.kept_nodes


def test_edges_run_only_in_the_legal_directions(town, plan):
    ids = plan.osm_ids(town)
    directed = {(ids[t], ids[h]) for t, h in zip(town.edge_tail, town.edge_head, strict=True)}
    assert directed == plan.edges
    assert (5, 6) not in directed  # oneway=-1 drawn 4, 5, 6 runs 6 -> 5 -> 4
    assert (5, 2) not in directed
    assert (22, 21) not in directed


def test_twins_pair_the_two_directions_of_a_two_way_road(town, plan):
    for a, b in [(1, 2), (6, 20), (22, 24)]:
        forward, backward = plan.edge(town, a, b), plan.edge(town, b, a)
        assert (town.edge_twin[forward], town.edge_twin[backward]) == (backward, forward)
    for a, b in [(2, 5), (6, 5), (20, 22), (22, 20)]:
        assert town.edge_twin[plan.edge(town, a, b)] == -1


def test_edges_are_cut_at_shared_nodes_but_keep_their_shape_nodes(town, plan):
    def coords(*osm_ids):
        return np.array([plan.nodes[i] for i in osm_ids])

    np.testing.assert_array_equal(town.edge_coords(plan.edge(town, 1, 2)), coords(1, 10, 2))
    np.testing.assert_array_equal(town.edge_coords(plan.edge(town, 2, 1)), coords(2, 10, 1))
    np.testing.assert_array_equal(town.edge_coords(plan.edge(town, 2, 3)), coords(2, 3))
    np.testing.assert_array_equal(town.edge_coords(plan.edge(town, 20, 22)), coords(20, 21, 22))
    np.testing.assert_array_equal(town.edge_coords(plan.edge(town, 22, 20)), coords(22, 23, 20))
    assert town.edge_length_m[plan.edge(town, 1, 2)] == pytest.approx(plan.length_m(1, 10, 2))


def test_every_edge_length_is_the_haversine_length_of_its_polyline(town, plan):
    for edge in range(town.n_edges):
        ids = [
            next(i for i, p in plan.nodes.items() if np.allclose(p, point, rtol=0, atol=1e-9))
            for point in town.edge_coords(edge)
        ]
        assert town.edge_length_m[edge] == pytest.approx(plan.length_m(*ids), rel=1e-12)


@pytest.mark.parametrize(
    ("tail", "head", "speed_kph"),
    [
        (1, 2, DEFAULT_SPEEDS_KPH["residential"]),
        (5, 8, DEFAULT_SPEEDS_KPH["residential"]),
        (3, 6, 60.0),  # maxspeed=60
        (9, 6, 60.0),
        (24, 22, 30 * MPH_KPH),  # maxspeed=30 mph on a primary road
        (6, 20, DEFAULT_SPEEDS_KPH["tertiary"]),
        (20, 22, DEFAULT_SPEEDS_KPH["tertiary"]),
    ],
)
def test_speed_comes_from_maxspeed_or_the_default_table(town, plan, tail, head, speed_kph):
    edge = plan.edge(town, tail, head)
    assert town.edge_speed_kph[edge] == pytest.approx(speed_kph)
    assert town.edge_travel_time_s[edge] == pytest.approx(
        town.edge_length_m[edge] / (speed_kph / 3.6)
    )


def test_custom_speeds_replace_the_table_but_not_maxspeed(town_pbf, plan):
    network = network_from_pbf(town_pbf, speeds_kph={"residential": 20.0}, cache=False)
    speed = {
        pair: network.edge_speed_kph[plan.edge(network, *pair)]
        for pair in [(1, 2), (2, 5), (3, 6), (6, 20)]
    }
    assert speed == {(1, 2): 20.0, (2, 5): 20.0, (3, 6): 60.0, (6, 20): 35.0}
    edge = plan.edge(network, 7, 8)
    assert network.edge_travel_time_s[edge] == pytest.approx(plan.length_m(7, 8) / (20 / 3.6))


def test_edges_carry_their_way_class_and_name(town, plan):
    first, west, ring = plan.edge(town, 2, 1), plan.edge(town, 1, 4), plan.edge(town, 22, 20)
    assert town.edge_osm_way[[first, west, ring]].tolist() == [101, 103, 108]
    assert [ROAD_CLASSES[c] for c in town.edge_road_class[[first, west, ring]]] == [
        "residential",
        "residential",
        "tertiary",
    ]
    assert town.names[town.edge_name[first]] == "First Street"
    assert town.names[town.edge_name[plan.edge(town, 9, 8)]] == "Third Street"
    assert town.edge_name[west] == -1


def test_road_km_counts_a_two_way_road_once(town, plan):
    two_way = [(1, 10, 2), (2, 3), (7, 8), (8, 9), (1, 4), (4, 7), (3, 6), (6, 9), (6, 20)]
    one_way = [(2, 5), (5, 8), (6, 5), (5, 4), (20, 21, 22), (22, 23, 20)]
    expected_m = sum(plan.length_m(*road) for road in [*two_way, (22, 24), *one_way])
    assert town.road_km == pytest.approx(expected_m / 1000)


def test_bounds_span_the_kept_nodes(town, plan):
    west, south, east, north = town.bounds()
    assert (west, south) == plan.nodes[1]
    assert (east, north) == (plan.nodes[24][0], plan.nodes[9][1])


# -- the cache --------------------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch):
    """Counts how often the PBF itself is read (rather than the cache)."""
    calls = []
    read_ways = osm._read_ways

    def counting(path, speeds_kph):
        calls.append(path)
        return read_ways(path, speeds_kph)

    monkeypatch.setattr(osm, "_read_ways", counting)
    return calls


def assert_same_network(a: RoadNetwork, b: RoadNetwork) -> None:
    for f in dataclasses.fields(RoadNetwork):
        left, right = getattr(a, f.name), getattr(b, f.name)
        if f.name == "names":
            assert left == right
        else:
            assert left.dtype == right.dtype, f.name
            np.testing.assert_array_equal(left, right, err_msg=f.name)


def test_second_call_loads_the_cache_file(town_pbf, tmp_path, reads):
    built = network_from_pbf(town_pbf, cache_dir=tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob(f"*-{CACHE_NAME}")
    loaded = network_from_pbf(town_pbf, cache_dir=tmp_path / "cache")
    assert len(reads) == 1
    assert cache_file.is_file()
    assert_same_network(loaded, built)


def test_changing_the_speeds_rebuilds_the_cache(town_pbf, tmp_path, reads):
    network_from_pbf(town_pbf, cache_dir=tmp_path)
    slower = network_from_pbf(town_pbf, speeds_kph={"residential": 20.0}, cache_dir=tmp_path)
    again = network_from_pbf(town_pbf, speeds_kph={"residential": 20.0}, cache_dir=tmp_path)
    assert len(reads) == 2
    assert 20.0 in slower.edge_speed_kph
    assert_same_network(again, slower)


def test_touching_the_source_rebuilds_the_cache(town_pbf, tmp_path, reads):
    network_from_pbf(town_pbf, cache_dir=tmp_path)
    stat = town_pbf.stat()
    os.utime(town_pbf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    network_from_pbf(town_pbf, cache_dir=tmp_path)
    network_from_pbf(town_pbf, cache_dir=tmp_path)
    assert len(reads) == 2


def test_cache_goes_to_the_user_cache_never_beside_the_source(
    town_pbf, tmp_path, monkeypatch, reads
):
    """The source may lie in an installed package: its folder is never written, even when
    it is writable."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    network_from_pbf(town_pbf)
    network_from_pbf(town_pbf)
    assert sorted(p.name for p in town_pbf.parent.iterdir()) == ["town.osm.pbf", "xdg"]
    assert len(list((tmp_path / "xdg" / "jiaoxun").glob(f"*-{CACHE_NAME}"))) == 1
    assert len(reads) == 1


def test_no_cache_writes_no_file(town_pbf, tmp_path):
    network_from_pbf(town_pbf, cache=False, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["town.osm.pbf"]


def test_a_damaged_cache_file_is_rebuilt(town_pbf, tmp_path, reads):
    cache_file = osm.cache_path_for(town_pbf, tmp_path / "cache")
    cache_file.parent.mkdir()
    cache_file.write_bytes(b"not a numpy archive")
    network = network_from_pbf(town_pbf, cache_dir=tmp_path / "cache")
    assert len(reads) == 1
    assert network_from_pbf(town_pbf, cache_dir=tmp_path / "cache").n_edges == network.n_edges
    assert len(reads) == 1


# -- bad input --------------------------------------------------------------------------------


def test_missing_file_raises(tmp_path):
    with pytest.raises(DataSourceError, match=r"nowhere\.osm\.pbf does not exist"):
        network_from_pbf(tmp_path / "nowhere.osm.pbf")


def test_text_file_raises(tmp_path):
    path = tmp_path / "roads.osm.pbf"
    path.write_text("highway=residential\n")
    with pytest.raises(DataSourceError, match="is not an OpenStreetMap PBF file"):
        network_from_pbf(path)


def test_truncated_pbf_raises(town_pbf):
    data = town_pbf.read_bytes()
    town_pbf.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match="could not be read as OpenStreetMap PBF"):
        network_from_pbf(town_pbf, cache=False)


def test_pbf_with_only_footways_raises(tmp_path, plan, write_pbf):
    ways = [(1, [1, 2, 3], {"highway": "footway"}), (2, [3, 6], {"highway": "pedestrian"})]
    path = write_pbf(tmp_path / "park.osm.pbf", plan.nodes, ways)
    with pytest.raises(DataSourceError, match="has no drivable roads"):
        network_from_pbf(path, cache=False)


def test_pbf_with_only_a_one_way_street_raises(tmp_path, plan, write_pbf):
    lane = (1, [1, 2], {"highway": "residential", "oneway": "yes"})
    path = write_pbf(tmp_path / "lane.osm.pbf", plan.nodes, [lane])
    with pytest.raises(DataSourceError, match="no drivable roads"):
        network_from_pbf(path, cache=False)


@pytest.mark.parametrize("speed_kph", [0.0, -5.0, float("nan")])
def test_speeds_must_be_positive(town_pbf, speed_kph):
    with pytest.raises(DataSourceError, match=r"speed for residential must be > 0 km/h"):
        network_from_pbf(town_pbf, speeds_kph={"residential": speed_kph})


# -- the real extract -------------------------------------------------------------------------


def test_harbin_network_is_large_and_strongly_connected(harbin):
    assert harbin.n_nodes > 10_000
    assert 1_000 < harbin.road_km < 5_000
    graph = csr_matrix(
        (np.ones(harbin.n_edges), (harbin.edge_tail, harbin.edge_head)),
        shape=(harbin.n_nodes, harbin.n_nodes),
    )
    assert len(breadth_first_order(graph, 0, directed=True, return_predecessors=False)) == (
        harbin.n_nodes
    )
    assert len(breadth_first_order(graph.T.tocsr(), 0, return_predecessors=False)) == (
        harbin.n_nodes
    )
