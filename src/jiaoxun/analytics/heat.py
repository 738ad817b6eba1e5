"""Where the incidents were: counts on the city's road pieces for the heat map.

The database counts incidents per cell of about 100 m; each cell's centre is snapped to the
nearest road stretch here, so a few hundred numbers come back from the server, not every row."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.analytics.scope import Scope, Window
from jiaoxun.analytics.sql import floor_int
from jiaoxun.city.context import CityContext
from jiaoxun.incidents.models import Incident

CELL_DEG = 0.001  # ~80 m east-west and 110 m north-south at 45° N


def heat(
    session: Session, city: CityContext, scope: Scope, window: Window, *, valid: Any
) -> dict[str, Any]:
    """A GeoJSON collection of road stretches with the incidents nearest to them."""
    cx, cy = floor_int(Incident.lon / CELL_DEG), floor_int(Incident.lat / CELL_DEG)
    query = (
        select(cx.label("cx"), cy.label("cy"), func.count().label("n"))
        .where(Incident.call_at >= window.start, Incident.call_at < window.end, valid)
        .where(scope.incidents())
        .group_by(cx, cy)
    )
    cells = session.execute(query).all()
    if not cells:
        return {"type": "FeatureCollection", "features": [], "max_count": 0}
    lon = (np.array([c.cx for c in cells]) + 0.5) * CELL_DEG
    lat = (np.array([c.cy for c in cells]) + 0.5) * CELL_DEG
    snaps = city.travel_times.snapper.snap_many(lon, lat, strict=False)
    near = snaps.distance_m <= 150.0  # cells far from the city's roads (other cities) left out
    counts: Counter[int] = Counter()
    for edge, n, ok in zip(snaps.edge.tolist(), (c.n for c in cells), near.tolist(), strict=True):
        if ok:
            counts[edge] += n
    network = city.travel_times.network
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[round(x, 6), round(y, 6)] for x, y in network.edge_coords(edge)],
            },
            "properties": {"edge": edge, "count": n},
        }
        for edge, n in counts.most_common()
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "max_count": max(counts.values(), default=0),
    }
