"""Speeds learned from the force's own tracks, by road edge and hour of the week.

The class table says a residential street is driven at 25 km/h; the cars' GPS says how fast
this street is really driven on a Monday at 8. Every run of successive fixes of a car on the
same road stretch, a few seconds apart and moving, is a sample: metres along the edge (from the
snapped fractions) in seconds. Samples add up per directed edge and hour of the week, and the
estimate is shrunk towards a prior where they are few, like a batting average early in the
season, in three levels: the road class at that hour (all main roads crawl at 8 on a Monday),
the edge against its class (this street is always slower than the others), the edge at that
hour. Each prior weighs as much as `prior_m` metres driven at its pace, so an hour with 200 m
of samples barely moves off it and one with 20 km of samples speaks for itself.

Paces (seconds per metre) are what is averaged, not speeds: travel time is length × pace, so
the pace that sums the samples' seconds is the one that predicts a trip's seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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

    A run of successive fixes of one device on one road stretch (an edge or its twin), each at
    most `MAX_GAP_S` after the one before, is one sample on the edge driven: the metres between
    its first and last fix over the seconds between them, in the hour of its first fix. The
    run's ends, not each step, give the metres: GPS noise of a few metres on steps of a few
    metres would add up to speeds far too high. A run slower than `MIN_MOVING_KPH` (standing)
    or faster than `MAX_PLAUSIBLE_KPH` is no sample.
    """
    twin = network.edge_twin[np.maximum(edge, 0)]
    flipped = (twin >= 0) & (twin < edge)  # a stretch is known by its lower edge id
    key = np.where(edge < 0, -1, np.where(flipped, twin, edge))
    along = np.where(flipped, 1 - fraction, fraction)
    cut = np.ones(len(key), dtype=bool)
    cut[1:] = (device[1:] != device[:-1]) | (key[1:] != key[:-1])
    cut[1:] |= ~((np.diff(at_s) > 0) & (np.diff(at_s) <= MAX_GAP_S))
    first = np.flatnonzero(cut)
    last = np.append(first[1:], len(key)) - 1
    first, last = first[key[first] >= 0], last[key[first] >= 0]
    stretch = key[first]
    step = along[last] - along[first]
    dt = at_s[last] - at_s[first]
    metres = np.abs(step) * network.edge_length_m[stretch]
    driven = np.where(step >= 0, stretch, network.edge_twin[stretch])
    kph = np.divide(metres, dt, out=np.zeros_like(metres), where=dt > 0) * 3.6
    keep = (last > first) & (driven >= 0) & (kph >= MIN_MOVING_KPH) & (kph <= MAX_PLAUSIBLE_KPH)
    cell = driven[keep] * HOURS_OF_WEEK + hour_of_week[first[keep]]
    size = network.n_edges * HOURS_OF_WEEK
    shape = (network.n_edges, HOURS_OF_WEEK)
    distance_m = np.bincount(cell, weights=metres[keep], minlength=size).astype(np.float64)
    time_s = np.bincount(cell, weights=dt[keep], minlength=size).astype(np.float64)
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
    """Speeds by edge and hour, each estimate shrunk towards the one above it (see the module):

    1. each road class at each hour: how much slower or faster than the class table its
       samples were driven (a ratio, 1 without samples);
    2. each edge: how much slower or faster than (1) predicts, over all its samples;
    3. each edge at each hour: its samples' pace, shrunk towards the class table × (1) × (2).

    Every prior weighs as much as `prior_m` metres of samples, so a main road nobody drove at
    8 on a Monday is still timed at the pace the other main roads were driven then.
    """
    if not prior_m > 0:
        raise ValueError(f"prior_m(={prior_m}) must be > 0.")
    d, t = observations.distance_m, observations.time_s
    road_class = network.edge_road_class
    table_pace = 3.6 / network.edge_speed_kph  # s/m, per edge
    expected = d * table_pace[:, np.newaxis]  # the samples' seconds at the class table's pace
    classes = int(road_class.max()) + 1 if len(road_class) else 0
    by_class = np.zeros((classes, HOURS_OF_WEEK)), np.zeros((classes, HOURS_OF_WEEK))
    np.add.at(by_class[0], road_class, t)
    np.add.at(by_class[1], road_class, expected)
    edges_of_class = np.bincount(road_class, minlength=classes)
    class_pace = np.bincount(road_class, table_pace, classes) / np.maximum(edges_of_class, 1)
    class_pace[edges_of_class == 0] = 1.0  # no edge of it: any weight will do
    weight = prior_m * class_pace[:, np.newaxis]
    class_ratio = (by_class[0] + weight) / (by_class[1] + weight)  # (classes, 168)
    hour_prior = table_pace[:, np.newaxis] * class_ratio[road_class]  # (edges, 168) s/m
    own = prior_m * table_pace
    edge_ratio = (t.sum(axis=1) + own) / ((d * hour_prior).sum(axis=1) + own)
    pace = (t + prior_m * hour_prior * edge_ratio[:, np.newaxis]) / (d + prior_m)
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


def local_hour_of_week(when: datetime, tz: ZoneInfo) -> int:
    """Hour of the week of `when` (aware) in `tz`: 0 is Monday 0:00 local, 167 Sunday 23:00."""
    local = when.astimezone(tz)
    return local.weekday() * 24 + local.hour


def hours_of_week(at_s: Floats, tz: ZoneInfo) -> Ints:
    """`local_hour_of_week` of many Unix times `at_s` (seconds), daylight saving time and all:
    each UTC hour between the first and the last is converted once."""
    hour = np.floor(np.asarray(at_s, dtype=np.float64) / 3600.0).astype(np.int64)
    if not len(hour):
        return hour
    first = int(hour.min())
    local = np.array(
        [
            local_hour_of_week(datetime.fromtimestamp(h * 3600, UTC), tz)
            for h in range(first, int(hour.max()) + 1)
        ],
        dtype=np.int64,
    )
    return np.asarray(local[hour - first])
