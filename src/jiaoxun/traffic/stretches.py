"""The road stretches with the most accidents (事故多发路段).

An accident is kept with the edge of the road network its place snapped to. A two-way street
is two edges, one each way, each other's twin; a collision on either side happened on the same
stretch, so the two count together, under the lower of the two edge ids (as `geo.matching`
keys stretches).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.traffic.models import Accident


@dataclass(frozen=True)
class Stretch:
    """One stretch of road, its accidents and where to draw it."""

    edge: int  # the lower id of the stretch's edge and its twin
    road: str
    accidents: int
    lon: float  # the middle of the stretch
    lat: float
    line: tuple[tuple[float, float], ...]


def stretch_keys(network: RoadNetwork, edges: Sequence[int]) -> np.ndarray:
    """Each edge's stretch: the edge, or its twin where the twin's id is lower."""
    edge = np.asarray(edges, dtype=np.int64)
    twin = network.edge_twin[edge]
    return np.where((twin >= 0) & (twin < edge), twin, edge)


def rank_stretches(
    network: RoadNetwork,
    edges: Sequence[int],
    roads: Sequence[str] = (),
    *,
    limit: int = 20,
) -> list[Stretch]:
    """The stretches of the accidents' `edges`, most accidents first (then by edge id).

    Parameters
    ----------
    network : the road network the edges are of; an edge it does not have is left out.
    edges : one edge per accident.
    roads : the road name kept with each accident, used for a stretch the network has no
        name for.
    limit : at most this many stretches.
    """
    known = [i for i, e in enumerate(edges) if 0 <= e < network.n_edges]
    if not known:
        return []
    keys = stretch_keys(network, [edges[i] for i in known])
    counts = Counter(keys.tolist())
    kept_names: dict[int, Counter[str]] = {}
    for i, key in zip(known, keys.tolist(), strict=True):
        if i < len(roads) and roads[i]:
            kept_names.setdefault(key, Counter())[roads[i]] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [_stretch(network, key, n, kept_names.get(key)) for key, n in ranked]


def _stretch(network: RoadNetwork, key: int, n: int, kept: Counter[str] | None) -> Stretch:
    name = int(network.edge_name[key])
    road = network.names[name] if name >= 0 else (kept.most_common(1)[0][0] if kept else "")
    middle = network.piece_coords(key, 0.5, 0.5)[0]
    line = tuple((float(lon), float(lat)) for lon, lat in network.edge_coords(key))
    return Stretch(
        edge=key, road=road, accidents=n, lon=float(middle[0]), lat=float(middle[1]), line=line
    )


def stretches(
    session: Session,
    network: RoadNetwork,
    *,
    since: datetime,
    until: datetime,
    limit: int = 20,
) -> list[Stretch]:
    """The stretches with the most accidents that occurred from `since` until before `until`."""
    rows = session.execute(
        select(Accident.edge, Accident.road).where(
            Accident.occurred_at >= since,
            Accident.occurred_at < until,
            Accident.edge.is_not(None),
        )
    ).all()
    return rank_stretches(network, [int(r.edge) for r in rows], [r.road for r in rows], limit=limit)
