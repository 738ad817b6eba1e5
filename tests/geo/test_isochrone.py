import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from shapely.geometry import Point

from jiaoxun.geo.isochrone import isochrones, reached_length_m
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.travel import TravelTimes

# the real Harbin extract the tests ship (tests/data/README.md)
HARBIN_PBF = Path(__file__).parents[1] / "data" / "harbin.osm.pbf"

# 36 km/h is 10 m/s: 600 m of road a minute
SPEED_M_PER_MIN = 600.0
LON = 126.65
SOUTH, NORTH = 45.70, 45.77
# a square of one-way sides, about 1 km each, driven anticlockwise
SQUARE_W, SQUARE_E, SQUARE_S, SQUARE_N = 126.600, 126.613, 45.700, 45.709


def write_pbf(
    path: Path, ways: Sequence[tuple[Sequence[tuple[float, float]], dict[str, str]]]
) -> Path:
    """Write ways of (lon, lat) points and tags; ways meet where they share a point."""
    node_ids: dict[tuple[float, float], int] = {}
    for points, _ in ways:
        for point in points:
            node_ids.setdefault(point, len(node_ids) + 1)
    with osmium.SimpleWriter(path) as writer:
        for point, node_id in node_ids.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=point))
        for way_id, (points, tags) in enumerate(ways, start=1):
            refs = [node_ids[p] for p in points]
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    return path


def road_points() -> list[tuple[float, float]]:
    return [(LON, round(float(lat), 7)) for lat in np.linspace(SOUTH, NORTH, 141)]


@pytest.fixture(scope="module")
def straight_road(tmp_path_factory: pytest.TempPathFactory) -> TravelTimes:
    """A two-way road running due north for 7.8 km at 36 km/h: 7 ways of 1.1 km, 55 m a point."""
    points, tags = road_points(), {"highway": "primary", "maxspeed": "36"}
    ways = [(points[i : i + 21], tags) for i in range(0, 140, 20)]
    path = write_pbf(tmp_path_factory.mktemp("straight") / "road.osm.pbf", ways)
    return TravelTimes(network_from_pbf(path, cache=False))


@pytest.fixture(scope="module")
def one_way_square(tmp_path_factory: pytest.TempPathFactory) -> TravelTimes:
    corners = [
        (SQUARE_W, SQUARE_S),
        (SQUARE_E, SQUARE_S),
        (SQUARE_E, SQUARE_N),
        (SQUARE_W, SQUARE_N),
        (SQUARE_W, SQUARE_S),
    ]
    tags = {"highway": "secondary", "maxspeed": "36", "oneway": "yes"}
    sides = [([a, b], tags) for a, b in itertools.pairwise(corners)]
    path = write_pbf(tmp_path_factory.mktemp("square") / "square.osm.pbf", sides)
    return TravelTimes(network_from_pbf(path, cache=False))


def utm(travel_times: TravelTimes, geometry: shapely.Geometry) -> shapely.Geometry:
    to_xy = travel_times.snapper.to_xy
    return shapely.transform(geometry, lambda xy: np.column_stack(to_xy.transform(*xy.T)))


def assert_nested(small: shapely.Geometry, large: shapely.Geometry) -> None:
    """`small` lies in `large`: to 1 cm, as projecting back to degrees bends straight edges."""
    assert large.area > small.area
    assert large.buffer(1e-7).contains(small)


def north_of(lat: float, metres: float) -> float:
    return lat + metres / 111_170.0  # metres per degree of latitude at 45.7 N


def test_straight_road_reach_is_exact(straight_road: TravelTimes) -> None:
    origin = straight_road.snap(LON, (SOUTH + NORTH) / 2)  # 556 m from either junction

    for minutes in (1, 3, 5):
        reached = reached_length_m(straight_road, origin, seconds=60.0 * minutes)
        assert reached == pytest.approx(2 * minutes * SPEED_M_PER_MIN, abs=1e-6)


