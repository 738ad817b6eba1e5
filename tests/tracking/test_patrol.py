from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.lines import driven_fractions, driven_portions, line_coverage, merge_portions
from jiaoxun.tracking.patrol import (
    CheckIn,
    MandatoryPoint,
    PointFence,
    PointVisits,
    manual_check_in,
)


@pytest.fixture
def point(place):
    """A point at x = 0, y = 0 with a 50 m radius and a 5 minute dwell."""
    lon, lat = place(0, 0)
    return MandatoryPoint(id=7, lon=lon, lat=lat, radius_m=50.0, dwell_min=5.0)


@pytest.fixture
def visit(point, place, clock):
    """Feed (seconds, x metres from the point) fixes to the point visits, a fix more than 300 s
    after the one before breaking the stay; all check-ins emitted."""
    visits = PointVisits(PointFence.from_points([point]))

    def run(script, *, y=0.0):
        state, emitted, last = {}, [], None
        for s, x in script:
            fx, fy = visits.fence.xy.transform(*place(x, y))
            joined = last is not None and s - last <= 300
            emitted += visits.step(state, fx, fy, clock(s), unit="JX01-1", joined=joined)
            last = s
        return emitted

    return run


def stay(start_s, end_s, x=20.0, every_s=10):
    """Fixes inside the radius from `start_s` to `end_s`, with one outside before and after."""
    inside = [(s, x) for s in range(start_s, end_s + 1, every_s)]
    return [(start_s - every_s, 200.0), *inside, (end_s + every_s, 200.0)]


def test_a_dwell_of_4_50_is_no_visit(visit):
    assert visit(stay(10, 10 + 290)) == []


def test_a_dwell_of_5_00_is_one_check_in_when_the_dwell_completes(visit, clock):
    assert visit(stay(10, 10 + 300)) == [CheckIn(7, "JX01-1", clock(10), clock(310))]


def test_staying_longer_is_still_one_check_in(visit):
    assert len(visit(stay(10, 10 + 3600))) == 1


def test_leaving_for_longer_than_the_gap_and_coming_back_is_a_second_visit(visit, clock):
    first, second = visit(stay(10, 400) + stay(800, 1200))
    assert (first.arrived_at, first.checked_in_at) == (clock(10), clock(310))
    assert (second.arrived_at, second.checked_in_at) == (clock(800), clock(1100))


def test_coming_back_within_the_gap_is_the_same_visit_and_the_time_away_no_dwell(visit, clock):
    """In from 10 s to 200 s, out (200 m away) until 280 s, back from 290 s: the same visit,
    whose 5 minutes of dwell complete at 10 + 300 + 90 s away."""
    script = [(s, 20.0) for s in range(10, 201, 10)] + [(s, 200.0) for s in range(210, 281, 10)]
    script += [(s, 20.0) for s in range(290, 1201, 10)]
    (check_in,) = visit(script)
    assert (check_in.arrived_at, check_in.checked_in_at) == (clock(10), clock(400))


def test_parked_at_the_edge_of_the_circle_is_one_visit_whatever_the_noise(visit, clock):
    """The testers' car: 15 minutes 45 m from a 50 m point (dwell 5 here), 2-6 m of GPS noise
    every 10 s: without hysteresis it scored 0, 1 or 2 check-ins by the noise."""
    rng = np.random.default_rng(45)
    for _ in range(20):
        noise = rng.uniform(2, 6, 91) * rng.choice([-1, 1], 91)
        script = [(10 * i, 45.0 + noise[i]) for i in range(91)]
        (check_in,) = visit(script)
        assert check_in.checked_in_at - check_in.arrived_at >= timedelta(minutes=5)


def test_a_gap_in_fixes_longer_than_the_limit_breaks_the_dwell(visit, clock):
    # inside from 0 s to 120 s, no fix for 6 minutes, inside again from 480 s to 700 s
    script = [(s, 0.0) for s in range(0, 121, 10)] + [(s, 0.0) for s in range(480, 701, 10)]
    assert visit(script) == []
    # within the limit the dwell goes on: 0 s to 60 s, then a 4 minute gap
    assert visit([(0, 0.0), (30, 0.0), (60, 0.0), (300, 0.0)]) == [
        CheckIn(7, "JX01-1", clock(0), clock(300))
    ]


def test_no_dwell_checks_in_on_the_first_fix_inside(place, clock):
    lon, lat = place(0, 0)
    visits = PointVisits(PointFence.from_points([MandatoryPoint(1, lon, lat, 50.0, 0.0)]))
    x, y = visits.fence.xy.transform(*place(30, 0))
    check_ins = visits.step({}, x, y, clock(0), unit="JX01-1", joined=False)
    assert [c.checked_in_at for c in check_ins] == [clock(0)]


def test_the_radius_is_in_metres(point, place):
    fence = PointFence.from_points([point])
    assert fence.inside(*place(0, 45)) == (7,)
    assert fence.inside(*place(0, 55)) == ()
    x, y = fence.xy.transform(*place(0, 65))
    assert [i for i, _ in fence.within_xy(x, y, margin_m=20)] == [0]
    assert fence.within_xy(x, y, margin_m=10) == []


