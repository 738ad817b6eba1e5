"""Travel times by hour of the week: the learned speeds of the hour a car is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.speeds import HOURS_OF_WEEK, LearnedSpeeds, network_fingerprint
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes

SHANGHAI = ZoneInfo("Asia/Shanghai")


def half_speed_at(town: RoadNetwork, hour: int) -> LearnedSpeeds:
    kph = np.repeat(town.edge_speed_kph[:, np.newaxis], HOURS_OF_WEEK, axis=1)
    kph[:, hour] /= 2
    return LearnedSpeeds(network_fingerprint(town), kph, np.ones_like(kph))


def trip_s(travel_times: TravelTimes, town: RoadNetwork) -> float:
    origin = travel_times.snap(float(town.node_lon[0]), float(town.node_lat[0]))
    target = travel_times.snap(float(town.node_lon[-1]), float(town.node_lat[-1]))
    return float(travel_times.times_from(origin, Snaps.of([target]))[0])


def test_each_hour_is_timed_at_its_own_speeds(town: RoadNetwork) -> None:
    """Monday 08:00-08:59 in Shanghai (00:xx UTC) is driven at half speed: a trip then takes
    twice as long as at 09:00, which is timed as the class table times it."""
    base = TravelTimes(town)
    traffic = Traffic(base, half_speed_at(town, 8), tz=SHANGHAI)
    free = trip_s(base, town)
    assert 0 < free < np.inf
    rush = traffic.at(datetime(2026, 1, 5, 0, 30, tzinfo=UTC))
    assert trip_s(rush, town) == pytest.approx(2 * free, rel=1e-6)
    after = traffic.at(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
    assert trip_s(after, town) == pytest.approx(free, rel=1e-6)
    assert rush.snapper is base.snapper  # shared, not rebuilt
    assert traffic.at(datetime(2026, 1, 12, 0, 5, tzinfo=UTC)) is rush  # built once


def test_without_learned_speeds_every_hour_is_the_class_table(town: RoadNetwork) -> None:
    base = TravelTimes(town)
    traffic = Traffic(base, None, tz=SHANGHAI)
    assert not traffic.learned
    assert traffic.at(datetime(2026, 1, 5, 0, 30, tzinfo=UTC)) is base
    with pytest.raises(ValueError, match="hour of the week 168"):
        traffic.hour(168)
