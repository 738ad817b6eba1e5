"""The simulator's view of a city, from a laid-out city (`city.generate.CityLayout`)."""

from __future__ import annotations

import numpy as np

from jiaoxun.city.generate import CityLayout
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
    return SimCity(
        travel_times=travel_times,
        node_zone=layout.districting.node_zone,
        zone_codes=tuple(f"Z{z + 1:02d}" for z in range(n_zones)),
        kiosks=Snaps.of([kiosks[i] for i in range(n_zones)]),
        patrol_edges=tuple(np.array(e, dtype=np.int64) for e in edges),
        node_weight=weight.astype(np.float64),
    )
