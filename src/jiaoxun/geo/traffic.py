"""Travel times as the force's cars drive the roads at each hour of the week.

The class table knows one speed per road; the learned speeds (`geo.speeds`) know 168, one per
hour of the week, so that a car sent across town at 8 on a Monday is timed at Monday-8 speeds.
`Traffic.at(when)` gives the `TravelTimes` of the local hour of `when`: built the first time that
hour is asked for (a few tens of milliseconds: two sparse graphs, the snapper is shared) and
kept, 168 at most. These are searched, not looked up in a node table: a table per hour would
cost 168 × n² floats. Without learned speeds every hour is the class table's.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from jiaoxun.geo.speeds import (
    HOURS_OF_WEEK,
    LearnedSpeeds,
    local_hour_of_week,
    network_with_speeds,
)
from jiaoxun.geo.travel import TravelTimes


class Traffic:
    """The travel times of each hour of the week.

    Parameters
    ----------
    base : the class table's travel times (node table and all), used for every hour without
        `speeds`, and whose snapper every hour shares.
    speeds : speeds learned for `base.network`, or None.
    tz : the city's time zone, in which hours of the week are counted.
    """

    def __init__(self, base: TravelTimes, speeds: LearnedSpeeds | None, *, tz: ZoneInfo) -> None:
        self.base = base
        self.speeds = speeds
        self.tz = tz
        self._hours: dict[int, TravelTimes] = {}
        self._lock = threading.Lock()

    @property
    def learned(self) -> bool:
        return self.speeds is not None

    def hour(self, hour_of_week: int) -> TravelTimes:
        """The travel times of one hour of the week (0 … 167)."""
        if not 0 <= hour_of_week < HOURS_OF_WEEK:
            raise ValueError(f"hour of the week {hour_of_week} is not in 0 … {HOURS_OF_WEEK - 1}")
        if self.speeds is None:
            return self.base
        with self._lock:
            travel_times = self._hours.get(hour_of_week)
            if travel_times is None:
                network = network_with_speeds(
                    self.base.network, self.speeds, hours=np.array([hour_of_week])
                )
                travel_times = TravelTimes(network, snapper=self.base.snapper)
                self._hours[hour_of_week] = travel_times
            return travel_times

    def at(self, when: datetime) -> TravelTimes:
        """The travel times of the local hour of the week of `when` (aware)."""
        return self.hour(local_hour_of_week(when, self.tz))
