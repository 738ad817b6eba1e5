"""Turnout by unit status, and the recommender ranking by turnout plus road time."""

from __future__ import annotations

from datetime import UTC, datetime

from jiaoxun.geo.travel import TravelTimes
from jiaoxun.geo.turnout import DEFAULT_TURNOUT_S, turnout_s
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.recommend import UnitView, recommend
from jiaoxun.units.status import UnitStatus

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_turnout_by_status_none_for_a_status_not_named() -> None:
    seconds = turnout_s(
        [UnitStatus.AT_KIOSK, UnitStatus.AVAILABLE, UnitStatus.EN_ROUTE, "returning"],
        by_status={**DEFAULT_TURNOUT_S, "returning": 20.0},
    )
    assert seconds.tolist() == [60.0, 15.0, 0.0, 20.0]


def test_a_car_at_its_kiosk_loses_to_a_patrol_car_a_little_farther(
    town_times: TravelTimes, plan
) -> None:
    """The kiosk car is 400 m from the call (node 2 to 1), the patrol car 800 m (7 to 1)."""
    kiosk, patrol, call = plan.nodes[2], plan.nodes[7], plan.nodes[1]
    units = [
        UnitView(1, "K", None, UnitStatus.AT_KIOSK, *kiosk, NOW),
        UnitView(2, "P", None, UnitStatus.AVAILABLE, *patrol, NOW),
    ]

    def ranked(turnout: dict[str, float] | None) -> list[tuple[int, float | None]]:
        rec = recommend(
            lon=call[0],
            lat=call[1],
            units=units,
            travel_times=town_times,
            plan=ResponsePlan(),
            now=NOW,
            turnout_s=turnout,
        )
        return [(c.unit_id, c.eta_s) for c in rec.candidates]

    without = ranked(None)
    assert [u for u, _ in without] == [1, 2]
    road = dict(without)
    with_turnout = ranked({"at_kiosk": 60.0, "available": 0.0})
    assert [u for u, _ in with_turnout] == [2, 1]
    assert dict(with_turnout) == {1: road[1] + 60.0, 2: road[2]}
