"""Coverage on a straight street written as a real PBF file, the maximal covering problem on
hand-made instances, and both on the demo city.

The street runs north from (126.6, 45.75): five nodes 0..4, 100 m apart, two-way,
``maxspeed=36`` (10 m/s), so each block takes 10 s and the street is 400 m long. By default a
node's demand is the road it stands for: 50 m at either end, 100 m at nodes 1..3.
"""

from __future__ import annotations

import math

import numpy as np
import osmium
import pytest
from ortools.sat.python import cp_model
from osmium.osm.mutable import Node, Way

from jiaoxun.city.generate import layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.errors import InvalidInput, SolverFailed
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.table import node_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.planning.coverage import candidate_nodes, coverage, road_node_weight, take
from jiaoxun.planning.covering import MaximalCovering

LON0, LAT0 = 126.6, 45.75
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180
BLOCK_M = 100.0


@pytest.fixture(scope="module", params=["search", "table"])
def street(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> TravelTimes:
    path = tmp_path_factory.mktemp("street") / "street.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(5):
            writer.add_node(Node(id=i + 1, location=(LON0, LAT0 + i * BLOCK_M / M_PER_DEG_LAT)))
        for i in range(4):
            tags = {"highway": "residential", "maxspeed": "36"}
            writer.add_way(Way(id=100 + i, nodes=[i + 1, i + 2], tags=tags))
    network = network_from_pbf(path, cache=False)
    assert np.all(np.diff(network.node_lat) > 0), "nodes 0..4 run south to north"
    times = TravelTimes(network)
    if request.param == "table":
        times.use_table(node_table(times))
    return times


def at_metres(travel_times: TravelTimes, *metres: float) -> Snaps:
    """Points `metres` north of node 0 along the street, snapped."""
    lat = LAT0 + np.array(metres) / M_PER_DEG_LAT
    return travel_times.snap_many(np.full(len(metres), LON0), lat)


# -- coverage ---------------------------------------------------------------------------------


def test_node_weight_is_half_of_each_stretch(street):
    assert road_node_weight(street.network) == pytest.approx([50, 100, 100, 100, 50], abs=0.1)


@pytest.mark.parametrize(
    ("metres", "minutes", "road_share", "demand_share"),
    [
        ((0.0,), 0.25, 150 / 400, 150 / 400),  # 150 m driven; nodes 0, 1
        ((150.0,), 0.2, 240 / 400, 200 / 400),  # 30..270 m both ways; nodes 1, 2
        ((0.0, 400.0), 0.25, 300 / 400, 300 / 400),  # from both ends; nodes 0, 1, 3, 4
        ((100.0, 200.0), 0.25, 350 / 400, 350 / 400),  # overlap counted once; nodes 0..3
        ((200.0,), 5.0, 1.0, 1.0),
    ],
)
def test_coverage_of_a_street_by_hand(street, metres, minutes, road_share, demand_share):
    result = coverage(street, at_metres(street, *metres), minutes=(minutes,))
    (share,) = result.shares
    assert share.minutes == minutes
    assert share.road_share == pytest.approx(road_share, abs=1e-3)
    assert share.demand_share == pytest.approx(demand_share, abs=1e-3)
    assert result.total_road_m == pytest.approx(400.0, abs=0.5)


def test_coverage_keeps_the_bounds_in_order_and_the_node_times(street):
    result = coverage(street, at_metres(street, 0.0), minutes=(5, 1, 0.25))
    assert [s.minutes for s in result.shares] == [5, 1, 0.25]
    assert result.at(0.25).road_share == pytest.approx(150 / 400, abs=1e-3)
    assert result.node_time_s == pytest.approx([0, 10, 20, 30, 40], abs=0.01)
    assert result.node_origin.tolist() == [0, 0, 0, 0, 0]
    with pytest.raises(InvalidInput, match="not one of the bounds"):
        result.at(3)


def test_coverage_weighs_demand_per_node(street):
    weight = np.array([0.0, 0.0, 0.0, 0.0, 4.0])  # all calls at the far end
    result = coverage(street, at_metres(street, 0.0), minutes=(0.5, 1), node_weight=weight)
    assert [s.demand_share for s in result.shares] == [0.0, 1.0]
    assert result.total_demand == 4.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": (0,)}, "minutes"),
        ({"minutes": (math.inf,)}, "minutes"),
        ({"node_weight": np.ones(3)}, "node_weight has 3 values"),
        ({"node_weight": -np.ones(5)}, "weights must be"),
    ],
)
def test_coverage_refuses_bad_input(street, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        coverage(street, at_metres(street, 0.0), **kwargs)


def test_coverage_needs_an_origin(street):
    with pytest.raises(InvalidInput, match="at least one origin"):
        coverage(street, take(at_metres(street, 0.0), []))


# -- maximal covering -------------------------------------------------------------------------

# five demand points 1 km apart on a line, one minute per km; candidates stand at the points
LINE_COST_S = 60.0 * np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
LINE_DEMAND = np.array([5.0, 1.0, 1.0, 1.0, 6.0])


@pytest.mark.parametrize("solver", ["cp-sat", "scip"])
@pytest.mark.parametrize(
    ("service_s", "p", "sites", "objective"),
    [
        (60.0, 1, (3,), 8.0),  # points 2, 3, 4
        (30.0, 2, (0, 4), 11.0),  # each site covers only its own point
        (240.0, 1, (0,), 14.0),  # one site reaches all; ties go to any, here all equal
    ],
)
def test_maximal_covering_on_a_line(solver, service_s, p, sites, objective):
    problem = MaximalCovering.from_cost_matrix(LINE_COST_S, LINE_DEMAND, service_s=service_s, p=p)
    result = problem.solve(solver)
    assert result.status == "OPTIMAL"
    assert result.solver == solver
    assert result.objective == objective
    assert result.coverage_share == pytest.approx(objective / 14.0)
    if objective < 14.0:  # the optimum is unique
        assert result.sites == sites
    assert len(result.sites) == p
    assert result.covered.sum() == len(
        np.flatnonzero(LINE_COST_S[list(result.sites)].min(axis=0) <= service_s)
    )


@pytest.mark.parametrize("solver", ["cp-sat", "scip"])
def test_maximal_covering_with_ties_covers_everything(solver):
    problem = MaximalCovering.from_cost_matrix(LINE_COST_S, LINE_DEMAND, service_s=60.0, p=2)
    result = problem.solve(solver)
    assert result.objective == 14.0
    assert result.sites in {(0, 3), (1, 3), (1, 4)}
    assert result.covered.all()


def test_maximal_covering_ignores_unreachable_and_weightless_points():
    cost = np.array([[0.0, np.inf, 10.0], [np.inf, 0.0, np.inf]])
    problem = MaximalCovering.from_cost_matrix(cost, np.array([0.0, 2.0, 3.0]), service_s=30.0, p=1)
    result = problem.solve("cp-sat")
    assert (result.sites, result.objective) == ((0,), 3.0)
    assert result.covered.tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("cost", "demand", "service_s", "p", "message"),
    [
        (LINE_COST_S, LINE_DEMAND, 60.0, 6, r"p\(=6\) must be between 1 and the 5"),
        (LINE_COST_S, LINE_DEMAND, 60.0, 0, r"p\(=0\)"),
        (LINE_COST_S, LINE_DEMAND, 0.0, 1, r"service_s\(=0.0\)"),
        (LINE_COST_S, LINE_DEMAND, math.nan, 1, "service_s"),
        (LINE_COST_S[:, :4], LINE_DEMAND, 60.0, 1, "shape"),
        (LINE_COST_S, -LINE_DEMAND, 60.0, 1, "weights must be"),
        (np.full((5, 5), np.nan), LINE_DEMAND, 60.0, 1, "cost_s must hold"),
        (LINE_COST_S[0], LINE_DEMAND, 60.0, 1, "shape"),
    ],
)
def test_maximal_covering_refuses_bad_input(cost, demand, service_s, p, message):
    with pytest.raises(InvalidInput, match=message):
        MaximalCovering.from_cost_matrix(cost, demand, service_s=service_s, p=p)


