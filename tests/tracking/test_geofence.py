from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.geofence import FenceEvent, FenceState, ZoneFences


@pytest.fixture
def drive(fences, place, clock):
    """Feed (x, y) positions 10 s apart to the fences; all events, and the final state."""

    def run(positions, state=None):
        events = []
        for i, (x, y) in enumerate(positions):
            state, new = fences.update(state, *place(x, y), clock(10 * i))
            events.extend(new)
        return events, state

    return run


def test_first_fix_enters_the_zone_it_is_in(fences, place, clock):
    state, events = fences.update(None, *place(100, 0), clock(0))
    assert state == FenceState(frozenset({"A"}))
    assert events == (FenceEvent("enter", "A", clock(0)),)


def test_first_fix_near_a_border_enters_the_zone_it_is_plainly_in(fences, place, clock):
    state, _ = fences.update(None, *place(410, 0), clock(0))
    assert state.zones == {"B"}


def test_a_fix_in_no_zone_holds_none(fences, place, clock):
    assert fences.update(None, *place(3000, 0), clock(0)) == (FenceState(), ())


def test_a_clean_crossing_gives_exactly_one_exit_and_one_enter(drive, clock):
    events, state = drive([(x, 200) for x in range(0, 801, 50)])
    # x = 450 is the first fix more than 30 m past the border x = 400: fix 9, 90 s in
    assert events == [
        FenceEvent("enter", "A", clock(0)),
        FenceEvent("exit", "A", clock(90)),
        FenceEvent("enter", "B", clock(90)),
    ]
    assert state.zones == {"B"}


@pytest.mark.parametrize(("start_x", "zone"), [(300, "A"), (500, "B")])
def test_zigzag_within_20_m_of_the_border_gives_no_events(drive, start_x, zone):
    zigzag = [(400 + 20 * (-1) ** i * (1 - (i % 3) / 4), 10 * i) for i in range(60)]
    events, state = drive([(start_x, 0), *zigzag])
    assert events == [FenceEvent("enter", zone, events[0].at)]
    assert state.zones == {zone}


def test_driving_along_the_outer_border_within_the_band_keeps_the_zone(drive):
    events, state = drive([(-580, 0), *((-600 + 25 * (-1) ** i, 20 * i) for i in range(30))])
    assert [e.kind for e in events] == ["enter"]
    assert state.zones == {"A"}


def test_leaving_every_zone_and_coming_back_enters_again_once_plainly_inside(drive, clock):
    events, state = drive([(-500, 0), (-640, 0), (-610, 0), (-595, 0), (-590, 0)])
    assert events == [
        FenceEvent("enter", "A", clock(0)),
        FenceEvent("exit", "A", clock(10)),
        FenceEvent("enter", "A", clock(30)),
    ]
    assert state.zones == {"A"}


def test_update_is_pure_and_the_state_frozen(fences, place, clock):
    state, _ = fences.update(None, *place(100, 0), clock(0))
    again, events = fences.update(state, *place(120, 0), clock(10))
    assert again is state
    assert events == ()
    assert fences.update(state, *place(600, 0), clock(20))[0].zones == {"B"}
    assert state.zones == {"A"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.zones = frozenset()  # type: ignore[misc]


def test_overlapping_zones_are_held_together(place, rectangle, clock):
    fences = ZoneFences.from_polygons(
        ["city", "centre"], [rectangle(-1000, -1000, 1000, 1000), rectangle(-100, -100, 100, 100)]
    )
    state, events = fences.update(None, *place(0, 0), clock(0))
    assert state.zones == {"city", "centre"}
    assert [e.zone for e in events] == ["centre", "city"]


def test_zones_at_is_vectorised_and_a_border_goes_to_the_first_zone(fences, place):
    lon, lat = np.array([place(x, 0) for x in (100, 700, 3000, 400)]).T
    assert fences.zones_at(lon, lat).tolist() == ["A", "B", "", "A"]
    assert fences.zones_at(np.array([]), np.array([])).tolist() == []


def grid_fences(columns, rows, rectangle):
    """`columns` x `rows` squares of 1 km, with hysteresis 30 m."""
    codes = [f"Z{c}-{r}" for c in range(columns) for r in range(rows)]
    squares = [
        rectangle(1000 * c, 1000 * r, 1000 * (c + 1), 1000 * (r + 1))
        for c in range(columns)
        for r in range(rows)
    ]
    return ZoneFences.from_polygons(codes, squares, hysteresis_m=30.0)


def test_a_position_is_tested_only_against_the_fences_near_it(monkeypatch, place, rectangle, clock):
    tested = []
    contains_xy = shapely.contains_xy
    monkeypatch.setattr(
        shapely, "contains_xy", lambda g, x, y: tested.append(np.size(g)) or contains_xy(g, x, y)
    )
    for columns, rows in [(5, 2), (10, 10)]:  # 10 fences, then 100
        fences = grid_fences(columns, rows, rectangle)
        tested.clear()
        fences.update(None, *place(1010, 1010), clock(0))  # near the corner of four squares
        fences.update(None, *place(1500, 1500), clock(10))  # in the middle of one
        assert tested == [4, 1]
        assert fences.near(*place(1010, 1010)) == ("Z0-0", "Z0-1", "Z1-0", "Z1-1")
        assert fences.near(*place(1500, 1500)) == ("Z1-1",)


@pytest.mark.parametrize(
    ("codes", "hysteresis_m", "message"),
    [
        (["A", "A"], 30.0, "unique"),
        (["A"], 30.0, "1 zone codes for 2 polygons"),
        (["A", "B"], -1.0, "hysteresis_m"),
    ],
)
def test_bad_fences_are_refused(rectangle, codes, hysteresis_m, message):
    squares = [rectangle(0, 0, 100, 100), rectangle(100, 0, 200, 100)]
    with pytest.raises(InvalidInput, match=message):
        ZoneFences.from_polygons(codes, squares, hysteresis_m=hysteresis_m)
