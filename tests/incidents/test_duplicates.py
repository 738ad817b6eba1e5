"""Duplicate calls: same level-1 category, near in space and time, nearest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jiaoxun.geo.osm import haversine_m
from jiaoxun.incidents.duplicates import DuplicateCandidate, OpenIncident, find_duplicates

CALL_AT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CRIMINAL, TRAFFIC = "010000", "030000"


@pytest.fixture
def incident(place):
    """An open incident x, y metres from the new call, called `minutes` before it."""

    def make(
        incident_id: int, x_m: float, y_m: float, *, minutes: float = 5, category: str = TRAFFIC
    ) -> OpenIncident:
        lon, lat = place(x_m, y_m)
        return OpenIncident(incident_id, lon, lat, category, CALL_AT - timedelta(minutes=minutes))

    return make


@pytest.fixture
def find(place):
    def run(open_incidents: list[OpenIncident], **options) -> tuple[DuplicateCandidate, ...]:
        lon, lat = place(0, 0)
        return find_duplicates(
            lon=lon,
            lat=lat,
            category_top=TRAFFIC,
            call_at=CALL_AT,
            open_incidents=open_incidents,
            **options,
        )

    return run


def ids(found: tuple[DuplicateCandidate, ...]) -> list[int]:
    return [d.incident_id for d in found]


def test_nearest_of_the_same_category_first(find, incident):
    found = find(
        [
            incident(1, 150, 0),
            incident(2, 0, 50),
            incident(3, 20, 0, category=CRIMINAL),
            incident(4, 0, 250),
        ]
    )
    assert ids(found) == [2, 1]
    assert found[0] == DuplicateCandidate(2, pytest.approx(50.0, abs=0.05), 5.0)
    assert found[1].distance_m == pytest.approx(150.0, abs=0.05)


def test_distance_is_great_circle(find, incident, place):
    found = find([incident(1, 120, 90)])
    expected = haversine_m(*place(0, 0), *place(120, 90))
    assert found[0].distance_m == pytest.approx(float(expected), rel=1e-12)
    assert found[0].distance_m == pytest.approx(150.0, abs=0.05)


@pytest.mark.parametrize(
    ("minutes", "found"),
    [(29.9, True), (30.0, True), (30.1, False), (-29.9, True), (-30.1, False)],
)
def test_time_window_either_side_of_the_call(find, incident, minutes, found):
    result = find([incident(1, 10, 0, minutes=minutes)])
    assert bool(result) is found
    if found:
        assert result[0].minutes_apart == pytest.approx(abs(minutes))


def test_limits_are_options(find, incident):
    far_and_old = [incident(1, 400, 0, minutes=50)]
    assert find(far_and_old) == ()
    assert ids(find(far_and_old, max_distance_m=500, max_minutes=60)) == [1]


def test_ties_in_distance_go_to_the_closer_call_in_time_then_the_lower_id(find, incident):
    found = find(
        [
            incident(7, 100, 0, minutes=20),
            incident(5, 100, 0, minutes=3),
            incident(4, 100, 0),
            incident(2, 100, 0, minutes=20),
        ]
    )
    assert ids(found) == [5, 4, 2, 7]


def test_nothing_open(find):
    assert find([]) == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_distance_m": -1.0}, r"max_distance_m\(=-1.0\) must be >= 0"),
        ({"max_minutes": float("nan")}, r"max_minutes\(=nan\) must be >= 0"),
    ],
)
def test_limits_must_not_be_negative(find, options, message):
    with pytest.raises(ValueError, match=message):
        find([], **options)
