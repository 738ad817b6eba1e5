"""Speeds learned from tracks: samples from successive fixes, shrunk towards the class table."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.speeds import (
    HOURS_OF_WEEK,
    Observations,
    hours_of_week,
    learn_speeds,
    load_speeds,
    network_with_speeds,
    observe,
    speeds_path,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8_LOCAL = datetime(2026, 1, 5, 0, 0, tzinfo=UTC).timestamp()  # 08:00 at UTC+8


def two_way_edge(town: RoadNetwork) -> int:
    return int(np.flatnonzero((town.edge_twin >= 0) & (town.edge_length_m > 300))[0])


def drive(town: RoadNetwork, edge: int, *, kph: float, fixes: int, device: int = 0, back=False):
    """Fixes 1 s apart of a car driving along `edge` (against it, on its twin's positions, with
    `back`), as the arrays `observe` takes."""
    step = kph / 3.6 / town.edge_length_m[edge]
    fraction = np.arange(fixes) * step
    assert fraction[-1] <= 1
    at_s = MONDAY_8_LOCAL + np.arange(fixes, dtype=np.float64)
    return {
        "device": np.full(fixes, device),
        "at_s": at_s,
        "edge": np.full(fixes, edge),
        "fraction": 1 - fraction if back else fraction,
        "hour_of_week": hours_of_week(at_s, SHANGHAI),
    }


def test_the_hour_of_the_week_is_local() -> None:
    assert hours_of_week(np.array([MONDAY_8_LOCAL]), SHANGHAI).tolist() == [8]
    sunday_23 = MONDAY_8_LOCAL - 9 * 3600
    assert hours_of_week(np.array([sunday_23]), SHANGHAI).tolist() == [167]


def test_samples_are_metres_and_seconds_on_the_edge_driven(town: RoadNetwork) -> None:
    edge = two_way_edge(town)
    seen = observe(town, **drive(town, edge, kph=36.0, fixes=21))
    assert seen.distance_m[edge, 8] == pytest.approx(200.0)
    assert seen.time_s[edge, 8] == pytest.approx(20.0)
    assert seen.distance_m.sum() == pytest.approx(200.0)
    back = observe(town, **drive(town, edge, kph=36.0, fixes=21, back=True))
    assert back.distance_m[int(town.edge_twin[edge]), 8] == pytest.approx(200.0)


def test_standing_gaps_and_other_cars_are_not_samples(town: RoadNetwork) -> None:
    edge = two_way_edge(town)
    standing = drive(town, edge, kph=3.0, fixes=30)  # below 5 km/h
    assert observe(town, **standing).distance_m.sum() == 0
    sparse = drive(town, edge, kph=36.0, fixes=5)
    sparse["at_s"] = MONDAY_8_LOCAL + np.arange(5) * 11.0  # 11 s apart
    assert observe(town, **sparse).distance_m.sum() == 0
    cars = drive(town, edge, kph=36.0, fixes=6)
    cars["device"] = np.arange(6)
    assert observe(town, **cars).distance_m.sum() == 0


def test_little_data_stays_near_the_prior_much_speaks_for_itself(town: RoadNetwork) -> None:
    """Prior 2,000 m, 200 m in 20 s at Monday 8 on an edge of table pace p: its road class at
    8 is driven R = (20 + 2,000 p̄) / (200 p + 2,000 p̄) times the table's pace (p̄ the class's
    mean table pace); the edge against that, Q = (20 + 2,000 p) / (200 p R + 2,000 p); its
    hour 8 (20 + 2,000 p R Q) / 2,200 and its other hours p Q."""
    edge = two_way_edge(town)
    road_class = town.edge_road_class
    table_pace = 3.6 / town.edge_speed_kph
    p = table_pace[edge]
    p_class = table_pace[road_class == road_class[edge]].mean()
    few = learn_speeds(town, observe(town, **drive(town, edge, kph=36.0, fixes=21)))
    ratio = (20 + 2000 * p_class) / (200 * p + 2000 * p_class)
    own = (20 + 2000 * p) / (200 * p * ratio + 2000 * p)
    assert few.speed_kph[edge, 8] == pytest.approx(3.6 / ((20 + 2000 * p * ratio * own) / 2200))
    assert few.speed_kph[edge, 9] == pytest.approx(3.6 / (p * own))
    # the edge's class mates at 8 follow the class; other classes keep the table
    mates = np.flatnonzero((road_class == road_class[edge]) & (np.arange(town.n_edges) != edge))
    assert len(mates)
    assert few.speed_kph[mates, 8] == pytest.approx(town.edge_speed_kph[mates] / ratio)
    assert few.speed_kph[mates, 9] == pytest.approx(town.edge_speed_kph[mates])
    others = np.flatnonzero(road_class != road_class[edge])
    assert len(others)
    assert few.speed_kph[others] == pytest.approx(
        np.repeat(town.edge_speed_kph[others, np.newaxis], HOURS_OF_WEEK, axis=1)
    )
    many = Observations(few.observed_m * 1000, few.observed_m * 1000 / 10)  # 200 km at 36 km/h
    assert learn_speeds(town, many).speed_kph[edge, 8] == pytest.approx(36.0, rel=0.01)


def test_gps_noise_does_not_make_cars_faster(town: RoadNetwork) -> None:
    """1 s fixes at 18 km/h (5 m a step) with 5 m of noise on each fraction: steps summed one by
    one would read about twice the speed; the run's ends read it within a few per cent."""
    edge = two_way_edge(town)
    fixes = int(town.edge_length_m[edge] / 5) - 4
    track = drive(town, edge, kph=18.0, fixes=fixes)
    noise = np.random.default_rng(3).normal(0, 5.0, fixes) / town.edge_length_m[edge]
    track["fraction"] = np.clip(track["fraction"] + noise, 0, 1)
    seen = observe(town, **track)
    assert seen.distance_m[edge, 8] / seen.time_s[edge, 8] * 3.6 == pytest.approx(18.0, rel=0.1)


def test_kept_for_one_network_and_applied_to_it(town: RoadNetwork, tmp_path) -> None:
    edge = two_way_edge(town)
    metres = np.full((town.n_edges, HOURS_OF_WEEK), 1e6)
    speeds = learn_speeds(town, Observations(metres, metres / 10))  # 36 km/h everywhere
    speeds.save(speeds_path(tmp_path, town))
    again = load_speeds(speeds_path(tmp_path, town), town)
    assert again is not None
    assert again.speed_kph == pytest.approx(speeds.speed_kph, rel=1e-6)
    longer = dataclasses.replace(town, edge_length_m=town.edge_length_m * 2)
    assert load_speeds(speeds_path(tmp_path, town), longer) is None
    fast = network_with_speeds(town, speeds)
    assert fast.edge_travel_time_s[edge] == pytest.approx(town.edge_length_m[edge] / 10, rel=1e-4)
    assert load_speeds(speeds_path(tmp_path / "none", town), town) is None


def test_hours_of_the_week_follow_daylight_saving_time() -> None:
    """Berlin leaves summer time at 03:00 local on Sunday 25 October 2026: 00:30 and 01:30 UTC
    are both 02:30 local (hour 146), 02:30 UTC is 03:30 local."""
    berlin = ZoneInfo("Europe/Berlin")
    utc = [datetime(2026, 10, 25, h, 30, tzinfo=UTC).timestamp() for h in (0, 1, 2)]
    assert hours_of_week(np.array(utc), berlin).tolist() == [146, 146, 147]
    assert hours_of_week(np.array([]), berlin).tolist() == []