def test_one_minute_spans_the_reach_plus_the_buffer_either_way(
    straight_road: TravelTimes,
) -> None:
    origin = straight_road.snap(LON, (SOUTH + NORTH) / 2)

    area = isochrones(straight_road, origin, minutes=[1], buffer_m=40.0)[1]

    # positions along the road (UTM metres) of the corners of the area
    road = utm(straight_road, shapely.LineString(road_points()))
    corners = shapely.points(shapely.get_coordinates(utm(straight_road, area)))
    along = shapely.line_locate_point(road, corners)
    start = float(
        shapely.line_locate_point(road, utm(straight_road, Point(origin.lon, origin.lat)))
    )
    # the network measures haversine metres, the buffer UTM metres: they differ by < 0.05 % here
    assert along.min() == pytest.approx(start - 600.0 - 40.0, abs=0.5)
    assert along.max() == pytest.approx(start + 600.0 + 40.0, abs=0.5)
    assert shapely.distance(road, corners).max() == pytest.approx(40.0, abs=0.01)


def test_isochrones_are_nested_and_hold_the_origin(straight_road: TravelTimes) -> None:
    lat = (SOUTH + NORTH) / 2
    origin = straight_road.snap(LON + 0.0002, lat)  # 16 m east of the road

    areas = isochrones(straight_road, origin)

    assert sorted(areas) == [1, 3, 5]
    assert_nested(areas[1], areas[3])
    assert_nested(areas[3], areas[5])
    for area in areas.values():
        assert area.contains(Point(origin.lon, origin.lat))
        assert area.contains(Point(LON + 0.0002, lat))
    assert areas[1].contains(Point(LON, north_of(lat, 620)))
    assert not areas[1].contains(Point(LON, north_of(lat, 700)))
    assert areas[3].contains(Point(LON, north_of(lat, 700)))
    assert not areas[5].contains(Point(LON, north_of(lat, -3100)))
    assert not areas[5].contains(Point(LON + 0.001, lat))  # 78 m off the road


def test_one_way_streets_are_driven_their_own_way(one_way_square: TravelTimes) -> None:
    lon = (SQUARE_W + SQUARE_E) / 2
    origin = one_way_square.snap(lon, SQUARE_S)  # heading east along the south side

    areas = isochrones(one_way_square, origin)

    assert reached_length_m(one_way_square, origin, seconds=60.0) == pytest.approx(600.0)
    assert areas[1].contains(Point(lon + 0.004, SQUARE_S))  # 310 m ahead
    assert areas[1].contains(Point(SQUARE_E, north_of(SQUARE_S, 80)))  # round the corner
    # 230 m behind is 3.8 km ahead round the square: outside even the 5-minute area
    assert not areas[5].contains(Point(lon - 0.003, SQUARE_S))
    assert areas[5].contains(Point(SQUARE_W, north_of(SQUARE_S, 500)))


@pytest.mark.parametrize(("minutes", "buffer_m"), [((1, 0), 40.0), ((3,), 0.0)])
def test_bounds_must_be_positive(
    straight_road: TravelTimes, minutes: tuple[int, ...], buffer_m: float
) -> None:
    origin = straight_road.snap(LON, SOUTH)

    with pytest.raises(ValueError, match="must be > 0"):
        isochrones(straight_road, origin, minutes=minutes, buffer_m=buffer_m)


def test_harbin_five_minutes_hold_one_minute(tmp_path: Path) -> None:
    travel_times = TravelTimes(network_from_pbf(HARBIN_PBF, cache_dir=tmp_path))
    origin = travel_times.snap(126.63, 45.75)

    areas = isochrones(travel_times, origin, minutes=(1, 5))

    assert areas[5].area > 5 * areas[1].area
    assert_nested(areas[1], areas[5])
    assert areas[1].contains(Point(origin.lon, origin.lat))
