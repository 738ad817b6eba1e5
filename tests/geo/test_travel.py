"""Travel times in the hand-made town, checked against times worked out by hand.

Times are haversine lengths between the town's nodes at the speed each road is meant to have.
Points sit on the roads, so snapping moves them by less than a centimetre.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.travel import TravelTimes

SECONDS_TOL = 0.02  # a snapped fraction is exact to ~1e-5 of a 60 s road
RESIDENTIAL_KPH = 25.0
SPEED_KPH = {(3, 6): 60.0, (6, 9): 60.0, (6, 20): 35.0, (20, 22): 35.0, (22, 24): 30 * 1.609344}
SHAPE = {(1, 2): (1, 10, 2), (20, 22): (20, 21, 22), (22, 20): (22, 23, 20)}


@pytest.fixture(scope="module")
def seconds(plan):
    """Seconds to drive from town node `tail` to `head`, the whole road or `fraction` of it."""

    def along(tail: int, head: int, fraction: float = 1.0) -> float:
        polyline = SHAPE.get((tail, head)) or SHAPE.get((head, tail), (head, tail))[::-1]
        speed_kph = SPEED_KPH.get((tail, head)) or SPEED_KPH.get((head, tail), RESIDENTIAL_KPH)
        return fraction * plan.length_m(*polyline) / (speed_kph / 3.6)

    return along


@pytest.fixture(scope="module")
def snap_at(town_times, plan):
    """Snap the point `fraction` of the way along the straight road from node `a` to node `b`."""

    def snap(a: int, b: int, fraction: float) -> Snap:
        return town_times.snap(*plan.between(a, b, fraction))

    return snap


def points_on_roads(network, n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` random points on the polylines of random edges."""
    rng = np.random.default_rng(seed)
    lon, lat = [], []
    for edge in rng.integers(network.n_edges, size=n):
        coords = network.edge_coords(int(edge))
        i = rng.integers(len(coords) - 1)
        point = coords[i] + rng.uniform() * (coords[i + 1] - coords[i])
        lon.append(point[0])
        lat.append(point[1])
    return np.array(lon), np.array(lat)


def one(snap: Snap) -> Snaps:
    return Snaps.of([snap])


def pick(snaps: Snaps, indices) -> Snaps:
    return Snaps.of([snaps[i] for i in indices])


def lonlat(snap: Snap) -> tuple[float, float]:
    return snap.lon, snap.lat


def assert_route_ends_at(route, origin: Snap, target: Snap) -> None:
    np.testing.assert_allclose(route.coords[[0, -1]], [lonlat(origin), lonlat(target)], atol=1e-7)


# -- hand-computed times ----------------------------------------------------------------------


def test_same_edge_shortcut_on_a_two_way_road(town_times, snap_at, seconds):
    a, b = snap_at(7, 8, 0.3), snap_at(7, 8, 0.7)
    assert a.edge == b.edge
    assert town_times.times_from(a, one(b))[0] == pytest.approx(seconds(7, 8, 0.4), abs=SECONDS_TOL)
    assert town_times.times_from(b, one(a))[0] == pytest.approx(seconds(8, 7, 0.4), abs=SECONDS_TOL)


def test_one_way_street_makes_there_and_back_differ(town_times, snap_at, seconds):
    # a halfway along Middle Road 2 -> 5, b halfway along 5 -> 8
    a, b = snap_at(2, 5, 0.5), snap_at(5, 8, 0.5)
    there = seconds(2, 5, 0.5) + seconds(5, 8, 0.5)
    back = seconds(5, 8, 0.5) + seconds(8, 9) + seconds(9, 6) + seconds(6, 3) + seconds(3, 2)
    back += seconds(2, 5, 0.5)
    assert town_times.times_from(a, one(b))[0] == pytest.approx(there, abs=SECONDS_TOL)
    assert town_times.times_from(b, one(a))[0] == pytest.approx(back, abs=SECONDS_TOL)


def test_reverse_one_way_runs_against_the_drawing(town_times, snap_at, seconds):
    # Second Street is drawn 4, 5, 6 with oneway=-1: d on 6 -> 5, c on 5 -> 4
    d, c = snap_at(6, 5, 0.5), snap_at(5, 4, 0.5)
    westward = seconds(6, 5, 0.5) + seconds(5, 4, 0.5)
    eastward = seconds(5, 4, 0.5) + seconds(4, 7) + seconds(7, 8) + seconds(8, 9) + seconds(9, 6)
    eastward += seconds(6, 5, 0.5)
    assert town_times.times_from(d, one(c))[0] == pytest.approx(westward, abs=SECONDS_TOL)
    assert town_times.times_from(c, one(d))[0] == pytest.approx(eastward, abs=SECONDS_TOL)


