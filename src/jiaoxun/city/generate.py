"""Lay out a city's policing on its road network: kiosks, zones, cars, patrol lines and points.

Given the roads and the named places of an extract, this chooses (or takes) the kiosk sites,
cuts the city into zones around them by road travel time, gives each zone its cars, and picks
its mandatory patrol lines among the main roads and its mandatory patrol points among the
schools, hospitals, squares, stations, banks and markets inside it. Every choice is made by a
fixed rule from the data, so the same extract always gives the same city. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jiaoxun.city.patrol import PatrolLinePlan, PatrolPointPlan, choose_lines, choose_points
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.places import Place
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.planning.districting import Districting, districts_from_kiosks

# places that can host a kiosk: a hospital, a square, a large named building
_KIOSK_KINDS = {"hospital", "square", "market"}
_KIOSK_BUILDING_WORDS = ("大厦", "商城", "中心", "大楼", "广场", "医院")
_KIOSK_MAX_STREET_M = 150.0  # a kiosk stands on the street


@dataclass(frozen=True)
class KioskSite:
    name: str
    lon: float
    lat: float
    landmark: str = ""


@dataclass(frozen=True)
class CityLayout:
    """A complete policing layout; zone `i` is headed by `kiosks[i]`."""

    kiosks: tuple[KioskSite, ...]
    districting: Districting
    units: tuple[tuple[str, int], ...]  # (call sign, zone index)
    patrol_lines: tuple[PatrolLinePlan, ...]
    patrol_points: tuple[PatrolPointPlan, ...]


def kiosk_candidates(places: Sequence[Place]) -> list[Place]:
    """Places fit for a kiosk: hospitals, squares, malls and large named buildings."""
    return [
        p
        for p in places
        if p.kind in _KIOSK_KINDS
        or (p.kind == "building" and any(w in p.name for w in _KIOSK_BUILDING_WORDS))
    ]


def choose_kiosks(
    travel_times: TravelTimes, candidates: Sequence[Place], *, count: int
) -> list[KioskSite]:
    """Pick `count` kiosk sites among `candidates` that minimise the mean road time to a node.

    Greedy p-median on exact travel times from each candidate to every node, then one pass of
    Teitz–Bart swaps; ties break by candidate order, so the choice is deterministic.
    """
    snaps = travel_times.snap_many(
        np.array([c.lon for c in candidates]), np.array([c.lat for c in candidates]), strict=False
    )
    on_street = np.flatnonzero(snaps.distance_m <= _KIOSK_MAX_STREET_M)
    candidates = [candidates[int(i)] for i in on_street]
    if len(candidates) < count:
        raise InvalidInput(
            f"the map has {len(candidates)} places fit for a kiosk within"
            f" {_KIOSK_MAX_STREET_M:.0f} m of a road, {count} needed"
        )
    snaps = travel_times.snap_many(
        np.array([c.lon for c in candidates]), np.array([c.lat for c in candidates])
    )
    times = np.vstack([travel_times.node_times_from(snaps[i]) for i in range(len(candidates))])
    times = np.minimum(times, 3600.0)  # an unreachable node costs one hour, not infinity
    chosen: list[int] = []
    for _ in range(count):
        current = times[chosen].min(axis=0) if chosen else np.full(times.shape[1], np.inf)
        cost = np.minimum(times, current).sum(axis=1)
        cost[chosen] = np.inf
        chosen.append(int(np.argmin(cost)))
    chosen = _swap_improve(times, chosen)
    return [
        KioskSite(
            name=f"{candidates[i].name}警务室",
            lon=candidates[i].lon,
            lat=candidates[i].lat,
            landmark=f"{candidates[i].kind}: {candidates[i].name} ({candidates[i].osm_ref})",
        )
        for i in sorted(chosen)
    ]


def _swap_improve(times: NDArray[np.float64], chosen: list[int]) -> list[int]:
    def total(sites: list[int]) -> float:
        return float(times[sites].min(axis=0).sum())

    best = total(chosen)
    for slot in range(len(chosen)):
        for candidate in range(len(times)):
            if candidate in chosen:
                continue
            trial = [*chosen[:slot], candidate, *chosen[slot + 1 :]]
            if (cost := total(trial)) < best - 1e-6:
                chosen, best = trial, cost
    return chosen


def road_weight(network: RoadNetwork) -> NDArray[np.float64]:
    """The expected workload of each node: the length of the roads that leave it (metres)."""
    weight = np.bincount(
        network.edge_tail, weights=network.edge_length_m, minlength=network.n_nodes
    )
    return np.asarray(weight, dtype=np.float64)


def draw_zones(travel_times: TravelTimes, kiosks: Snaps) -> Districting:
    """The kiosks' zones by road travel time, balanced by road length to within ±25 %."""
    return districts_from_kiosks(
        travel_times, kiosks, node_weight=road_weight(travel_times.network), balance_tolerance=0.25
    )


def layout_city(
    travel_times: TravelTimes,
    places: Sequence[Place],
    *,
    kiosks: Sequence[KioskSite] | None = None,
    n_kiosks: int = 9,
    cars_per_zone: int = 3,
    n_patrol_lines: int = 78,
    n_patrol_points: int = 60,
) -> CityLayout:
    """Lay out the city; `kiosks` given are used as they are, else `n_kiosks` are chosen."""
    if kiosks is None:
        kiosks = choose_kiosks(travel_times, kiosk_candidates(places), count=n_kiosks)
    if not kiosks:
        raise InvalidInput("a city needs at least one kiosk, got 0")
    snaps = travel_times.snap_many(
        np.array([k.lon for k in kiosks]), np.array([k.lat for k in kiosks])
    )
    network = travel_times.network
    districting = draw_zones(travel_times, snaps)
    units = tuple(
        (f"JX{z + 1:02d}-{c + 1}", z) for z in range(len(kiosks)) for c in range(cars_per_zone)
    )
    lines = choose_lines(network, districting.node_zone, count=n_patrol_lines)
    points = choose_points(travel_times, places, districting.node_zone, count=n_patrol_points)
    return CityLayout(tuple(kiosks), districting, units, tuple(lines), tuple(points))
