"""Recommendation on the hand-made block (see conftest.py), with ETAs worked out by hand.

The incident is on one-way North Street, 400 m from its west end. At 10 m/s a car on Main Street
at x arrives in x / 10 + 60 s (west, up West Lane, east along North Street); a car on North Street
past the incident goes round the whole block: (1000 - x) / 10 + 180 s.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from jiaoxun.data import DEMO_PBF
from jiaoxun.errors import OffNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.recommend import Recommendation, UnitView, recommend
from jiaoxun.incidents.targets import DEFAULT_TIERS, Applies, Tier, predict
from jiaoxun.units.status import UnitStatus

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SECONDS_TOL = 0.02  # lengths are exact to a centimetre, snapped fractions to ~1e-5
INCIDENT_XY = (400.0, 200.0)
THREE_MINUTES = (Tier("3分钟", 3, Applies.FIRST),)

XY = tuple[float, float]


@pytest.fixture
def unit(place):
    """A unit at (x, y) metres from corner A (None: no fix), its fix `age_s` seconds old."""

    def make(
        unit_id: int,
        xy: XY | None,
        *,
        call_sign: str | None = None,
        zone: str | None = None,
        status: UnitStatus = UnitStatus.AVAILABLE,
        age_s: float = 0.0,
    ) -> UnitView:
        lon, lat = place(*xy) if xy else (None, None)
        return UnitView(
            unit_id=unit_id,
            call_sign=call_sign or f"U{unit_id:02d}",
            zone=zone,
            status=status,
            lon=lon,
            lat=lat,
            fix_at=NOW - timedelta(seconds=age_s) if xy else None,
        )

    return make


@pytest.fixture
def rank(block_times, place):
    """`recommend` for the incident on North Street, on the block."""

    def run(units: list[UnitView], **options) -> Recommendation:
        options.setdefault("plan", ResponsePlan())
        options.setdefault("travel_times", block_times)
        lon, lat = place(*options.pop("incident_xy", INCIDENT_XY))
        return recommend(lon=lon, lat=lat, units=units, now=NOW, **options)

    return run


def call_signs(rec: Recommendation) -> list[str]:
    return [c.call_sign for c in rec.candidates]


def by_sign(rec: Recommendation, call_sign: str):
    (candidate,) = [c for c in rec.candidates if c.call_sign == call_sign]
    return candidate


# -- ranking by exact road ETA ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("xy", "eta_s"),
    [
        ((100, 200), 30.0),  # on North Street, before the incident
        ((300, 0), 90.0),  # Main Street: 30 + 20 + 40
        ((800, 0), 140.0),
        ((1000, 100), 170.0),  # East Lane: 10 + 100 + 20 + 40
        ((900, 200), 190.0),  # North Street past it: 10 + 20 + 100 + 20 + 40
        ((600, 200), 220.0),
    ],
)
def test_eta_is_the_road_time_worked_out_by_hand(rank, unit, xy, eta_s):
    (candidate,) = rank([unit(1, xy)]).candidates
    assert candidate.eta_s == pytest.approx(eta_s, abs=SECONDS_TOL)


def test_a_unit_near_in_a_straight_line_but_past_a_one_way_street_ranks_later(rank, unit):
    near = unit(1, (600, 200), call_sign="near")  # 200 m away, 220 s round the block
    far = unit(2, (800, 0), call_sign="far")  # 447 m away, 140 s by road
    rec = rank([near, far])
    assert call_signs(rec) == ["far", "near"]
    assert rec.chosen == (2,)
    assert [c.eta_s for c in rec.candidates] == [
        pytest.approx(140.0, abs=SECONDS_TOL),
        pytest.approx(220.0, abs=SECONDS_TOL),
    ]


def test_equal_etas_are_ranked_by_call_sign(rank, unit):
    rec = rank([unit(1, (300, 0), call_sign="B2"), unit(2, (300, 0), call_sign="A1")])
    assert call_signs(rec) == ["A1", "B2"]
    assert rec.chosen == (2,)


# -- who may go -------------------------------------------------------------------------------


def test_every_unit_is_listed_with_its_reason_eligible_ones_first(rank, unit, island_times):
    units = [
        unit(1, (900, 200), call_sign="available"),
        unit(2, (300, 0), call_sign="at kiosk", status=UnitStatus.AT_KIOSK),
        unit(3, (100, 200), call_sign="busy", status=UnitStatus.EN_ROUTE),
        unit(4, (800, 0), call_sign="off duty", status=UnitStatus.OFF_DUTY),
        unit(5, None, call_sign="no fix"),
        unit(6, (200, 200), call_sign="stale", age_s=312),
        unit(7, (500, 600), call_sign="off network"),
        unit(8, (3100, 0), call_sign="island"),
    ]
    rec = rank(units, travel_times=island_times)
    off_network = by_sign(rec, "off network").reason
    assert [(c.call_sign, c.eligible, c.reason) for c in rec.candidates] == [
        ("at kiosk", True, "at kiosk"),
        ("available", True, "available"),
        # the others by ETA where there is one, then by call sign
        ("stale", False, "position unknown: last GPS fix 312 s old (limit 120 s)"),
        ("busy", False, "busy: en_route"),
        ("off duty", False, "off duty"),
        ("island", False, "cannot reach the incident by road"),
        ("no fix", False, "position unknown: no GPS fix"),
        ("off network", False, off_network),
    ]
    match = re.fullmatch(r"off the road network: (\d+) m from a road", off_network)
    assert match
    assert int(match[1]) == pytest.approx(400, abs=2)
    # ETAs are shown wherever they can be computed, eligible or not
    etas = {c.call_sign: c.eta_s for c in rec.candidates}
    assert etas["busy"] == pytest.approx(30.0, abs=SECONDS_TOL)
    assert etas["stale"] == pytest.approx(20.0, abs=SECONDS_TOL)
    assert etas["off duty"] == pytest.approx(140.0, abs=SECONDS_TOL)
    assert etas["island"] is None
    assert etas["no fix"] is None
    assert etas["off network"] is None
    assert rec.chosen == (2,)


@pytest.mark.parametrize("status", [UnitStatus.AT_KIOSK, UnitStatus.AVAILABLE])
def test_without_a_fresh_fix_a_unit_may_not_go_whatever_its_status(rank, unit, status):
    units = [unit(1, (300, 0), status=status, age_s=121), unit(2, None, status=status)]
    rec = rank(units)
    assert [(c.eligible, c.reason) for c in rec.candidates] == [
        (False, "position unknown: last GPS fix 121 s old (limit 120 s)"),
        (False, "position unknown: no GPS fix"),
    ]
    assert rec.chosen == ()


@pytest.mark.parametrize(
    ("age_s", "max_fix_age_s", "reason"),
    [
        (120.0, 120.0, "available"),  # exactly at the limit: still fresh
        (120.001, 120.0, "position unknown: last GPS fix 120 s old (limit 120 s)"),
        (121.0, 120.0, "position unknown: last GPS fix 121 s old (limit 120 s)"),
        (312.0, 600.0, "available"),
        (-5.0, 120.0, "available"),  # a device clock a little ahead
    ],
)
def test_stale_fix_limit(rank, unit, age_s, max_fix_age_s, reason):
    rec = rank([unit(1, (300, 0), age_s=age_s)], max_fix_age_s=max_fix_age_s)
    (candidate,) = rec.candidates
    assert (candidate.reason, candidate.eligible) == (reason, reason == "available")
    assert candidate.eta_s == pytest.approx(90.0, abs=SECONDS_TOL)
    assert rec.chosen == ((1,) if candidate.eligible else ())


def test_off_network_unit_is_never_chosen(rank, unit):
    rec = rank([unit(1, (500, 600)), unit(2, (600, 200))])
    assert rec.chosen == (2,)
    assert by_sign(rec, "U01").reason.startswith("off the road network: ")
    assert by_sign(rec, "U01").eta_s is None


def test_negative_fix_age_limit_is_refused(rank, unit):
    with pytest.raises(ValueError, match=r"max_fix_age_s\(=-1\) must be >= 0"):
        rank([unit(1, (300, 0))], max_fix_age_s=-1)


def test_incident_off_the_network_raises(rank, unit):
    with pytest.raises(OffNetwork, match="snapping limit is 100 m"):
        rank([unit(1, (300, 0))], incident_xy=(500, 600))


# -- the response plan ------------------------------------------------------------------------


@pytest.fixture
def zoned(unit):
    """Units of three zones, with their ETAs: Z1 has the three nearest."""
    return [
        unit(1, (200, 200), zone="Z1"),  # 20 s
        unit(2, (100, 200), zone="Z1"),  # 30 s
        unit(3, (300, 0), zone="Z1"),  # 90 s
        unit(4, (800, 0), zone="Z2"),  # 140 s
        unit(5, (1000, 100), zone="Z2"),  # 170 s
        unit(6, (900, 200), zone="Z3"),  # 190 s
    ]


def test_plan_takes_the_nearest_units(rank, zoned):
    rec = rank(zoned, plan=ResponsePlan(units=3))
    assert (rec.chosen, rec.shortfall) == ((1, 2, 3), 0)


def test_multi_point_plan_takes_the_nearest_unit_of_each_zone(rank, zoned):
    rec = rank(zoned, plan=ResponsePlan(units=3, distinct_zones=True))
    assert (rec.chosen, rec.shortfall) == ((1, 4, 6), 0)


def test_multi_point_plan_fills_up_when_zones_run_out(rank, zoned):
    two_zones = zoned[:5]
    rec = rank(two_zones, plan=ResponsePlan(units=4, distinct_zones=True))
    # one from Z1 and one from Z2, then the nearest left whatever their zone; in ETA order
    assert (rec.chosen, rec.shortfall) == ((1, 2, 3, 4), 0)
    rec = rank(two_zones, plan=ResponsePlan(units=3, distinct_zones=True))
    assert (rec.chosen, rec.shortfall) == ((1, 2, 4), 0)


def test_a_top_up_counts_the_zones_already_sent(rank, zoned):
    plan = ResponsePlan(units=2, distinct_zones=True)
    assert rank(zoned, plan=plan).chosen == (1, 4)
    # the Z1 car went first: the top-up takes the nearest of the other zones
    rec = rank(zoned[1:], plan=plan, zones_sent=frozenset({"Z1"}))
    assert rec.chosen == (4, 6)


def test_units_without_a_zone_count_as_zones_of_their_own(rank, unit):
    units = [unit(1, (200, 200)), unit(2, (100, 200)), unit(3, (300, 0), zone="Z1")]
    rec = rank(units, plan=ResponsePlan(units=2, distinct_zones=True))
    assert rec.chosen == (1, 2)


def test_shortfall_counts_the_units_not_found(rank, unit):
    units = [
        unit(1, (300, 0), zone="Z1"),
        unit(2, (800, 0), zone="Z1", status=UnitStatus.ON_SCENE),
        unit(3, None, zone="Z2"),
    ]
    rec = rank(units, plan=ResponsePlan(units=3, distinct_zones=True))
    assert (rec.chosen, rec.shortfall) == ((1,), 2)
    rec = rank(units[1:], plan=ResponsePlan(units=2))
    assert (rec.chosen, rec.shortfall) == ((), 2)
    assert [v.met_from_dispatch for v in rec.verdicts] == [False, False]


def test_same_zone_is_the_incident_zone(rank, zoned):
    rec = rank(zoned, zone="Z2")
    assert {c.unit_id for c in rec.candidates if c.same_zone} == {4, 5}
    assert not any(c.same_zone for c in rank(zoned).candidates)


# -- predicted 1-3-5 verdicts -----------------------------------------------------------------


def test_a_unit_170_s_away_meets_the_3_minute_tier_190_s_does_not(rank, unit):
    units = [unit(1, (1000, 100), call_sign="170 s"), unit(2, (900, 200), call_sign="190 s")]
    rec = rank(units, tiers=THREE_MINUTES)
    meets = {
        c.call_sign: [(v.tier, v.met_from_dispatch) for v in c.verdicts] for c in rec.candidates
    }
    assert meets == {"170 s": [("3分钟", True)], "190 s": [("3分钟", False)]}
    (verdict,) = rec.verdicts  # for the chosen unit, the 170 s one
    assert verdict.from_dispatch_s == pytest.approx(170.0, abs=SECONDS_TOL)
    assert verdict.met_from_dispatch


def test_verdicts_of_the_chosen_force_at_a_key_site(rank, unit):
    units = [unit(1, (100, 200)), unit(2, (800, 0))]  # 30 s and 140 s
    rec = rank(
        units,
        plan=ResponsePlan(units=2),
        tiers=DEFAULT_TIERS,
        place_class="key_site",
        since_call_s=40.0,
    )
    got = [(v.tier, v.met_from_dispatch, v.met_from_call) for v in rec.verdicts]
    # the call came 40 s ago: the first car is there 70 s after it, too late for 1 minute
    assert got == [("1分钟", True, False), ("3分钟", True, True), ("5分钟", True, True)]
    assert rec.verdicts[0].from_call_s == pytest.approx(70.0, abs=SECONDS_TOL)
    assert rec.verdicts[2].from_call_s == pytest.approx(180.0, abs=SECONDS_TOL)


@pytest.mark.parametrize("plan_units", [1, 3])
def test_candidate_verdicts_are_those_of_a_first_unit(rank, unit, plan_units):
    rec = rank(
        [unit(1, (800, 0)), unit(2, (100, 200), status=UnitStatus.DISPATCHED), unit(3, None)],
        plan=ResponsePlan(units=plan_units),
        place_class="key_site",
        since_call_s=50.0,
    )
    for candidate in rec.candidates[:2]:
        expected = predict(
            # with one unit asked for, the first unit alone decides the "full" tier too
            [t for t in DEFAULT_TIERS if plan_units == 1 or t.applies_to is Applies.FIRST],
            etas_s=[candidate.eta_s],
            required_units=1,
            place_class="key_site",
            zone=None,
            since_call_s=50.0,
        )
        assert candidate.verdicts == expected
    assert rec.candidates[2].verdicts == ()  # no fix, no ETA, no verdict


# -- pre-snapped positions --------------------------------------------------------------------


def test_pre_snapped_positions_give_the_same_recommendation(rank, unit, block_times):
    units = [
        unit(1, (600, 200), zone="Z1"),
        unit(2, (800, 0), zone="Z2"),
        unit(3, None, zone="Z2"),
        unit(4, (500, 600), zone="Z3"),
        unit(5, (300, 0), zone="Z1", age_s=500),
    ]
    fixed = [u for u in units if u.lon is not None]
    snaps = block_times.snap_many(
        np.array([u.lon for u in fixed]), np.array([u.lat for u in fixed]), strict=False
    )
    # the unit without a fix gets any entry: it is ignored
    unit_snaps = Snaps.of([snaps[0], snaps[1], snaps[0], snaps[2], snaps[3]])
    plan = ResponsePlan(units=2, distinct_zones=True)
    assert rank(units, plan=plan, unit_snaps=unit_snaps) == rank(units, plan=plan)


def test_pre_snapped_positions_must_match_the_units(rank, unit, block_times):
    units = [unit(1, (600, 200)), unit(2, (800, 0))]
    unit_snaps = Snaps.of([block_times.snap(units[0].lon, units[0].lat)])
    with pytest.raises(ValueError, match="unit_snaps has 1 positions for 2 units"):
        rank(units, unit_snaps=unit_snaps)


def test_no_units(rank):
    rec = rank([], plan=ResponsePlan(units=2))
    assert (rec.candidates, rec.chosen, rec.shortfall) == ((), (), 2)


# -- the demo city ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_times() -> TravelTimes:
    return TravelTimes(network_from_pbf(DEMO_PBF))


def points_on_roads(times: TravelTimes, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` random (lon, lat) points on the polylines of random edges."""
    network = times.network
    points = []
    for edge in rng.integers(network.n_edges, size=n):
        coords = network.edge_coords(int(edge))
        i = rng.integers(len(coords) - 1)
        points.append(coords[i] + rng.uniform() * (coords[i + 1] - coords[i]))
    return np.array(points)


@pytest.mark.parametrize("seed", range(5))
def test_demo_city_ranking_equals_one_search_per_unit(demo_times, seed):
    rng = np.random.default_rng(seed)
    points = points_on_roads(demo_times, 28, rng)
    units = [
        UnitView(i, f"C{i:02d}", f"Z{i % 9}", UnitStatus.AVAILABLE, lon, lat, NOW)
        for i, (lon, lat) in enumerate(points[:27].tolist())
    ]
    lon, lat = points[27]
    rec = recommend(
        lon=lon, lat=lat, units=units, travel_times=demo_times, plan=ResponsePlan(), now=NOW
    )
    incident = Snaps.of([rec.incident_snap])
    brute = [
        (float(demo_times.times_from(demo_times.snap(u.lon, u.lat), incident)[0]), u.call_sign)
        for u in units
    ]
    brute.sort()
    assert call_signs(rec) == [sign for _, sign in brute]
    np.testing.assert_allclose([c.eta_s for c in rec.candidates], [t for t, _ in brute], rtol=1e-9)
    assert all(c.eligible for c in rec.candidates)
    assert rec.chosen == (int(brute[0][1][1:]),)
