"""A scripted shift on the rectangle of roads (see conftest), 08:00 to 08:30, fixes every 10 s.

JX01-1 (home A) drives east along First Street to x = 200, waits there 6 minutes (point 1),
drives on to node 3, crossing into zone B, north to node 4, west to x = 400 on the border, sends
nothing for 10 minutes, drives on west to node 5 and waits there to the end (point 2).
JX01-2 (home A) drives north from node 1 to x = 0, y = 200, waits there (point 3) and goes
silent at 08:05:40. JX02-1 (home B) sends no fix, but checks in by hand at point 4.
"""

from __future__ import annotations

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.compliance import ShiftReport, compliance
from jiaoxun.tracking.patrol import CheckIn, MandatoryLine, MandatoryPoint, manual_check_in


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


@pytest.fixture
def report(roads, edge, track, place, clock, fences) -> ShiftReport:
    def point(id_, x, y, zone, visits=1):
        return MandatoryPoint(id_, *place(x, y), 50.0, 5.0, visits_per_shift=visits, zone=zone)

    points = [point(1, 200, 0, "A"), point(2, 0, 400, "A", 2), point(3, 0, 200, "A")]
    points.append(point(4, 800, 200, "B"))
    lines = [
        MandatoryLine(11, (edge(1, 2), edge(2, 3)), "A"),
        MandatoryLine(12, (edge(4, 5), edge(5, 1)), "A"),
        MandatoryLine(21, (edge(3, 4),), "B"),
    ]
    by_hand = manual_check_in(points[3], *place(810, 200), clock(600), unit="JX02-1")
    return compliance(
        roads,
        {"JX01-1": track(JX01_1), "JX01-2": track(JX01_2)},
        fences=fences,
        points=points,
        lines=lines,
        home_zones={"JX01-1": "A", "JX01-2": "A", "JX02-1": "B"},
        start=clock(0),
        end=clock(1800),
        due_at={1: clock(300)},
        manual=[by_hand],
    )


def test_unit_figures(report, clock):
    one, two, three = report.units
    assert [u.unit for u in report.units] == ["JX01-1", "JX01-2", "JX02-1"]
    assert one.patrol_km == pytest.approx(2.0, abs=1e-4)
    assert one.patrol_min == pytest.approx((1790 - 600) / 60)  # less the 10-minute gap
    # out of A from x = 500 (410 s) until back 100 m inside at x = 300 (1130 s), less the gap
    assert one.outside_zone_min == pytest.approx(2.0)
    assert one.check_ins == (
        CheckIn(1, "JX01-1", clock(20), clock(320), left_at=clock(380)),
        CheckIn(2, "JX01-1", clock(1160), clock(1460)),
    )
    assert (two.patrol_km, two.patrol_min, two.outside_zone_min) == pytest.approx(
        (0.2, 340 / 60, 0.0), abs=1e-4
    )
    assert two.check_ins == (CheckIn(3, "JX01-2", clock(20), clock(320)),)
    assert (three.patrol_km, three.patrol_min, [c.manual for c in three.check_ins]) == (
        0.0,
        0.0,
        [True],
    )


def test_unit_duty_covers_its_home_zone_only(report):
    one, two, three = (u.duty for u in report.units)
    assert [p.point_id for p in one.points] == [1, 2, 3]
    assert (one.visits_done, one.visits_required, one.late, one.missed) == (2, 4, (1,), (2, 3))
    assert [line.covered for line in one.lines] == pytest.approx([1.0, 2 / 3], abs=1e-4)
    assert one.line_coverage == pytest.approx(0.8, abs=1e-4)
    assert (two.visits_done, two.late, two.missed) == (1, (), (1, 2))
    assert [line.covered for line in two.lines] == pytest.approx([0.0, 1 / 6], abs=1e-4)
    assert (three.visits_done, three.missed, three.line_coverage) == (1, (), 0.0)


def test_zone_figures_add_up_the_zone_s_units(report):
    a, b = report.zones
    assert (a.zone, a.units, b.zone, b.units) == ("A", ("JX01-1", "JX01-2"), "B", ("JX02-1",))
    assert (a.patrol_km, a.patrol_min, a.outside_zone_min) == pytest.approx(
        (2.2, 25.5, 2.0), abs=1e-4
    )
    assert (a.duty.visits_done, a.duty.visits_required) == (3, 4)
    assert (a.duty.late, a.duty.missed) == ((1,), (2,))
    assert [line.covered for line in a.duty.lines] == pytest.approx([1.0, 5 / 6], abs=1e-4)
    assert a.duty.line_coverage == pytest.approx(0.9, abs=1e-4)
    # zone B's line was driven, but by a car of zone A: not B's duty done
    assert (b.duty.visits_done, b.duty.missed, b.duty.line_coverage) == (1, (), 0.0)


def test_a_unit_without_a_home_zone_is_refused(roads, fences, clock, track):
    with pytest.raises(InvalidInput, match="units without a home zone: JX09-9"):
        compliance(
            roads,
            {"JX09-9": track(JX01_2)},
            fences=fences,
            points=[],
            lines=[],
            home_zones={},
            start=clock(0),
            end=clock(1800),
        )


def test_a_shift_must_end_after_it_starts(roads, fences, clock):
    with pytest.raises(InvalidInput, match="must end after it starts"):
        compliance(
            roads,
            {},
            fences=fences,
            points=[],
            lines=[],
            home_zones={},
            start=clock(0),
            end=clock(0),
        )