def test_a_point_behind_on_a_one_way_is_reached_the_long_way_round(town_times, snap_at, seconds):
    ahead, behind = snap_at(2, 5, 0.7), snap_at(2, 5, 0.3)
    around = seconds(2, 5, 0.3) + seconds(5, 4) + seconds(4, 1) + seconds(1, 2)
    around += seconds(2, 5, 0.3)
    assert town_times.times_from(behind, one(ahead))[0] == pytest.approx(
        seconds(2, 5, 0.4), abs=SECONDS_TOL
    )
    assert town_times.times_from(ahead, one(behind))[0] == pytest.approx(around, abs=SECONDS_TOL)


def test_times_from_many_targets(town_times, snap_at, seconds):
    a = snap_at(7, 8, 0.3)
    targets = Snaps.of([snap_at(7, 8, 0.3), snap_at(4, 7, 0.5), snap_at(9, 6, 0.5)])
    expected = [0.0, seconds(7, 8, 0.3) + seconds(7, 4, 0.5)]
    expected.append(seconds(7, 8, 0.7) + seconds(8, 9) + seconds(9, 6, 0.5))
    np.testing.assert_allclose(town_times.times_from(a, targets), expected, atol=SECONDS_TOL)


def test_node_times_from_and_to(town_times, town, plan, snap_at, seconds):
    a = snap_at(2, 5, 0.5)
    leaving = town_times.node_times_from(a)
    arriving = town_times.node_times_to(a)
    assert leaving[plan.node(town, 5)] == pytest.approx(seconds(2, 5, 0.5), abs=SECONDS_TOL)
    assert leaving[plan.node(town, 8)] == pytest.approx(
        seconds(2, 5, 0.5) + seconds(5, 8), abs=SECONDS_TOL
    )
    assert arriving[plan.node(town, 2)] == pytest.approx(seconds(2, 5, 0.5), abs=SECONDS_TOL)
    assert arriving[plan.node(town, 3)] == pytest.approx(
        seconds(3, 2) + seconds(2, 5, 0.5), abs=SECONDS_TOL
    )
    assert leaving.shape == arriving.shape == (town.n_nodes,)


@pytest.mark.parametrize(
    ("tail", "head", "fraction"), [(2, 5, 1.0), (5, 8, 0.0), (6, 5, 1.0), (5, 4, 0.0)]
)
def test_a_point_at_an_intersection_leaves_and_arrives_by_every_road(
    town_times, town, plan, snap_at, seconds, tail, head, fraction
):
    # node 5 seen as the end of each one-way edge that meets there
    lon, lat = plan.nodes[5]
    at_5 = Snap(plan.edge(town, tail, head), fraction, 0.0, lon, lat)
    c, d = snap_at(5, 4, 0.5), snap_at(6, 5, 0.5)
    assert town_times.node_times_from(at_5)[plan.node(town, 5)] == 0.0
    assert town_times.node_times_to(at_5)[plan.node(town, 5)] == 0.0
    assert town_times.times_from(at_5, one(c))[0] == pytest.approx(
        seconds(5, 4, 0.5), abs=SECONDS_TOL
    )
    assert town_times.times_from(d, one(at_5))[0] == pytest.approx(
        seconds(6, 5, 0.5), abs=SECONDS_TOL
    )
    leave, arrive = town_times.route(at_5, c), town_times.route(d, at_5)
    assert leave.distance_m == pytest.approx(plan.length_m(5, 4) / 2, abs=0.1)
    assert arrive.distance_m == pytest.approx(plan.length_m(6, 5) / 2, abs=0.1)
    assert leave.edges == (plan.edge(town, 5, 4),)
    assert arrive.edges == (plan.edge(town, 6, 5),)
    assert_route_ends_at(leave, at_5, c)
    assert_route_ends_at(arrive, d, at_5)


def test_a_point_snapped_onto_an_intersection(town_times, town, plan, snap_at, seconds):
    at_5 = town_times.snap(*plan.nodes[5])
    assert at_5.fraction in {0.0, 1.0}
    assert town_times.times_from(at_5, one(snap_at(5, 4, 0.5)))[0] == pytest.approx(
        seconds(5, 4, 0.5), abs=SECONDS_TOL
    )
    assert town_times.times_from(snap_at(6, 5, 0.5), one(at_5))[0] == pytest.approx(
        seconds(6, 5, 0.5), abs=SECONDS_TOL
    )


