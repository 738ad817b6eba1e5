"""Drawing a simulated history: when calls come, where on the roads, how the units answer.

The pure core of `analytics.history`: numpy arrays in, numpy arrays out, every random number
from the one `numpy.random.Generator` passed in, so that a seed gives the same history. Times are
UTC epoch seconds (float); a day is a local calendar day with its midnight as epoch seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import haversine_m

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

#: most units an incident's orders are drawn for (the largest default response plan)
MAX_UNITS = 3


@dataclass(frozen=True)
class Days:
    """The days of the history: local midnight (epoch s), after the reform or not, and how busy
    each is against an ordinary day (weekday, holiday)."""

    midnight_s: Floats
    after: Bools
    weight: Floats


@dataclass(frozen=True)
class Points:
    """Points on the roads, each with the edge it lies on."""

    lon: Floats
    lat: Floats
    edge: Ints


def _profile(hours: Sequence[float]) -> Floats:
    weights = np.asarray(hours, dtype=np.float64)
    if weights.shape != (24,) or weights.min() < 0 or weights.sum() <= 0:
        raise ValueError(f"an hourly profile needs 24 weights >= 0, got {list(hours)}.")
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def draw_times(
    rng: np.random.Generator, days: Days, per_day: Floats, hours: Sequence[float]
) -> Floats:
    """Poisson counts a day (`per_day` each day, times its weight), at hours drawn from the
    profile `hours`: sorted epoch seconds."""
    counts = rng.poisson(per_day * days.weight)
    day = np.repeat(np.arange(len(counts)), counts)
    hour = rng.choice(24, size=len(day), p=_profile(hours))
    times = days.midnight_s[day] + hour * 3600.0 + rng.uniform(0.0, 3600.0, size=len(day))
    return np.sort(times)


def draw_categories(
    rng: np.random.Generator,
    days: Days,
    *,
    before: Floats,
    after: Floats,
    hours: Sequence[float],
) -> tuple[Floats, Ints]:
    """Calls of every category (index into the rates `before` and `after`, a day each):
    (epoch seconds, category index), sorted by time."""
    rates = np.where(days.after[:, None], after[None, :], before[None, :])
    counts = rng.poisson(rates * days.weight[:, None])
    day, code = np.nonzero(counts)
    n = counts[day, code]
    day, code = np.repeat(day, n), np.repeat(code, n)
    hour = rng.choice(24, size=len(day), p=_profile(hours))
    times = days.midnight_s[day] + hour * 3600.0 + rng.uniform(0.0, 3600.0, size=len(day))
    order = np.argsort(times, kind="stable")
    return times[order], code[order].astype(np.int64)


def road_segments(network: RoadNetwork) -> tuple[Ints, Ints, Floats]:
    """Every straight piece of every edge's geometry: (first point, edge, length in metres).
    A piece runs from point i to i + 1 of `network.geom_lon/geom_lat`."""
    starts = network.geom_start
    pieces = np.maximum(np.diff(starts) - 1, 0)
    edge = np.repeat(np.arange(network.n_edges, dtype=np.int64), pieces)
    offset = np.arange(int(pieces.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(pieces) - pieces, pieces
    )
    first = starts[:-1][edge] + offset
    lon, lat = network.geom_lon, network.geom_lat
    length_m = haversine_m(lon[first], lat[first], lon[first + 1], lat[first + 1])
    return first, edge, np.asarray(length_m, dtype=np.float64)


def draw_points(
    rng: np.random.Generator, network: RoadNetwork, n: int, *, segments: tuple[Ints, Ints, Floats]
) -> Points:
    """`n` points spread over the roads in proportion to their length."""
    first, edge, length_m = segments
    piece = rng.choice(len(first), size=n, p=length_m / length_m.sum())
    along = rng.uniform(0.0, 1.0, size=n)
    i = first[piece]
    lon = network.geom_lon[i] + along * (network.geom_lon[i + 1] - network.geom_lon[i])
    lat = network.geom_lat[i] + along * (network.geom_lat[i + 1] - network.geom_lat[i])
    return Points(lon=lon, lat=lat, edge=edge[piece])


def lognormal(rng: np.random.Generator, median: Floats | float, sigma: float, size: int) -> Floats:
    """Positive durations around `median` (the same unit), spread by `sigma` (log scale)."""
    return np.asarray(median, dtype=np.float64) * np.exp(sigma * rng.standard_normal(size))


@dataclass(frozen=True)
class Responders:
    """Who can answer each incident, nearest first: for each incident up to `MAX_UNITS`
    (unit id, seconds of road from where the unit stands, turnout seconds); -1 where none."""

    unit: Ints  # (n, MAX_UNITS)
    travel_s: Floats  # (n, MAX_UNITS)
    turnout_s: Floats  # (n, MAX_UNITS)


def kiosk_responders(
    rng: np.random.Generator,
    *,
    incident_zone: Ints,
    required: Ints,
    distinct_zones: Bools,
    kiosk_travel_s: Floats,
    zone_units: Sequence[Ints],
    kiosk_turnout_s: float,
    patrol_turnout_s: float,
    patrol_share: float,
) -> Responders:
    """After the reform: the incident's own zone first (its kiosk's cars), then the zones whose
    kiosks are nearest by road; `distinct_zones` takes each further unit from another zone.
    `kiosk_travel_s` is (zones, incidents) seconds from each kiosk to each scene. A car is out
    on patrol in its zone with probability `patrol_share`: nearer the scene than its kiosk
    (20-80 % of the kiosk's time) and quicker to get going."""
    n = len(incident_zone)
    unit = np.full((n, MAX_UNITS), -1, dtype=np.int64)
    travel = np.full((n, MAX_UNITS), np.nan)
    picks = rng.random((n, MAX_UNITS))
    for i in range(n):
        others = np.argsort(kiosk_travel_s[:, i], kind="stable")
        zones = [int(incident_zone[i])] + [int(z) for z in others if z != incident_zone[i]]
        slots: list[tuple[int, int]] = []  # (zone, unit)
        for zone in zones:
            cars = [int(u) for u in zone_units[zone]]
            taking = 1 if distinct_zones[i] else len(cars)
            pick = picks[i, min(len(slots), MAX_UNITS - 1)]
            start = int(pick * len(cars)) if cars else 0
            for k in range(min(taking, len(cars))):
                slots.append((zone, cars[(start + k) % len(cars)]))
            if len(slots) >= min(int(required[i]), MAX_UNITS):
                break
        for k, (zone, car) in enumerate(slots[: min(int(required[i]), MAX_UNITS)]):
            unit[i, k] = car
            travel[i, k] = kiosk_travel_s[zone, i]
    on_patrol = rng.random((n, MAX_UNITS)) < patrol_share
    travel *= np.where(on_patrol, rng.uniform(0.2, 0.8, size=(n, MAX_UNITS)), 1.0)
    turnout = np.where(on_patrol, patrol_turnout_s, kiosk_turnout_s)
    return Responders(unit=unit, travel_s=travel, turnout_s=turnout)


def post_responders(
    *, required: Ints, post_travel_s: Floats, post_units: Ints, turnout_s: float
) -> Responders:
    """Before the reform: the few patrol cars standing at their posts, nearest first
    (`post_travel_s` is (posts, incidents)); never more units than there are posts."""
    n = post_travel_s.shape[1]
    order = np.argsort(post_travel_s, axis=0, kind="stable").T  # (n, posts)
    k = min(MAX_UNITS, order.shape[1])
    unit = np.full((n, MAX_UNITS), -1, dtype=np.int64)
    travel = np.full((n, MAX_UNITS), np.nan)
    unit[:, :k] = post_units[order[:, :k]]
    travel[:, :k] = np.take_along_axis(post_travel_s.T, order[:, :k], axis=1)
    wanted = np.arange(MAX_UNITS)[None, :] < required[:, None]
    unit[~wanted], travel[~wanted] = -1, np.nan
    return Responders(unit=unit, travel_s=travel, turnout_s=np.full((n, MAX_UNITS), turnout_s))


@dataclass(frozen=True)
class Chains:
    """The response chain of dispatched incidents, one row per incident and a column per unit
    slot (NaN where no unit): epoch seconds of each step."""

    issued_s: Floats
    acknowledged_s: Floats
    departed_s: Floats
    arrived_s: Floats  # the officer's report
    gps_arrived_s: Floats  # the car's fix at the scene; NaN without GPS
    done_s: Floats


def draw_chains(
    rng: np.random.Generator,
    responders: Responders,
    *,
    dispatched_s: Floats,
    acknowledge_median_s: Floats,
    on_scene_median_s: Floats,
    gps_share: Floats,
) -> Chains:
    """Orders issued at the dispatch (further units up to half a minute later), signed for,
    turned out, driven at the road's time (±15 %), on scene for a lognormal time; `gps_share`
    of the arrivals are proved by a fix, which comes before the officer's button."""
    n, k = responders.unit.shape
    has = responders.unit >= 0
    shape = n * k
    late = rng.uniform(0.0, 30.0, size=(n, k))
    late[:, 0] = 0.0
    issued = dispatched_s[:, None] + late
    ack = issued + lognormal(rng, np.repeat(acknowledge_median_s, k), 0.5, shape).reshape(n, k)
    departed = ack + lognormal(rng, responders.turnout_s.ravel(), 0.4, shape).reshape(n, k)
    driven = responders.travel_s * lognormal(rng, 1.0, 0.15, shape).reshape(n, k)
    at_scene = departed + np.nan_to_num(driven, nan=0.0)
    button = at_scene + 5.0 + np.abs(rng.normal(0.0, 20.0, size=(n, k)))
    with_gps = rng.random((n, k)) < gps_share[:, None]
    on_scene = lognormal(rng, on_scene_median_s, 0.45, n)
    share = rng.uniform(0.5, 1.0, size=(n, k))
    share[:, 0] = 1.0
    done = button + on_scene[:, None] * share

    def kept(values: Floats) -> Floats:
        return np.where(has, values, np.nan)

    return Chains(
        issued_s=kept(issued),
        acknowledged_s=kept(ack),
        departed_s=kept(departed),
        arrived_s=kept(button),
        gps_arrived_s=np.where(has & with_gps, at_scene, np.nan),
        done_s=kept(done),
    )