def test_points_are_looked_up_in_a_tree(monkeypatch, place):
    grid = [
        MandatoryPoint(10 * i + j, *place(500 * i, 500 * j), radius_m=50.0, dwell_min=5.0)
        for i in range(10)
        for j in range(10)
    ]
    hypot, measured = np.hypot, []
    monkeypatch.setattr(np, "hypot", lambda a, b: measured.append(np.size(a)) or hypot(a, b))
    for points in (grid[:10], grid):  # 10 points, then 100
        measured.clear()
        assert PointFence.from_points(points).inside(*place(0, 20)) == (0,)
        assert measured == [1]


def test_manual_check_in_within_the_radius(point, place, clock):
    check_in = manual_check_in(point, *place(30, 0), clock(60), unit="JX01-1")
    assert check_in == CheckIn(7, "JX01-1", clock(60), clock(60), manual=True)


def test_manual_check_in_too_far_names_the_distance(point, place, clock):
    with pytest.raises(InvalidInput, match=r"80 m from it, the limit is 50 m"):
        manual_check_in(point, *place(80, 0), clock(60), unit="JX01-1")
    assert manual_check_in(point, *place(80, 0), clock(60), unit="JX01-1", max_distance_m=100)


@pytest.mark.parametrize(
    ("radius_m", "dwell_min"), [(0.0, 5.0), (50.0, -1.0)], ids=["radius", "dwell"]
)
def test_bad_points_are_refused(radius_m, dwell_min):
    with pytest.raises(InvalidInput, match=r"point 1: radius_m"):
        PointFence.from_points([MandatoryPoint(1, 126.6, 45.75, radius_m, dwell_min)])


# -- line coverage ------------------------------------------------------------------------------


def share(expected):
    """A share of length, to 1e-4: the drawn nodes sit on OSM's 1e-7° grid."""
    return pytest.approx(expected, abs=1e-4)


def test_a_line_half_driven_is_half_covered(roads, edge):
    line = [edge(1, 2), edge(2, 3)]
    assert line_coverage(roads, line, {edge(1, 2)}) == share(0.5)
    assert line_coverage(roads, line, {edge(2, 1)}) == share(0.5)  # the other way
    assert line_coverage(roads, line, {edge(1, 2): 0.5, edge(3, 2): 0.5}) == share(0.5)
    assert line_coverage(roads, line, set()) == 0.0


def test_a_stretch_listed_both_ways_counts_once(roads, edge):
    assert line_coverage(roads, [edge(1, 2), edge(2, 1)], {edge(1, 2)}) == share(1.0)


def test_a_line_without_edges_is_refused(roads):
    with pytest.raises(InvalidInput, match="at least one edge"):
        line_coverage(roads, [], set())


def covered(roads, edge, fixes, **options):
    """The share of First Street, 1 -> 2 -> 3, that `fixes` drove."""
    portions = driven_portions(roads, [(f.edge, f.fraction, f.at) for f in fixes], **options)
    return line_coverage(roads, [edge(1, 2), edge(2, 3)], driven_fractions(portions))


@pytest.mark.parametrize("xs", [range(0, 401, 100), range(400, -1, -100)], ids=["east", "west"])
def test_a_track_along_half_the_line_covers_half_of_it(roads, edge, track, xs):
    fixes = track([(10 * i, x, 5.0) for i, x in enumerate(xs)])
    assert covered(roads, edge, fixes) == share(0.5)


def test_fixes_on_adjacent_edges_cover_the_ends_of_both(roads, edge, track):
    fixes = track([(0, 350, 0), (10, 450, 0)])
    assert covered(roads, edge, fixes) == share(100 / 800)


def test_fixes_on_edges_that_do_not_meet_cover_nothing_between(roads, track):
    fixes = track([(0, 200, 0), (10, 800, 200)])
    assert driven_portions(roads, [(f.edge, f.fraction, f.at) for f in fixes]) == {}


def test_a_gap_or_a_fix_off_the_road_breaks_the_track(roads, edge, track):
    fixes = track([(0, 0, 0), (10, 100, 0), (400, 200, 0), (410, 300, 0)])
    assert covered(roads, edge, fixes, max_gap_s=300.0) == share(200 / 800)
    fixes = track([(0, 0, 0), (10, 100, 0), (20, 200, 300), (30, 300, 0), (40, 400, 0)])
    assert covered(roads, edge, fixes) == share(200 / 800)


def test_the_portions_of_several_cars_are_merged(roads, edge, track):
    east = driven_portions(
        roads, [(f.edge, f.fraction, f.at) for f in track([(0, 0, 0), (10, 300, 0)])]
    )
    west = driven_portions(
        roads, [(f.edge, f.fraction, f.at) for f in track([(0, 400, 0), (10, 100, 0)])]
    )
    both = driven_fractions(merge_portions(east, west))
    assert line_coverage(roads, [edge(1, 2), edge(2, 3)], both) == share(0.5)