def test_maximal_covering_refuses_an_unknown_solver():
    problem = MaximalCovering.from_cost_matrix(LINE_COST_S, LINE_DEMAND, service_s=60.0, p=1)
    with pytest.raises(InvalidInput, match="solver"):
        problem.solve("gurobi")  # type: ignore[arg-type]


def test_maximal_covering_raises_with_the_status_when_the_solver_fails(monkeypatch):
    monkeypatch.setattr(cp_model.CpSolver, "solve", lambda self, model: cp_model.UNKNOWN)
    problem = MaximalCovering.from_cost_matrix(LINE_COST_S, LINE_DEMAND, service_s=60.0, p=1)
    with pytest.raises(SolverFailed, match="status UNKNOWN"):
        problem.solve("cp-sat")


def test_maximal_covering_on_the_street(street):
    candidates = at_metres(street, 0.0, 100.0, 200.0, 300.0, 400.0)
    problem = MaximalCovering.from_travel_times(street, candidates, service_s=15.0, p=1)
    result = problem.solve()
    assert result.sites == (2,)  # nodes 1, 2, 3 within 10 s
    assert result.coverage_share == pytest.approx(300 / 400, abs=1e-3)


def test_candidate_nodes_thin_the_network(street):
    assert candidate_nodes(street.network, spacing_m=1000.0).tolist() == [
        4
    ]  # nearest the centre, 500 m
    assert candidate_nodes(street.network, spacing_m=50.0).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidInput, match="spacing_m"):
        candidate_nodes(street.network, spacing_m=0.0)


# -- the demo city ----------------------------------------------------------------------------


def test_optimal_sites_cover_at_least_as_much_as_the_demo_kiosks():
    travel_times = TravelTimes(network_from_pbf(DEMO_PBF))
    net = travel_times.network
    layout = layout_city(travel_times, places_from_pbf(DEMO_PBF))
    kiosks = travel_times.snap_many(
        np.array([k.lon for k in layout.kiosks]), np.array([k.lat for k in layout.kiosks])
    )
    nodes = candidate_nodes(net, spacing_m=500.0)
    candidates = travel_times.snap_many(net.node_lon[nodes], net.node_lat[nodes])

    problem = MaximalCovering.from_travel_times(travel_times, candidates, service_s=180.0, p=9)
    optimal = problem.solve("scip", time_limit_s=30.0)

    assert optimal.status == "OPTIMAL"
    assert len(optimal.sites) == 9
    by_kiosks = coverage(travel_times, kiosks).at(3)
    by_sites = coverage(travel_times, take(candidates, optimal.sites)).at(3)
    assert by_sites.demand_share == pytest.approx(optimal.coverage_share)
    assert by_sites.demand_share >= by_kiosks.demand_share
    assert 0.5 < by_kiosks.demand_share < 1.0
