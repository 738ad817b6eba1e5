"""Searching a hand-made crossing of two streets, a side road and a few places by name.

4 (north) ---------- 5
|  西大直街          /  和兴路
0 ---- 1 ---- 2 ---/        红军街: 0 - 1 - 2 (west to east)
       |                    西大直街: 3 - 1 - 4 (south to north)
       3 (south)            和兴路: 2 - 5; 4 - 5 has no name
"""

from __future__ import annotations

import numpy as np
import pytest

from jiaoxun.geo.gazetteer import Entry, Gazetteer
from jiaoxun.geo.network import ROAD_CLASSES, RoadNetwork
from jiaoxun.geo.places import Place

NODES = [
    (126.600, 45.750),
    (126.601, 45.750),
    (126.602, 45.750),
    (126.601, 45.749),
    (126.601, 45.751),
    (126.603, 45.751),
]
NAMES = ("红军街", "西大直街", "和兴路")
#: two-way roads: (tail, head, index into NAMES or -1)
ROADS = [(0, 1, 0), (1, 2, 0), (3, 1, 1), (1, 4, 1), (2, 5, 2), (4, 5, -1)]


def _network() -> RoadNetwork:
    tail, head, name, twin, lon, lat = [], [], [], [], [], []
    for a, b, n in ROADS:
        for u, v in ((a, b), (b, a)):
            twin.append(len(tail) + 1 if u == a else len(tail) - 1)
            tail.append(u)
            head.append(v)
            name.append(n)
            lon += [NODES[u][0], NODES[v][0]]
            lat += [NODES[u][1], NODES[v][1]]
    m = len(tail)
    return RoadNetwork(
        node_lon=np.array([p[0] for p in NODES]),
        node_lat=np.array([p[1] for p in NODES]),
        edge_tail=np.array(tail),
        edge_head=np.array(head),
        edge_length_m=np.full(m, 78.0),
        edge_speed_kph=np.full(m, 30.0),
        edge_travel_time_s=np.full(m, 9.4),
        edge_road_class=np.full(m, ROAD_CLASSES.index("residential")),
        edge_name=np.array(name),
        edge_twin=np.array(twin),
        edge_osm_way=np.arange(m),
        geom_start=np.arange(0, 2 * m + 1, 2),
        geom_lon=np.array(lon),
        geom_lat=np.array(lat),
        names=NAMES,
    )


PLACES = [
    Place("node/1", "红军街小学", "school", 126.6012, 45.7502, 0.0),
    Place("node/2", "新红军街市场", "market", 126.6018, 45.7498, 0.0),
    Place("way/3", "Harbin Bank", "bank", 126.6021, 45.7503, 120.0),
]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_network(_network(), PLACES)


def test_a_street_is_found_at_a_point_on_it(gazetteer: Gazetteer) -> None:
    # 红军街's two equal stretches are centred on node 1, the crossing
    assert gazetteer.search("红军街", limit=1) == [Entry("红军街", "street", *NODES[1])]
    # 和兴路 has one stretch: its point is the middle of that stretch
    (street,) = gazetteer.search("和兴路", limit=1)
    assert (street.lon, street.lat) == pytest.approx((126.6025, 45.7505))


def test_exact_before_prefix_before_substring(gazetteer: Gazetteer) -> None:
    found = gazetteer.search("红军街", limit=10)
    assert [(e.name, e.kind) for e in found] == [
        ("红军街", "street"),
        ("红军街小学", "school"),
        ("新红军街市场", "market"),
    ]


def test_matching_ignores_case_and_surrounding_spaces(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("  harbin BANK ", limit=5) == [
        Entry("Harbin Bank", "bank", 126.6021, 45.7503)
    ]
    assert gazetteer.search("bank", limit=5)[0].name == "Harbin Bank"


@pytest.mark.parametrize(
    "q",
    [
        "西大直街与红军街",
        "西大直街 红军街",
        "西大直街&红军街",
        "西大直街 / 红军街",
        "西大直街,红军街",
    ],
)
def test_two_streets_give_the_node_where_they_cross(gazetteer: Gazetteer, q: str) -> None:
    crossings = [e for e in gazetteer.search(q, limit=10) if e.kind == "intersection"]
    assert crossings == [Entry("西大直街与红军街", "intersection", *NODES[1])]


def test_he_is_a_separator_only_between_two_names(gazetteer: Gazetteer) -> None:
    # "和兴路" starts with 和 (and): it is a street, not a crossing of "" and "兴路"
    assert [e.kind for e in gazetteer.search("和兴路", limit=10)] == ["street"]
    crossings = gazetteer.search("红军街和和兴路", limit=10)
    assert crossings == [Entry("红军街与和兴路", "intersection", *NODES[2])]


def test_streets_that_do_not_meet_have_no_crossing(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("西大直街与和兴路", limit=10) == []


def test_unnamed_roads_are_not_streets(gazetteer: Gazetteer) -> None:
    assert [s.name for s in gazetteer.streets] == list(NAMES)


def test_limit_and_blank_text(gazetteer: Gazetteer) -> None:
    assert len(gazetteer.search("街", limit=2)) == 2
    assert gazetteer.search("   ", limit=5) == []
    assert gazetteer.search("no such name", limit=5) == []
    with pytest.raises(ValueError, match=r"limit\(=0\)"):
        gazetteer.search("街", limit=0)
