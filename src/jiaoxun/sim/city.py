"""The simulator's view of a city, from a laid-out city (`city.generate.CityLayout`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from jiaoxun.city.generate import CityLayout, road_weight
from jiaoxun.city.patrol import KEY_SITE_KINDS, KEY_SITE_RADIUS_M
from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.sim.model import SimCity


def sim_city(travel_times: TravelTimes, layout: CityLayout) -> SimCity:
    """Zones, kiosks and patrol lines of `layout`."""
    kiosks = travel_times.snap_many(
        np.array([k.lon for k in layout.kiosks]), np.array([k.lat for k in layout.kiosks])
    )
    return sim_city_of(
        travel_times,
        kiosks=kiosks,
        node_zone=layout.districting.node_zone,
        zone_codes=tuple(f"Z{z + 1:02d}" for z in range(len(layout.kiosks))),
        line_edges=[(line.zone, line.edges) for line in layout.patrol_lines],
        key_sites=[(p.lon, p.lat) for p in layout.patrol_points if p.kind in KEY_SITE_KINDS],
    )


def sim_city_of(
    travel_times: TravelTimes,
    *,
    kiosks: Snaps,
    node_zone: NDArray[np.int64],
    zone_codes: tuple[str, ...],
    line_edges: Iterable[tuple[int, Sequence[int]]],
    key_sites: list[tuple[float, float]],
) -> SimCity:
    """The simulator's city from its parts; `line_edges` are (zone index, edges) of each
    mandatory line. Calls come from where the roads are dense (`city.generate.road_weight`)."""
    net = travel_times.network
    edges: list[list[int]] = [[] for _ in zone_codes]
    for zone, line in line_edges:
        edges[zone].extend(line)
    return SimCity(
        travel_times=travel_times,
        node_zone=node_zone,
        zone_codes=zone_codes,
        kiosks=Snaps.of([kiosks[i] for i in range(len(kiosks))]),
        patrol_edges=tuple(np.array(e, dtype=np.int64) for e in edges),
        node_weight=road_weight(net),
        node_key_site=near_any(net.node_lon, net.node_lat, key_sites),
    )


def near_any(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    sites: list[tuple[float, float]],
    *,
    radius_m: float = KEY_SITE_RADIUS_M,
) -> NDArray[np.bool_]:
    """Which points lie within `radius_m` of any of `sites` (great-circle metres)."""
    near = np.zeros(len(lon), dtype=bool)
    for site_lon, site_lat in sites:
        near |= (
            haversine_m(lon, lat, np.full_like(lon, site_lon), np.full_like(lat, site_lat))
            <= radius_m
        )
    return near
