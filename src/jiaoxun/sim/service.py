"""The stored city, made ready for the simulator."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.models import PatrolLine, PatrolPoint, Zone
from jiaoxun.city.patrol import KEY_SITE_KINDS
from jiaoxun.city.service import city_pbf, travel_times_for
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.snap import Snaps
from jiaoxun.planning.districting import districts_from_kiosks
from jiaoxun.settings import Settings
from jiaoxun.sim.city import near_any
from jiaoxun.sim.model import SimCity


def stored_city(session: Session, settings: Settings) -> SimCity:
    """The database's city: its kiosks, their zones (drawn again by road travel time, balanced
    by road length as when the city was built) and their mandatory patrol lines."""
    travel_times = travel_times_for(settings, city_pbf(session, settings))
    zones = session.scalars(select(Zone).order_by(Zone.code)).all()
    kiosks = [z.kiosk for z in zones if z.kiosk is not None]
    if not kiosks or len(kiosks) != len(zones):
        raise InvalidInput("the simulator needs a built city with one kiosk per zone")
    snaps = travel_times.snap_many(
        np.array([k.lon for k in kiosks]), np.array([k.lat for k in kiosks])
    )
    net = travel_times.network
    weight = np.bincount(net.edge_tail, weights=net.edge_length_m, minlength=net.n_nodes)
    districting = districts_from_kiosks(
        travel_times, snaps, node_weight=weight.astype(float), balance_tolerance=0.25
    )
    index = {z.id: i for i, z in enumerate(zones)}
    edges: list[list[int]] = [[] for _ in zones]
    for line in session.scalars(select(PatrolLine)):
        edges[index[line.zone_id]].extend(line.edges)
    return SimCity(
        travel_times=travel_times,
        node_zone=districting.node_zone,
        zone_codes=tuple(z.code for z in zones),
        kiosks=Snaps.of([snaps[i] for i in range(len(snaps))]),
        patrol_edges=tuple(np.array(e, dtype=np.int64) for e in edges),
        node_weight=weight.astype(np.float64),
        node_key_site=near_any(
            net.node_lon,
            net.node_lat,
            [
                (p.lon, p.lat)
                for p in session.scalars(
                    select(PatrolPoint).where(PatrolPoint.kind.in_(KEY_SITE_KINDS))
                )
            ],
        ),
    )
