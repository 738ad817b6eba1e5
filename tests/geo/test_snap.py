"""Snapping points of the hand-made town onto its road edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jiaoxun.errors import InvalidInput, OffNetwork
from jiaoxun.geo.snap import Snap, Snapper, Snaps, utm_crs


@pytest.fixture(scope="module")
def snapper(town):
    return Snapper(town, max_snap_m=100.0)


def test_snap_distance_is_in_metres(snapper, town, plan):
    # 50 m north of the middle of Third Street (7-8), an east-west road
    snap = snapper.snap_many(*plan.north_of(plan.between(7, 8, 0.5), 50.0))[0]
    assert snap.distance_m == pytest.approx(50.0, abs=1.0)
    assert snap.edge in {plan.edge(town, 7, 8), plan.edge(town, 8, 7)}
    assert snap.fraction == pytest.approx(0.5, abs=0.01)
    assert (snap.lon, snap.lat) == pytest.approx(plan.between(7, 8, 0.5), abs=1e-6)


def test_snap_follows_the_polyline_not_the_chord(snapper, town, plan):
    # 20 m south of First Street's shape node 10, which lies 60 m south of the chord 1-2
    lon, lat = plan.north_of(plan.nodes[10], -20.0)
    snap = snapper.snap_many(lon, lat)[0]
    assert snap.edge in {plan.edge(town, 1, 2), plan.edge(town, 2, 1)}
    assert snap.distance_m == pytest.approx(20.0, abs=0.5)
    assert snap.fraction == pytest.approx(0.5, abs=1e-3)
    assert (snap.lon, snap.lat) == pytest.approx(plan.nodes[10], abs=1e-6)


def test_fraction_runs_from_the_tail_of_a_reverse_one_way(snapper, town, plan):
    # Second Street is drawn 4, 5, 6 with oneway=-1: its edge runs 6 -> 5
    snap = snapper.snap_many(*plan.between(6, 5, 0.25))[0]
    assert snap.edge == plan.edge(town, 6, 5)
    assert snap.fraction == pytest.approx(0.25, abs=1e-4)
    assert snap.distance_m == pytest.approx(0.0, abs=0.05)


def test_snap_many_keeps_the_order_of_the_points(snapper, town, plan):
    points = [plan.between(2, 5, 0.5), plan.between(6, 5, 0.5), plan.between(20, 21, 0.5)]
    lon, lat = np.array(points).T
    snaps = snapper.snap_many(lon, lat)
    assert len(snaps) == 3
    assert snaps.edge.tolist() == [
        plan.edge(town, 2, 5),
        plan.edge(town, 6, 5),
        plan.edge(town, 20, 22),
    ]
    assert [snapper.snap_many(x, y)[0] for x, y in points] == [snaps[i] for i in range(3)]


def test_point_beyond_the_limit_is_off_network(snapper, plan):
    lon, lat = plan.north_of(plan.between(7, 8, 0.5), 300.0)
    with pytest.raises(OffNetwork) as raised:
        snapper.snap_many(lon, lat)
    assert "is 300 m from the nearest road" in str(raised.value)
    assert "the snapping limit is 100 m" in str(raised.value)
    assert isinstance(raised.value, InvalidInput)


def test_first_point_beyond_the_limit_is_named(snapper, plan):
    near = plan.between(7, 8, 0.5)
    far = plan.north_of(near, 150.0)
    with pytest.raises(OffNetwork, match=rf"point \({far[0]:.6f}, {far[1]:.6f}\) is 150 m"):
        snapper.snap_many(np.array([near[0], far[0]]), np.array([near[1], far[1]]))


@pytest.mark.parametrize(("lon", "lat"), [(math.nan, 45.75), (126.6, math.inf), (-math.inf, 0.0)])
def test_non_finite_coordinates_are_refused(snapper, lon, lat):
    with pytest.raises(OffNetwork, match="coordinates must be finite numbers"):
        snapper.snap_many(np.array([126.6, lon]), np.array([45.75, lat]))


@pytest.mark.parametrize("max_snap_m", [0.0, -1.0, math.nan])
def test_snap_limit_must_be_positive(town, max_snap_m):
    with pytest.raises(ValueError, match=r"max_snap_m\(=.*\) must be > 0"):
        Snapper(town, max_snap_m=max_snap_m)


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(126.6, 45.75, 32652), (129.0, 45.75, 32652), (-70.6, -33.4, 32719), (-180.0, 10.0, 32601)],
)
def test_utm_zone(lon, lat, epsg):
    assert utm_crs(lon, lat).to_epsg() == epsg


def test_snaps_hold_snap_values_in_parallel_arrays():
    a = Snap(edge=3, fraction=0.25, distance_m=12.5, lon=126.6, lat=45.75)
    b = Snap(edge=7, fraction=1.0, distance_m=0.0, lon=126.7, lat=45.8)
    snaps = Snaps.of([a, b])
    assert len(snaps) == 2
    assert (snaps[0], snaps[1]) == (a, b)
    assert snaps.edge.dtype == np.int64
    assert snaps.fraction.tolist() == [0.25, 1.0]


@pytest.mark.parametrize(("lon", "lat"), [(30.0, 0.0), (-150.0, -80.0), (180.0, 90.0)])
def test_a_point_half_a_world_away_is_off_network(snapper, lon, lat):
    """Found by fuzzing POST /api/incidents: the town's projection has no plane for such a
    point, and no road was found for it (an IndexError, a 500)."""
    with pytest.raises(OffNetwork, match="the snapping limit is 100 m"):
        snapper.snap_many(np.array([lon]), np.array([lat]))