# -- many-to-one, nearest, coverage -----------------------------------------------------------


@pytest.fixture(scope="module")
def town_points(town_times, town):
    return town_times.snap_many(*points_on_roads(town, 30, seed=7))


def test_times_to_equals_times_from_one_by_one(town_times, town_points, snap_at):
    target = snap_at(9, 6, 0.4)
    one_by_one = [
        town_times.times_from(town_points[i], one(target))[0] for i in range(len(town_points))
    ]
    np.testing.assert_allclose(town_times.times_to(target, town_points), one_by_one, rtol=1e-12)


@pytest.mark.parametrize(("k", "first_limit_s"), [(1, 120.0), (5, 1.0), (12, 30.0), (30, 1.0)])
def test_nearest_agrees_with_a_full_sort(town_times, town_points, snap_at, k, first_limit_s):
    target = snap_at(1, 4, 0.8)
    eta = town_times.times_to(target, town_points)
    best, best_eta = town_times.nearest(target, town_points, k=k, first_limit_s=first_limit_s)
    assert best.tolist() == np.argsort(eta, kind="stable")[:k].tolist()
    np.testing.assert_allclose(best_eta, np.sort(eta)[:k], rtol=1e-12)


def test_nearest_returns_every_origin_when_k_exceeds_them(town_times, town_points, snap_at):
    origins = pick(town_points, [0, 1, 2])
    best, best_eta = town_times.nearest(snap_at(1, 4, 0.8), origins, k=10)
    assert sorted(best.tolist()) == [0, 1, 2]
    assert np.all(np.diff(best_eta) >= 0)


def test_nearest_needs_k_of_at_least_one(town_times, town_points, snap_at):
    with pytest.raises(ValueError, match=r"k\(=0\) must be >= 1"):
        town_times.nearest(snap_at(1, 4, 0.8), town_points, k=0)


def test_nearest_origin_gives_the_quickest_origin_of_every_node(town_times, snap_at):
    origins = Snaps.of([snap_at(1, 2, 0.5), snap_at(8, 9, 0.5), snap_at(6, 20, 0.5)])
    per_origin = np.array([town_times.node_times_from(origins[i]) for i in range(3)])
    time_s, owner = town_times.nearest_origin(origins)
    np.testing.assert_allclose(time_s, per_origin.min(axis=0), rtol=1e-12)
    assert owner.tolist() == per_origin.argmin(axis=0).tolist()
    assert set(owner.tolist()) == {0, 1, 2}


def test_nearest_origin_leaves_nodes_beyond_the_limit_unowned(town_times, snap_at):
    origins = Snaps.of([snap_at(1, 2, 0.5), snap_at(8, 9, 0.5)])
    quickest = np.array([town_times.node_times_from(origins[i]) for i in range(2)]).min(axis=0)
    time_s, owner = town_times.nearest_origin(origins, limit_s=60.0)
    inside = quickest <= 60.0
    assert 0 < inside.sum() < len(inside)
    np.testing.assert_allclose(time_s[inside], quickest[inside], rtol=1e-12)
    assert np.isinf(time_s[~inside]).all()
    assert (owner[~inside] == -1).all()
    assert (owner[inside] >= 0).all()


# -- routes -----------------------------------------------------------------------------------


def test_route_along_a_one_way_street(town_times, town, plan, snap_at, seconds):
    a, b = snap_at(2, 5, 0.5), snap_at(5, 8, 0.5)
    route = town_times.route(a, b)
    assert route.travel_time_s == pytest.approx(town_times.times_from(a, one(b))[0], rel=1e-12)
    assert route.travel_time_s == pytest.approx(
        seconds(2, 5, 0.5) + seconds(5, 8, 0.5), abs=SECONDS_TOL
    )
    assert route.distance_m == pytest.approx(plan.length_m(2, 5, 8) / 2, abs=0.1)
    assert route.edges == (plan.edge(town, 2, 5), plan.edge(town, 5, 8))
    assert_route_ends_at(route, a, b)
    np.testing.assert_allclose(route.coords, [lonlat(a), plan.nodes[5], lonlat(b)], atol=1e-7)


