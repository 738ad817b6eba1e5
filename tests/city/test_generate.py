from __future__ import annotations

import collections

import numpy as np
import pytest
import shapely

from jiaoxun.city.generate import CityLayout, KioskSite, kiosk_candidates, layout_city
from jiaoxun.city.patrol import POINT_RULES, share_out
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.places import Place
from jiaoxun.geo.travel import TravelTimes


def test_demo_city_has_the_baicheng_deployment(demo_layout: CityLayout) -> None:
    assert len(demo_layout.kiosks) == 9
    assert len(demo_layout.districting.zone_stats) == 9
    assert len(demo_layout.units) == 27
    assert collections.Counter(z for _, z in demo_layout.units) == dict.fromkeys(range(9), 3)
    assert len(demo_layout.patrol_lines) == 78
    assert len(demo_layout.patrol_points) == 60


def test_every_zone_has_lines_and_points(demo_layout: CityLayout) -> None:
    lines = collections.Counter(line.zone for line in demo_layout.patrol_lines)
    points = collections.Counter(p.zone for p in demo_layout.patrol_points)
    assert set(lines) == set(points) == set(range(9))
    assert min(lines.values()) >= 5
    assert min(points.values()) >= 4


def test_kiosks_stand_at_real_places(
    demo_layout: CityLayout, demo_places: list[Place], demo_travel_times: TravelTimes
) -> None:
    fit = {(p.lon, p.lat): p for p in kiosk_candidates(demo_places)}
    for kiosk in demo_layout.kiosks:
        place = fit[(kiosk.lon, kiosk.lat)]
        assert kiosk.name == f"{place.name}警务室"
        assert place.kind in {"hospital", "square", "market", "building"}
        assert demo_travel_times.snap(kiosk.lon, kiosk.lat).distance_m <= 150


def test_patrol_lines_are_drivable_named_roads_inside_their_zone(
    demo_layout: CityLayout, demo_travel_times: TravelTimes
) -> None:
    net = demo_travel_times.network
    zone = demo_layout.districting.node_zone
    used: set[int] = set()
    for line in demo_layout.patrol_lines:
        edges = np.array(line.edges)
        # consecutive edges connect head to tail: a car can drive the line in one go
        assert (net.edge_head[edges[:-1]] == net.edge_tail[edges[1:]]).all()
        assert (zone[net.edge_tail[edges]] == line.zone).all()
        assert len({net.names[n] for n in net.edge_name[edges]}) == 1
        assert line.name.startswith(net.names[net.edge_name[edges[0]]])
        assert line.length_m == pytest.approx(net.edge_length_m[edges].sum())
        assert line.length_m >= 300
        # no stretch of road is in two lines, in either direction
        stretches = {min(e, net.edge_twin[e]) if net.edge_twin[e] >= 0 else e for e in edges}
        assert not stretches & used
        used |= stretches


def test_patrol_points_are_real_places_with_rules_of_their_kind(
    demo_layout: CityLayout, demo_places: list[Place]
) -> None:
    by_ref = {p.osm_ref: p for p in demo_places}
    kinds = collections.Counter(p.kind for p in demo_layout.patrol_points)
    assert {"school", "hospital", "square", "station", "bank", "market"} <= set(kinds)
    for point in demo_layout.patrol_points:
        place = by_ref[point.osm_ref]
        assert (point.name, point.kind, point.lon, point.lat) == (
            place.name,
            place.kind,
            place.lon,
            place.lat,
        )
        assert (point.radius_m, point.dwell_min, point.visits_per_shift) == POINT_RULES[point.kind]


def test_zones_cover_the_city_without_overlap(demo_layout: CityLayout) -> None:
    polygons = demo_layout.districting.polygons
    assert all(p.is_valid and not p.is_empty for p in polygons)
    for i, a in enumerate(polygons):
        for b in polygons[i + 1 :]:
            assert a.intersection(b).area < 1e-9
    union = shapely.union_all(polygons)
    west, south, east, north = union.bounds
    assert west < 126.605
    assert east > 126.695
    assert south < 45.72
    assert north > 45.77


def test_generation_is_deterministic(
    demo_layout: CityLayout, demo_travel_times: TravelTimes, demo_places: list[Place]
) -> None:
    again = layout_city(demo_travel_times, demo_places)
    assert again.kiosks == demo_layout.kiosks
    assert again.patrol_lines == demo_layout.patrol_lines
    assert again.patrol_points == demo_layout.patrol_points
    assert (again.districting.node_zone == demo_layout.districting.node_zone).all()


def test_given_kiosks_are_used_as_they_are(
    demo_travel_times: TravelTimes, demo_places: list[Place]
) -> None:
    sites = [KioskSite("东", 126.69, 45.745), KioskSite("西", 126.61, 45.745)]
    layout = layout_city(
        demo_travel_times, demo_places, kiosks=sites, n_patrol_lines=10, n_patrol_points=6
    )
    assert layout.kiosks == tuple(sites)
    assert len(layout.units) == 6
    assert len(layout.patrol_lines) == 10
    assert len(layout.patrol_points) == 6
    # the east kiosk's zone holds the eastern nodes
    net = demo_travel_times.network
    east = net.node_lon > 126.69
    assert (layout.districting.node_zone[east] == 0).mean() > 0.9


def test_no_kiosk_is_refused(demo_travel_times: TravelTimes, demo_places: list[Place]) -> None:
    with pytest.raises(InvalidInput, match="at least one kiosk"):
        layout_city(demo_travel_times, demo_places, kiosks=[])


@pytest.mark.parametrize(
    ("total", "weights", "capacity", "expected"),
    [
        (10, [1.0, 1.0, 1.0], [9, 9, 9], [4, 3, 3]),
        (10, [1.0, 1.0, 1.0], [2, 9, 9], [2, 4, 4]),
        (10, [1.0, 1.0, 1.0], [2, 2, 2], [2, 2, 2]),
        (78, [77.6, 84.2, 90.2], [50, 50, 50], [24, 26, 28]),
        (5, [0.0, 0.0], [3, 3], [3, 2]),
    ],
)
def test_share_out(
    total: int, weights: list[float], capacity: list[int], expected: list[int]
) -> None:
    counts = share_out(total, np.array(weights), np.array(capacity))
    assert counts.tolist() == expected
