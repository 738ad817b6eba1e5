"""Turn restrictions: read from OSM relations, searched on the turn-expanded graph.

A hand-made block, 400 m squares, every road residential (25 km/h) and two-way but the one-way
D -> E, with a 100 m dead end F - G in some tests:

    A ---- B ---- C
    |      |      |
    D ---> E ---- F - G

A car half-way along D -> E goes to a point half-way up E - B: 400 m by the left turn at E.
With the left turn banned it may not turn round at F (an intersection), so it drives E, F, C, B
and down: 1,600 m; with the dead end it turns round at G instead: 200 + 400 + 2 × 100 + 400 +
200 = 1,400 m.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.table import cached_table, node_table
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.geo.turns import restrictions_from_pbf

M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180
M_PER_S = 25 / 3.6  # residential
FROM_WAY, NORTH_WAY, EAST_WAY = 1, 2, 3
GRID = {"A": (0, 400), "B": (400, 400), "C": (800, 400), "D": (0, 0), "E": (400, 0)}
GRID |= {"F": (800, 0), "G": (900, 0)}
ID = {name: i + 1 for i, name in enumerate(GRID)}


def at(east_m, north_m):
    """(lon, lat) near (126.6, 45.75), on the 1e-7° grid of OSM."""
    lon = 126.6 + east_m / (M_PER_DEG_LAT * math.cos(math.radians(45.75)))
    return round(lon * 1e7) / 1e7, round((45.75 + north_m / M_PER_DEG_LAT) * 1e7) / 1e7


def block(write_pbf, path, *, restriction=None, dead_end=False):
    road = {"highway": "residential"}
    ways = [
        (FROM_WAY, [ID["D"], ID["E"]], {**road, "oneway": "yes"}),
        (NORTH_WAY, [ID["E"], ID["B"]], road),
        (EAST_WAY, [ID["E"], ID["F"]], road),
        (4, [ID["F"], ID["C"]], road),
        (5, [ID["C"], ID["B"]], road),
        (6, [ID["B"], ID["A"]], road),
        (7, [ID["A"], ID["D"]], road),
    ]
    if dead_end:
        ways.append((8, [ID["F"], ID["G"]], road))
    relations = []
    if restriction is not None:
        kind, to_way = restriction
        members = [("w", FROM_WAY, "from"), ("n", ID["E"], "via"), ("w", to_way, "to")]
        relations.append((100, members, {"type": "restriction", "restriction": kind}))
    nodes = {ID[name]: at(*xy) for name, xy in GRID.items()}
    return write_pbf(path, nodes, ways, relations)


def trip_m(times: TravelTimes) -> tuple[float, float]:
    """(seconds × 25 km/h, the route's metres) from half-way D -> E to half-way up E - B."""
    origin, target = times.snap(*at(200, 0)), times.snap(*at(400, 200))
    seconds = float(times.times_from(origin, Snaps.of([target]))[0])
    assert float(times.times_to(target, Snaps.of([origin]))[0]) == pytest.approx(seconds)
    return seconds * M_PER_S, times.route(origin, target).distance_m


@pytest.mark.parametrize(
    ("restriction", "dead_end", "metres"),
    [
        (None, False, 400),
        (("no_left_turn", NORTH_WAY), False, 1600),
        (("only_straight_on", EAST_WAY), False, 1600),
        (("no_left_turn", NORTH_WAY), True, 1400),
        (("no_straight_on", EAST_WAY), False, 400),  # bans a turn the trip does not take
    ],
)
def test_a_banned_turn_forces_the_detour_of_known_length(
    tmp_path, write_pbf, restriction, dead_end, metres
):
    pbf = block(write_pbf, tmp_path / "block.osm.pbf", restriction=restriction, dead_end=dead_end)
    network = network_from_pbf(pbf, cache=False)
    assert len(network.turn_ban) == (restriction is not None)
    by_time, by_route = trip_m(TravelTimes(network))
    assert by_time == pytest.approx(metres, abs=0.5)
    assert by_route == pytest.approx(metres, abs=0.5)


def test_restrictions_are_read_and_a_car_exempt_is_not_bound(tmp_path, write_pbf):
    pbf = block(write_pbf, tmp_path / "b.osm.pbf", restriction=("no_left_turn", NORTH_WAY))
    (r,) = restrictions_from_pbf(pbf)
    assert (r.from_way, r.via_node, r.to_way, r.only) == (FROM_WAY, ID["E"], NORTH_WAY, False)
    nodes = {ID[name]: at(*xy) for name, xy in GRID.items()}
    members = [("w", FROM_WAY, "from"), ("n", ID["E"], "via"), ("w", NORTH_WAY, "to")]
    exempt = {"type": "restriction", "restriction": "no_left_turn", "except": "bus;motorcar"}
    via_way = [("w", FROM_WAY, "from"), ("w", EAST_WAY, "via"), ("w", 4, "to")]
    other = write_pbf(
        tmp_path / "c.osm.pbf",
        nodes,
        [(FROM_WAY, [ID["D"], ID["E"]], {"highway": "residential"})],
        [(1, members, exempt), (2, via_way, {"type": "restriction", "restriction": "no_u_turn"})],
    )
    assert restrictions_from_pbf(other) == []


def test_the_node_table_is_not_used_where_turns_are_banned(tmp_path, write_pbf):
    pbf = block(write_pbf, tmp_path / "b.osm.pbf", restriction=("no_left_turn", NORTH_WAY))
    network = network_from_pbf(pbf, cache=False)
    free = dataclasses.replace(network, turn_ban=np.empty((0, 2), dtype=np.int64))
    times = TravelTimes(network, table=node_table(TravelTimes(free)))
    assert times.table is None
    assert trip_m(times)[0] == pytest.approx(1600, abs=0.5)


def test_no_node_table_is_built_where_turns_are_banned(tmp_path, write_pbf):
    pbf = block(write_pbf, tmp_path / "b.osm.pbf", restriction=("no_left_turn", NORTH_WAY))
    times = TravelTimes(network_from_pbf(pbf, cache=False))
    assert cached_table(times, tmp_path / "b").shape == (0, 0)
    assert list(tmp_path.glob("b.table-*")) == []


def test_the_restrictions_survive_the_network_cache(tmp_path, write_pbf):
    pbf = block(write_pbf, tmp_path / "b.osm.pbf", restriction=("no_left_turn", NORTH_WAY))
    first = network_from_pbf(pbf, cache_dir=tmp_path)
    again = network_from_pbf(pbf, cache_dir=tmp_path)
    assert again.turn_ban.tolist() == first.turn_ban.tolist() != []


def test_with_no_turn_that_matters_banned_the_turn_search_is_the_node_search(town: RoadNetwork):
    """A ban of a U-turn (banned anyway at an intersection) switches the town to the turn-
    expanded search; from and to mid-edge points every query agrees with the node search."""
    u_turn = [[0, int(town.edge_twin[0])]]
    banned = TravelTimes(dataclasses.replace(town, turn_ban=np.array(u_turn)))
    plain = TravelTimes(town)
    assert banned.turns is not None
    assert plain.turns is None
    rng = np.random.default_rng(1)
    k = 40
    edges = rng.integers(0, town.n_edges, size=k)
    points = Snaps(
        edge=edges,
        fraction=rng.uniform(0.05, 0.95, size=k),
        distance_m=np.zeros(k),
        lon=town.node_lon[town.edge_tail[edges]],
        lat=town.node_lat[town.edge_tail[edges]],
    )
    for i in range(k):
        for query in ("times_from", "times_to"):
            expected = getattr(plain, query)(points[i], points)
            assert getattr(banned, query)(points[i], points) == pytest.approx(expected)
        for query in ("node_times_from", "node_times_to"):
            expected = getattr(plain, query)(points[i])
            assert getattr(banned, query)(points[i]) == pytest.approx(expected)
        j = (i + 1) % k
        assert banned.route(points[i], points[j]).distance_m == pytest.approx(
            plain.route(points[i], points[j]).distance_m
        )
    first = Snaps.of([points[i] for i in range(5)])
    times, which = banned.nearest_origin(first)
    expected_times, expected_which = plain.nearest_origin(first)
    assert times == pytest.approx(expected_times)
    assert (which == expected_which).all()