def test_route_the_long_way_round_keeps_the_shape_nodes(town_times, town, plan, snap_at):
    ahead, behind = snap_at(2, 5, 0.7), snap_at(2, 5, 0.3)
    route = town_times.route(ahead, behind)
    # the node table keeps float32 seconds: equal to about 1e-7
    assert route.travel_time_s == pytest.approx(
        town_times.times_from(ahead, one(behind))[0], rel=1e-6
    )
    expected_m = (
        0.3 * plan.length_m(2, 5) + plan.length_m(5, 4, 1, 10, 2) + 0.3 * plan.length_m(2, 5)
    )
    assert route.distance_m == pytest.approx(expected_m, abs=0.1)
    assert_route_ends_at(route, ahead, behind)
    np.testing.assert_allclose(
        route.coords[1:-1], [plan.nodes[i] for i in (5, 4, 1, 10, 2)], atol=1e-12
    )


def test_route_on_one_edge_goes_straight_there(town_times, town, plan, snap_at):
    a, b = snap_at(7, 8, 0.3), snap_at(7, 8, 0.7)
    there, back = town_times.route(a, b), town_times.route(b, a)
    assert there.distance_m == pytest.approx(0.4 * plan.length_m(7, 8), abs=0.1)
    assert back.distance_m == pytest.approx(there.distance_m, abs=1e-9)
    assert there.travel_time_s == pytest.approx(town_times.times_from(a, one(b))[0], rel=1e-12)
    assert {there.edges, back.edges} == {(plan.edge(town, 7, 8),), (plan.edge(town, 8, 7),)}
    assert_route_ends_at(there, a, b)
    assert_route_ends_at(back, b, a)


def test_roundabout_is_driven_one_way_round(town_times, plan, snap_at, seconds):
    e, f = snap_at(6, 20, 0.5), snap_at(22, 24, 0.5)
    east, west = town_times.route(e, f), town_times.route(f, e)

    def passes(route, osm_id):
        return bool(
            np.isclose(route.coords, plan.nodes[osm_id], rtol=0, atol=1e-9).all(axis=1).any()
        )

    assert (passes(east, 21), passes(east, 23)) == (True, False)
    assert (passes(west, 21), passes(west, 23)) == (False, True)
    assert east.travel_time_s == pytest.approx(
        seconds(6, 20, 0.5) + seconds(20, 22) + seconds(22, 24, 0.5), abs=SECONDS_TOL
    )


# -- the real extract -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harbin_times(harbin):
    return TravelTimes(harbin)


@pytest.fixture(scope="module")
def harbin_points(harbin_times, harbin):
    return harbin_times.snap_many(*points_on_roads(harbin, 300, seed=2024))


def networkx_graph(network) -> nx.DiGraph:
    """The network as a networkx graph, keeping the quickest of parallel edges."""
    graph = nx.DiGraph()
    for u, v, t in zip(
        network.edge_tail.tolist(),
        network.edge_head.tolist(),
        network.edge_travel_time_s.tolist(),
        strict=True,
    ):
        if not graph.has_edge(u, v) or t < graph[u][v]["seconds"]:
            graph.add_edge(u, v, seconds=t)
    return graph


def test_harbin_times_agree_with_networkx(harbin, harbin_times, harbin_points):
    graph = networkx_graph(harbin)
    time_s, twin = harbin.edge_travel_time_s, harbin.edge_twin
    targets = pick(harbin_points, range(4, 10))
    for origin in (harbin_points[i] for i in range(4)):
        # a virtual start node joined to the ends of the origin's edge by the partial times
        e, f = origin.edge, origin.fraction
        graph.add_edge("start", int(harbin.edge_head[e]), seconds=(1 - f) * time_s[e])
        if twin[e] >= 0:
            graph.add_edge("start", int(harbin.edge_tail[e]), seconds=f * time_s[twin[e]])
        reached = nx.single_source_dijkstra_path_length(graph, "start", weight="seconds")
        graph.remove_node("start")
        expected = []
        for target in (targets[i] for i in range(len(targets))):
            assert target.edge != origin.edge
            e, f = target.edge, target.fraction
            arrive = [reached[int(harbin.edge_tail[e])] + f * time_s[e]]
            if twin[e] >= 0:
                arrive.append(reached[int(harbin.edge_head[e])] + (1 - f) * time_s[twin[e]])
            expected.append(min(arrive))
        np.testing.assert_allclose(harbin_times.times_from(origin, targets), expected, rtol=1e-9)


def test_harbin_nearest_agrees_with_a_full_sort(harbin_times, harbin_points):
    target = harbin_points[0]
    origins = pick(harbin_points, range(1, len(harbin_points)))
    eta = harbin_times.times_to(target, origins)
    best, best_eta = harbin_times.nearest(target, origins, k=10)
    assert best.tolist() == np.argsort(eta, kind="stable")[:10].tolist()
    np.testing.assert_allclose(best_eta, np.sort(eta)[:10], rtol=1e-12)
