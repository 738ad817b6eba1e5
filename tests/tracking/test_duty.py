"""A unit's duty taken fix by fix: fusion of its devices, order time apart, JSON round trip,
passes of a line, line duty windows, shifts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jiaoxun.geo.matching import Matcher
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.duty import SHIFT, DutyRules, UnitDuty, flush, take_fix
from jiaoxun.tracking.lines import MandatoryLine
from jiaoxun.tracking.patrol import MandatoryPoint, proved_stay

UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def rules(roads, edge, fences, place):
    points = [MandatoryPoint(1, *place(200, 0), 50.0, 5.0, zone="A")]
    lines = [
        MandatoryLine(11, (edge(1, 2), edge(2, 3)), "A", windows=(("08:00", "08:05"),)),
        MandatoryLine(12, (edge(1, 2),), "A"),
    ]
    matcher = Matcher(TravelTimes(roads, max_snap_m=100.0))
    return DutyRules.of(
        fences=fences, points=points, lines=lines, network=roads, matcher=matcher, tz=UTC_ZONE
    )


def fresh(clock):
    return UnitDuty(1, "A", clock(0), clock(3600))


def feed(duty, rules, place, clock, script, *, device="T", accuracy_m=5.0, on_order=False):
    found = []
    for s, x, y in script:
        found.append(
            take_fix(
                duty,
                rules,
                at=clock(s),
                lon=place(x, y)[0],
                lat=place(x, y)[1],
                device=device,
                accuracy_m=accuracy_m,
                on_order=on_order,
            )
        )
    return found


def test_two_devices_in_one_parked_car_are_no_driving(rules, place, clock):
    """The testers' car: a terminal and a phone 78 m apart, each every 5 s for 10 minutes,
    interleaved: 9.2 km of 'patrol' before, by distance over the interleaved fixes."""
    duty = fresh(clock)
    for i in range(120):
        t = 5 * i
        feed(duty, rules, place, clock, [(t, 100, 0)], device="terminal", accuracy_m=8.0)
        feed(duty, rules, place, clock, [(t + 2.5, 100, 78)], device="phone", accuracy_m=10.0)
    flush(duty, rules)
    assert duty.patrol_m < 20
    assert duty.patrol_s == pytest.approx(595)
    assert duty.last.device == "terminal"


def test_the_other_device_is_followed_when_the_first_falls_silent(rules, place, clock):
    duty = fresh(clock)
    feed(duty, rules, place, clock, [(0, 0, 0), (10, 100, 0)], device="terminal")
    feed(duty, rules, place, clock, [(20, 200, 0)], device="phone")  # 10 s later: ignored
    assert duty.last.device == "terminal"
    feed(duty, rules, place, clock, [(30, 300, 0)], device="phone")  # 20 s: the phone now
    assert duty.last.device == "phone"
    feed(duty, rules, place, clock, [(31, 300, 0)], device="terminal", accuracy_m=2.0)
    assert duty.last.device == "terminal"  # twice as accurate: taken at once


def test_time_on_an_order_is_not_patrol_time_nor_out_of_zone(rules, place, clock):
    """Driving from zone A into B (x > 400) on an order, back on patrol: the order's minutes
    and metres are the order's, and being in B then is no unauthorised time out of zone."""
    duty = fresh(clock)
    feed(duty, rules, place, clock, [(10 * i, 20 * i, 0) for i in range(10)])  # patrol
    east = [(100 + 10 * i, 200 + 50 * i, 0) for i in range(13)]  # to x = 800, into zone B
    feed(duty, rules, place, clock, east, on_order=True)
    feed(duty, rules, place, clock, [(230 + 10 * i, 800, 0) for i in range(6)])  # patrol in B
    flush(duty, rules)
    assert duty.order_s == pytest.approx(130)  # from the first fix on the order to the first off
    assert duty.patrol_s == pytest.approx(280 - 130)
    assert duty.order_m == pytest.approx(600, abs=15)
    assert duty.patrol_m == pytest.approx(200, abs=15)
    assert duty.outside_s == pytest.approx(50)  # only the patrol in B after the order


def test_a_duty_survives_json_and_resumes_a_visit_in_progress(rules, place, clock):
    """Stopped 3 minutes into a 5-minute dwell, stored, read back: the check-in comes at 5
    minutes, and crossing into zone B is the only zone event (no spurious entry into A)."""
    duty = fresh(clock)
    feed(duty, rules, place, clock, [(10 * i, 200, 0) for i in range(19)])
    stored = json.loads(json.dumps([duty.state_json(), duty.portions_json(), duty.roads_json()]))
    again = UnitDuty.from_json(1, clock(0), clock(3600), *stored)
    assert again.state_json() == duty.state_json()
    found = feed(again, rules, place, clock, [(10 * i, 200, 0) for i in range(19, 31)])
    assert [c.checked_in_at for f in found for c in f.check_ins] == [clock(300)]
    out = feed(again, rules, place, clock, [(310 + 10 * i, 200 + 100 * i, 0) for i in range(1, 7)])
    events = [(e.kind, e.zone) for f in out for e in f.fence_events]
    assert events == [("exit", "A"), ("enter", "B")]


def test_a_line_driven_twice_is_two_passes_and_windows_keep_their_own_roads(rules, place, clock):
    duty = fresh(clock)
    there = [(10 * i, 80 * i, 0) for i in range(11)]  # node 1 to node 3 by 08:01:40
    back = [(100 + 10 * i, 800 - 80 * i, 0) for i in range(1, 11)]
    again = [(400 + 10 * i, 80 * i, 0) for i in range(11)]  # after the 08:00-08:05 window
    feed(duty, rules, place, clock, there + back + again)
    flush(duty, rules)
    assert duty.passes == {11: 3, 12: 3}
    assert set(duty.portions) == {SHIFT, "08:00-08:05"}
    assert sum(hi - lo for v in duty.portions["08:00-08:05"].values() for lo, hi in v) > 1.9


def test_shifts_follow_the_local_clock():
    clock = ShiftClock.of(["20:00", "08:00"], ZoneInfo("Asia/Shanghai"))
    start, end = clock.shift_at(datetime(2026, 12, 2, 13, 0, tzinfo=UTC))  # 21:00 local
    assert (start, end) == (
        datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 0, 0, tzinfo=UTC),
    )
    assert clock.shift_at(start) == (start, end)
    assert clock.shift_at(start - timedelta(microseconds=1))[1] == start
    with pytest.raises(ValueError, match="'8h' is not HH:MM"):
        ShiftClock.of(["8h"], UTC_ZONE)


def test_a_stay_proves_a_check_in_by_hand_only_with_the_dwell(place, clock):
    point = MandatoryPoint(1, *place(0, 0), 50.0, 5.0)
    parked = [(clock(10 * i), *place(20, 0)) for i in range(40)]  # 0 s to 390 s
    assert proved_stay(point, parked, clock(360)) == clock(0)
    assert proved_stay(point, parked[:25], clock(240)) is None  # 4 minutes: no dwell yet
    assert proved_stay(point, [], clock(360)) is None  # no fix at all
    away = [(clock(10 * i), *place(500, 0)) for i in range(40)]
    assert proved_stay(point, away, clock(360)) is None
    assert proved_stay(point, parked, clock(390 + 200)) is None  # the stay ended long before
