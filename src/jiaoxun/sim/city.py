"""The simulator's view of a city, from a laid-out city (`city.generate.CityLayout`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from jiaoxun.city.generate import CityLayout
from jiaoxun.city.patrol import KEY_SITE_KINDS, KEY_SITE_RADIUS_M
from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.sim.model import SimCity


def sim_city(travel_times: TravelTimes, layout: CityLayout) -> SimCity:
    """Zones, kiosks and patrol lines of `layout`; calls come from where the roads are dense
    (each node weighs the length of the roads that leave it)."""
    net = travel_times.network
    kiosks = travel_times.snap_many(
        np.array([k.lon for k in layout.kiosks]), np.array([k.lat for k in layout.kiosks])
    )
    n_zones = len(layout.kiosks)
    edges: list[list[int]] = [[] for _ in range(n_zones)]
    for line in layout.patrol_lines:
        edges[line.zone].extend(line.edges)
    weight = np.bincount(net.edge_tail, weights=net.edge_length_m, minlength=net.n_nodes)
    key = [p for p in layout.patrol_points if p.kind in KEY_SITE_KINDS]
    return SimCity(
        travel_times=travel_times,
        node_zone=layout.districting.node_zone,
        zone_codes=tuple(f"Z{z + 1:02d}" for z in range(n_zones)),
        kiosks=Snaps.of([kiosks[i] for i in range(n_zones)]),
        patrol_edges=tuple(np.array(e, dtype=np.int64) for e in edges),
        node_weight=weight.astype(np.float64),
        node_key_site=near_any(net.node_lon, net.node_lat, [(p.lon, p.lat) for p in key]),
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
