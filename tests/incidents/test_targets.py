"""1-3-5 minute targets: verdicts from the dispatch and from the call, pending versus missed."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from jiaoxun.incidents.targets import DEFAULT_TIERS, Applies, Tier, Verdict, judge, predict

CALL = datetime(2024, 3, 1, 22, 15, tzinfo=UTC)
DISPATCH = CALL + timedelta(seconds=60)


def after(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)


def test_default_tiers() -> None:
    assert [(t.name, t.bound_s, t.applies_to) for t in DEFAULT_TIERS] == [
        ("1分钟", 60.0, Applies.FIRST),
        ("3分钟", 180.0, Applies.FIRST),
        ("5分钟", 300.0, Applies.FULL),
    ]
    one, three, five = DEFAULT_TIERS
    assert one.applies(place_class="key_site", zone=None)
    assert not one.applies(place_class="urban_core", zone=None)
    assert not one.applies(place_class=None, zone=None)
    assert three.applies(place_class=None, zone=None)
    assert five.applies(place_class="key_site", zone="Z9")


@pytest.mark.parametrize("bound_min", [0, -1, math.nan])
def test_tier_refuses_non_positive_bound(bound_min: float) -> None:
    with pytest.raises(ValueError, match=r"^tier 'x': bound_min\(=.+\) must be > 0\.$"):
        Tier("x", bound_min, Applies.FIRST)


def test_zone_filter() -> None:
    tier = Tier("2分钟", 2, Applies.FIRST, zones=frozenset({"Z1", "Z2"}))
    assert tier.applies(place_class=None, zone="Z2")
    assert not tier.applies(place_class=None, zone="Z3")
    assert not tier.applies(place_class=None, zone=None)
    for zone, count in [("Z3", 0), ("Z1", 1)]:
        verdicts = judge(
            [tier],
            call_at=CALL,
            dispatched_at=DISPATCH,
            arrivals=[],
            required_units=1,
            place_class=None,
            zone=zone,
            now=DISPATCH,
        )
        assert len(verdicts) == count


def test_judge_arrived() -> None:
    # a key site; the first car 150 s after the dispatch, the second (of 2 asked for) after 280 s
    verdicts = judge(
        DEFAULT_TIERS,
        call_at=CALL,
        dispatched_at=DISPATCH,
        arrivals=[after(DISPATCH, 280), after(DISPATCH, 150)],
        required_units=2,
        place_class="key_site",
        zone="Z1",
        now=after(DISPATCH, 900),
    )
    assert verdicts == (
        Verdict("1分钟", 60.0, Applies.FIRST, 150.0, 210.0, False, False),
        Verdict("3分钟", 180.0, Applies.FIRST, 150.0, 210.0, True, False),
        Verdict("5分钟", 300.0, Applies.FULL, 280.0, 340.0, True, False),
    )


def test_judge_on_the_bound_is_met() -> None:
    (verdict,) = judge(
        [Tier("3分钟", 3, Applies.FIRST)],
        call_at=CALL,
        dispatched_at=DISPATCH,
        arrivals=[after(CALL, 180)],
        required_units=1,
        place_class=None,
        zone=None,
        now=after(CALL, 180),
    )
    assert (verdict.from_dispatch_s, verdict.from_call_s) == (120.0, 180.0)
    assert (verdict.met_from_dispatch, verdict.met_from_call) == (True, True)


@pytest.mark.parametrize(
    ("waited_s", "from_dispatch", "from_call"),
    [
        (100, None, None),  # 100 s after dispatch, 160 s after the call: still pending
        (120, None, None),  # exactly 3 minutes after the call: not yet missed
        (121, None, False),  # the call's clock ran out first
        (181, False, False),
    ],
)
def test_judge_pending_or_missed(
    waited_s: float, from_dispatch: bool | None, from_call: bool | None
) -> None:
    (verdict,) = judge(
        [Tier("3分钟", 3, Applies.FIRST)],
        call_at=CALL,
        dispatched_at=DISPATCH,
        arrivals=[],
        required_units=1,
        place_class=None,
        zone=None,
        now=after(DISPATCH, waited_s),
    )
    assert (verdict.from_dispatch_s, verdict.from_call_s) == (None, None)
    assert (verdict.met_from_dispatch, verdict.met_from_call) == (from_dispatch, from_call)


def test_judge_not_dispatched_yet() -> None:
    (verdict,) = judge(
        [Tier("3分钟", 3, Applies.FIRST)],
        call_at=CALL,
        dispatched_at=None,
        arrivals=[],
        required_units=1,
        place_class=None,
        zone=None,
        now=after(CALL, 600),
    )
    # missed from the call; from the dispatch there is nothing to measure yet
    assert (verdict.met_from_dispatch, verdict.met_from_call) == (None, False)


def test_judge_backup_and_full_pick_the_right_arrival() -> None:
    tiers = [
        Tier("first", 3, Applies.FIRST),
        Tier("backup", 3, Applies.BACKUP),
        Tier("full", 5, Applies.FULL),
    ]
    arrivals = [after(DISPATCH, 400), after(DISPATCH, 100), after(DISPATCH, 170)]

    def verdicts(required_units: int) -> tuple[Verdict, ...]:
        return judge(
            tiers,
            call_at=CALL,
            dispatched_at=DISPATCH,
            arrivals=arrivals,
            required_units=required_units,
            place_class=None,
            zone=None,
            now=after(DISPATCH, 1000),
        )

    assert [(v.tier, v.from_dispatch_s, v.met_from_dispatch) for v in verdicts(3)] == [
        ("first", 100.0, True),
        ("backup", 170.0, True),
        ("full", 400.0, False),
    ]
    # one unit asked for: no backup tier, and the full force is the first unit
    assert [(v.tier, v.from_dispatch_s) for v in verdicts(1)] == [
        ("first", 100.0),
        ("full", 100.0),
    ]


def test_judge_full_force_still_short() -> None:
    (verdict,) = judge(
        [Tier("5分钟", 5, Applies.FULL)],
        call_at=CALL,
        dispatched_at=DISPATCH,
        arrivals=[after(DISPATCH, 60), after(DISPATCH, 90)],
        required_units=3,
        place_class=None,
        zone=None,
        now=after(DISPATCH, 200),
    )
    assert (verdict.from_dispatch_s, verdict.met_from_dispatch) == (None, None)


def test_predict() -> None:
    verdicts = predict(
        DEFAULT_TIERS,
        etas_s=[200.0, 90.0, 400.0],
        required_units=2,
        place_class="key_site",
        zone=None,
        since_call_s=30.0,
    )
    assert verdicts == (
        Verdict("1分钟", 60.0, Applies.FIRST, 90.0, 120.0, False, False),
        Verdict("3分钟", 180.0, Applies.FIRST, 90.0, 120.0, True, True),
        Verdict("5分钟", 300.0, Applies.FULL, 200.0, 230.0, True, True),
    )


def test_predict_call_clock() -> None:
    (verdict,) = predict(
        [Tier("3分钟", 3, Applies.FIRST)],
        etas_s=[150.0],
        required_units=1,
        place_class=None,
        zone=None,
        since_call_s=31.0,
    )
    assert (verdict.met_from_dispatch, verdict.met_from_call) == (True, False)


def test_predict_too_few_units_cannot_meet() -> None:
    (first, full) = predict(
        DEFAULT_TIERS,
        etas_s=[100.0],
        required_units=3,
        place_class="urban_core",
        zone=None,
    )
    assert (first.tier, first.met_from_dispatch) == ("3分钟", True)
    assert (full.tier, full.from_dispatch_s, full.from_call_s) == ("5分钟", None, None)
    assert (full.met_from_dispatch, full.met_from_call) == (False, False)
