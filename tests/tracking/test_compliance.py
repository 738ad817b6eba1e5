"""A scripted shift on the rectangle of roads (see conftest), 08:00 to 08:30, fixes every 10 s.

JX01-1 (home A) drives east along First Street to x = 200, waits there 6 minutes (point 1),
drives on to node 3, crossing into zone B, north to node 4, west to x = 400 on the border, sends
nothing for 10 minutes, drives on west to node 5 and waits there to the end (point 2).
JX01-2 (home A) drives north from node 1 to x = 0, y = 200, waits there (point 3) and goes
silent at 08:05:40. JX02-1 (home B) sends no fix, but checks in by hand at point 4.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from jiaoxun.geo.matching import Matcher
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.tracking.compliance import CheckInRecord, ReportRules, ShiftReport, compliance
from jiaoxun.tracking.duty import DutyRules, UnitDuty, flush, take_fix
from jiaoxun.tracking.lines import MandatoryLine
from jiaoxun.tracking.patrol import MandatoryPoint

UTC_ZONE = ZoneInfo("UTC")


def every_10_s(t0, t1, x0, y0, x1, y1):
    """(s, x, y) from time t0 to t1 inclusive, moving evenly from (x0, y0) to (x1, y1)."""
    n = (t1 - t0) // 10
    return [(t0 + 10 * i, x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]


JX01_1 = [
    *every_10_s(0, 20, 0, 0, 200, 0),
    *every_10_s(30, 380, 200, 0, 200, 0),  # point 1, arrived at 20 s
    *every_10_s(390, 440, 300, 0, 800, 0),  # past the border x = 400 at 400 s
    *every_10_s(450, 480, 800, 100, 800, 400),
    *every_10_s(490, 520, 700, 400, 400, 400),
    *every_10_s(1120, 1160, 400, 400, 0, 400),  # after a 10-minute gap
    *every_10_s(1170, 1790, 0, 400, 0, 400),  # point 2, arrived at 1160 s
]
JX01_2 = [*every_10_s(0, 20, 0, 0, 0, 200), *every_10_s(30, 340, 0, 200, 0, 200), (1800, 5000, 0)]


def drive(rules, unit_id, zone, fixes, start, end):
    """The unit's duty of the shift [start, end) from its fixes, and its check-ins."""
    duty = UnitDuty(unit_id, zone, start, end)
    check_ins = []
    for f in fixes:
        if start <= f.at < end:
            taken = take_fix(
                duty,
                rules,
                at=f.at,
                lon=f.lon,
                lat=f.lat,
                device=f"D{unit_id}",
                accuracy_m=5.0,
                on_order=False,
            )
            check_ins += [
                CheckInRecord(c.point_id, unit_id, c.arrived_at, c.checked_in_at, False, True)
                for c in taken.check_ins
            ]
    flush(duty, rules, keep_anchor=False)
    return duty, check_ins


@pytest.fixture
def report(roads, edge, track, place, clock, fences) -> ShiftReport:
    def point(id_, x, y, zone, visits=1, windows=()):
        return MandatoryPoint(
            id_, *place(x, y), 50.0, 5.0, visits_per_shift=visits, zone=zone, windows=windows
        )

    # point 1 is due in the shift's first five minutes (a school gate)
    points = [point(1, 200, 0, "A", windows=(("08:00", "08:05"),)), point(2, 0, 400, "A", 2)]
    points += [point(3, 0, 200, "A"), point(4, 800, 200, "B")]
    lines = [
        MandatoryLine(11, (edge(1, 2), edge(2, 3)), "A"),
        MandatoryLine(12, (edge(4, 5), edge(5, 1)), "A"),
        MandatoryLine(21, (edge(3, 4),), "B"),
    ]
    matcher = Matcher(TravelTimes(roads, max_snap_m=100.0))
    rules = DutyRules.of(
        fences=fences, points=points, lines=lines, network=roads, matcher=matcher, tz=UTC_ZONE
    )
    start, end = clock(0), clock(1800)
    one, one_in = drive(rules, 1, "A", track(JX01_1), start, end)
    two, two_in = drive(rules, 2, "A", track(JX01_2), start, end)
    # JX02-1 sends no fix but checks in by hand at point 4: unproved by any track
    by_hand = CheckInRecord(4, 3, clock(600), clock(600), manual=True, proved=False)
    return compliance(
        ReportRules(roads, points, lines, UTC_ZONE),
        start=start,
        end=end,
        now=end,
        units={1: ("JX01-1", "A"), 2: ("JX01-2", "A"), 3: ("JX02-1", "B")},
        duties={1: one, 2: two},
        check_ins=[*one_in, *two_in, by_hand],
    )


