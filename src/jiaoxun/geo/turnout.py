"""Turnout: the seconds a unit needs between taking an order and moving towards the call.

A fire crew's "turnout time" is the minute from the alarm to the engine leaving the station; a
police car at its kiosk is the same (the officers must get to the car), while a car already on
patrol only has to turn towards the call. The road time from `TravelTimes` starts when the car
moves, so the ETA a dispatcher is shown is turnout plus road time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from jiaoxun.geo.network import Floats

#: built-in turnout by unit status (`units.status.UnitStatus` values), in seconds: boarding
#: the car at the kiosk, acknowledging and turning round on patrol; a status not named
#: (a car on an order) has none
DEFAULT_TURNOUT_S: Mapping[str, float] = MappingProxyType({"at_kiosk": 60.0, "available": 15.0})


def turnout_s(statuses: Sequence[str], *, by_status: Mapping[str, float]) -> Floats:
    """The turnout of each unit, from its status.

    Parameters
    ----------
    statuses : the units' statuses (`UnitStatus` values, or plain strings).
    by_status : turnout in seconds by status, as `DEFAULT_TURNOUT_S`; a status not in it has
        a turnout of 0 s.

    Returns
    -------
    Seconds, one per unit, to add to its road travel time.
    """
    return np.array([float(by_status.get(str(s), 0.0)) for s in statuses], dtype=np.float64)
