"""Speeds learned from the force's own tracks, by road edge and hour of the week.

The class table says a residential street is driven at 25 km/h; the cars' GPS says how fast
this street is really driven on a Monday at 8. Every two successive fixes of a car on the same
road stretch, a few seconds apart and moving, are a sample: metres along the edge (from the
snapped fractions) in seconds. Samples add up per directed edge and hour of the week, and the
estimate is shrunk towards a prior where they are few, like a batting average early in the
season: the edge's own week where it has one, the class table where it has none. The prior
weighs as much as `prior_m` metres driven at its speed, so an hour with 200 m of samples barely
moves off it and one with 20 km of samples speaks for itself.

Paces (seconds per metre) are what is averaged, not speeds: travel time is length × pace, so
the pace that sums the samples' seconds is the one that predicts a trip's seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jiaoxun.geo.network import Floats, Ints, RoadNetwork

HOURS_OF_WEEK = 168
#: samples further apart than this (s) are not one stretch of driving
MAX_GAP_S = 10.0
#: slower than this (km/h) the car is standing (at a light, a scene), not driving
MIN_MOVING_KPH = 5.0
MAX_PLAUSIBLE_KPH = 150.0


def network_fingerprint(network: RoadNetwork) -> str:
    """A short digest of the graph (edges and their lengths): learned speeds and node tables
    belong to one network."""
    digest = hashlib.sha256()
    for array in (network.edge_tail, network.edge_head, network.edge_length_m):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Observations:
    """Sums of the samples per directed edge and hour of the week, (edges, 168) each."""

    distance_m: Floats
    time_s: Floats

    @classmethod
    def none(cls, network: RoadNetwork) -> Observations:
        shape = (network.n_edges, HOURS_OF_WEEK)
        return cls(np.zeros(shape), np.zeros(shape))

    def __add__(self, other: Observations) -> Observations:
        return Observations(self.distance_m + other.distance_m, self.time_s + other.time_s)


def observe(
    network: RoadNetwork,
    *,
    device: Ints,
    at_s: Floats,
    edge: Ints,
    fraction: Floats,
    hour_of_week: Ints,
) -> Observations:
    """The samples of track points sorted by device, then time.

    Parameters
    ----------
    network : the network the points were snapped to.
    device : an integer code of each point's device.
    at_s : time of each fix, seconds (any epoch).
    edge, fraction : the snapped position (`TrackPoint.edge`, -1 off the road, and fraction).
    hour_of_week : local hour of the week of each fix, 0 (Monday 0:00) … 167.

    A pair of successive fixes of one device, at most `MAX_GAP_S` apart, on one edge or on an
    edge and its twin, is a sample on the edge driven (the twin when the fraction went back),
    unless slower than `MIN_MOVING_KPH` or faster than `MAX_PLAUSIBLE_KPH`.
    """
    a, b = slice(None, -1), slice(1, None)
    dt = at_s[b] - at_s[a]
    twin = network.edge_twin[np.maximum(edge[a], 0)]
    on_twin = (edge[b] == twin) & (twin >= 0)
    to_fraction = np.where(on_twin, 1 - fraction[b], fraction[b])
    pair = (device[a] == device[b]) & (edge[a] >= 0) & ((edge[a] == edge[b]) | on_twin)
    pair &= (dt > 0) & (dt <= MAX_GAP_S)
    step = to_fraction - fraction[a]
    driven = np.where(step >= 0, edge[a], twin)
    pair &= driven >= 0
    metres = np.abs(step) * network.edge_length_m[np.maximum(edge[a], 0)]
    kph = np.divide(metres, dt, out=np.zeros_like(metres), where=dt > 0) * 3.6
    pair &= (kph >= MIN_MOVING_KPH) & (kph <= MAX_PLAUSIBLE_KPH)
    cell = driven[pair] * HOURS_OF_WEEK + hour_of_week[a][pair]
    size = network.n_edges * HOURS_OF_WEEK
    shape = (network.n_edges, HOURS_OF_WEEK)
    distance_m = np.bincount(cell, weights=metres[pair], minlength=size).astype(np.float64)
    time_s = np.bincount(cell, weights=dt[pair], minlength=size).astype(np.float64)
    return Observations(distance_m.reshape(shape), time_s.reshape(shape))


@dataclass(frozen=True)
class LearnedSpeeds:
    """Speed of every directed edge by hour of the week, and the metres of samples behind it.

    Attributes
    ----------
    fingerprint : `network_fingerprint` of the network learned on.
    speed_kph : (edges, 168) km/h.
    observed_m : (edges, 168) metres of samples.
    """

    fingerprint: str
    speed_kph: Floats
    observed_m: Floats

    def save(self, path: Path) -> None:
        """Write to `path` (.npz), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as out:
            np.savez(
                out,
                fingerprint=np.array(self.fingerprint),
                speed_kph=self.speed_kph.astype(np.float32),
                observed_m=self.observed_m.astype(np.float32),
            )
        tmp.replace(path)