def test_unit_figures(report, clock):
    one, two, three = report.units
    assert [u.unit for u in report.units] == ["JX01-1", "JX01-2", "JX02-1"]
    assert one.times.patrol_km == pytest.approx(2.0, abs=0.02)  # the matched roads
    assert one.times.patrol_min == pytest.approx((1790 - 600) / 60)  # less the 10-minute gap
    # out of A from x = 500 (410 s) until back 100 m inside at x = 300 (1130 s), less the gap
    assert one.times.outside_zone_min == pytest.approx(2.0)
    assert [(c.point_id, c.arrived_at, c.checked_in_at) for c in one.check_ins] == [
        (1, clock(20), clock(320)),
        (2, clock(1160), clock(1460)),
    ]
    assert (two.times.patrol_km, two.times.patrol_min, two.times.outside_zone_min) == (
        pytest.approx((0.2, 340 / 60, 0.0), abs=0.005)
    )
    assert [(c.point_id, c.checked_in_at) for c in two.check_ins] == [(3, clock(320))]
    assert (three.times.patrol_km, three.times.patrol_min) == (0.0, 0.0)
    assert [(c.manual, c.proved) for c in three.check_ins] == [(True, False)]


def test_unit_duty_covers_its_home_zone_only(report, clock):
    one, two, three = (u.duty for u in report.units)
    assert [p.point_id for p in one.points] == [1, 2, 3]
    assert (one.visits_done, one.visits_required, one.late, one.missed) == (2, 4, (1,), (2, 3))
    (gate,) = one.points[0].windows
    assert (gate.status, gate.visited_at) == ("late", clock(320))
    assert [line.covered for line in one.lines] == pytest.approx([1.0, 2 / 3], abs=0.01)
    assert [(line.passes, line.status) for line in one.lines] == [(1, "done"), (0, "missed")]
    assert one.line_coverage == pytest.approx(0.8, abs=0.01)
    assert (two.visits_done, two.late, two.missed) == (1, (), (1, 2))
    assert two.points[0].windows[0].status == "missed"
    assert [line.covered for line in two.lines] == pytest.approx([0.0, 1 / 6], abs=0.01)
    # a check-in by hand that no track proves is shown, never counted
    (by_hand,) = three.points
    assert (by_hand.visits, by_hand.unproved, by_hand.status) == (0, 1, "missed")
    assert (three.visits_done, three.missed, three.line_coverage) == (0, (4,), 0.0)


def test_zone_figures_add_up_the_zone_s_units(report):
    a, b = report.zones
    assert (a.zone, a.units, b.zone, b.units) == ("A", ("JX01-1", "JX01-2"), "B", ("JX02-1",))
    assert (a.times.patrol_km, a.times.patrol_min, a.times.outside_zone_min) == pytest.approx(
        (2.2, 25.5, 2.0), abs=0.03
    )
    assert (a.duty.visits_done, a.duty.visits_required) == (3, 4)
    assert (a.duty.late, a.duty.missed) == ((1,), (2,))
    assert [line.covered for line in a.duty.lines] == pytest.approx([1.0, 5 / 6], abs=0.01)
    assert a.duty.line_coverage == pytest.approx(0.9, abs=0.01)
    # zone B's line was driven, but by a car of zone A: not B's duty done
    assert (b.duty.visits_done, b.duty.missed, b.duty.line_coverage) == (0, (4,), 0.0)


def test_a_running_shift_judges_what_is_still_to_come_as_pending(report, roads, place, clock):
    points = [MandatoryPoint(9, *place(0, 0), 50.0, 5.0, zone="A", windows=(("08:10", "08:20"),))]
    rules = ReportRules(roads, points, [], UTC_ZONE)
    for now_s, status in ((300, "pending"), (700, "pending"), (1300, "overdue"), (1800, "missed")):
        shift = compliance(
            rules,
            start=clock(0),
            end=clock(1800),
            now=clock(now_s),
            units={1: ("JX01-1", "A")},
            duties={},
            check_ins=[],
        )
        assert shift.units[0].duty.points[0].status == status, now_s