def learn_speeds(
    network: RoadNetwork, observations: Observations, *, prior_m: float = 2000.0
) -> LearnedSpeeds:
    """Speeds by edge and hour: the samples' pace shrunk towards the edge's week, and that
    towards the class table, each prior weighing `prior_m` metres (see the module)."""
    if not prior_m > 0:
        raise ValueError(f"prior_m(={prior_m}) must be > 0.")
    d, t = observations.distance_m, observations.time_s
    class_pace = 3.6 / network.edge_speed_kph  # s/m
    week_pace = (t.sum(axis=1) + prior_m * class_pace) / (d.sum(axis=1) + prior_m)
    pace = (t + prior_m * week_pace[:, np.newaxis]) / (d + prior_m)
    return LearnedSpeeds(network_fingerprint(network), 3.6 / pace, d)


def load_speeds(path: Path, network: RoadNetwork) -> LearnedSpeeds | None:
    """Speeds saved by `LearnedSpeeds.save` for this network; None when absent, damaged or
    learned on another network."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            speeds = LearnedSpeeds(
                str(data["fingerprint"]),
                data["speed_kph"].astype(np.float64),
                data["observed_m"].astype(np.float64),
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None
    if speeds.fingerprint != network_fingerprint(network):
        return None
    if speeds.speed_kph.shape != (network.n_edges, HOURS_OF_WEEK):
        return None
    return speeds


def speeds_path(folder: Path, network: RoadNetwork) -> Path:
    """Where the learned speeds of `network` are kept in `folder`."""
    return folder / f"speeds-{network_fingerprint(network)}.npz"


def network_with_speeds(
    network: RoadNetwork, speeds: LearnedSpeeds, *, hours: Ints | None = None
) -> RoadNetwork:
    """`network` with the learned speeds and travel times: those of one hour of the week, or
    over several `hours` the pace averaged (by default over the whole week)."""
    if speeds.fingerprint != network_fingerprint(network):
        raise ValueError("the speeds were learned on another network")
    columns = np.arange(HOURS_OF_WEEK) if hours is None else np.atleast_1d(hours)
    pace = (3.6 / speeds.speed_kph[:, columns]).mean(axis=1)
    speed_kph = 3.6 / pace
    return dataclasses.replace(
        network,
        edge_speed_kph=speed_kph,
        edge_travel_time_s=np.maximum(network.edge_length_m * pace, 0.01),
    )


def with_learned_speeds(network: RoadNetwork, folder: Path) -> RoadNetwork:
    """`network` with the speeds learned for it and kept in `folder` (`speeds_path`), averaged
    over the week; unchanged when none were learned."""
    speeds = load_speeds(speeds_path(folder, network), network)
    return network if speeds is None else network_with_speeds(network, speeds)


def hour_of_week(at_s: Floats, *, utc_offset_h: float) -> Ints:
    """Local hour of the week, 0 (Monday 0:00) … 167, of Unix times `at_s` (seconds)."""
    local_h = np.floor((at_s + utc_offset_h * 3600.0) / 3600.0).astype(np.int64)
    return np.asarray((local_h + 3 * 24) % HOURS_OF_WEEK)  # 1 January 1970 was a Thursday
