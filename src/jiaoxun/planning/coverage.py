"""Coverage: how much of the city a set of points reaches within 1, 3 and 5 minutes by road.

Coverage is to a police force what the reach of a lighthouse is to a coast: the share of the
road, and of the expected calls, that a car leaving one of the points (kiosks, or the cars'
current or planned positions) reaches within the response target. Road length is counted along
the edges, each stretch only as far as a car gets within the time (a stretch whose start is
reached but not its end counts in part); demand is a weight per road node, by default the road
length the node stands for (half of each stretch that meets there).

Where the points should stand is `planning.covering` (the maximal covering location problem).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes

_M_PER_DEG = 6_371_008.8 * math.pi / 180


@dataclass(frozen=True)
class CoverageShare:
    """Coverage within one time bound; shares are in [0, 1], `road_m` in metres."""

    minutes: float
    road_share: float
    demand_share: float
    road_m: float
    demand: float


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of a network from a set of points.

    Attributes
    ----------
    shares : one `CoverageShare` per bound, in the order the bounds were given.
    node_time_s : seconds from the nearest point to each node (inf: unreachable).
    node_origin : index of that nearest point, or -1.
    total_road_m : road length of the network in metres, a two-way stretch once.
    total_demand : sum of the node weights.
    """

    shares: tuple[CoverageShare, ...]
    node_time_s: Floats
    node_origin: Ints
    total_road_m: float
    total_demand: float

    def at(self, minutes: float) -> CoverageShare:
        """The share within `minutes` (one of the bounds asked for)."""
        for share in self.shares:
            if share.minutes == minutes:
                return share
        bounds = [s.minutes for s in self.shares]
        raise InvalidInput(f"minutes(={minutes}) is not one of the bounds computed, {bounds}")


def road_node_weight(network: RoadNetwork) -> Floats:
    """Road metres each node stands for: half of every stretch meeting there (two-way once).

    Returns
    -------
    Floats
        One weight per node, in metres; they sum to the road length of the network.
    """
    once = network.stretch_mask
    half = network.edge_length_m[once] / 2.0
    n = network.n_nodes
    return np.asarray(
        np.bincount(network.edge_tail[once], weights=half, minlength=n)
        + np.bincount(network.edge_head[once], weights=half, minlength=n),
        dtype=np.float64,
    )


def coverage(
    travel_times: TravelTimes,
    origins: Snaps,
    *,
    minutes: Sequence[float] = (1, 3, 5),
    node_weight: Floats | None = None,
) -> CoverageResult:
    """Share of road and of demand reachable from the nearest of `origins` within each bound.

    Parameters
    ----------
    travel_times : the network and its travel-time searches.
    origins : the snapped starting points (at least one).
    minutes : the time bounds in minutes, each > 0.
    node_weight : expected demand per node (calls, or any non-negative weight); by default
        `road_node_weight`, demand spread evenly over the road.

    Returns
    -------
    CoverageResult
        Road share by edge: each stretch counts as far as it is driven within the bound, from
        either end or from an origin standing on it. Demand share by node: a node's weight
        counts when its time from the nearest origin is at most the bound.
    """
    network = travel_times.network
    if len(origins) == 0:
        raise InvalidInput("coverage needs at least one origin, got 0")
    for bound in minutes:
        if not (math.isfinite(bound) and bound > 0):
            raise InvalidInput(f"minutes(={bound}) must be a finite number > 0")
    weight = road_node_weight(network) if node_weight is None else checked_weight(node_weight)
    if len(weight) != network.n_nodes:
        raise InvalidInput(f"node_weight has {len(weight)} values, the network {network.n_nodes}")
    node_time_s, node_origin = travel_times.nearest_origin(origins)
    total_road_m = float(network.edge_length_m[network.stretch_mask].sum())
    total_demand = float(weight.sum())
    shares = []
    for bound in minutes:
        road_m = _reached_road_m(travel_times, origins, node_time_s, seconds=60.0 * bound)
        demand = float(weight[node_time_s <= 60.0 * bound].sum())
        shares.append(
            CoverageShare(
                minutes=bound,
                road_share=road_m / total_road_m if total_road_m > 0 else 0.0,
                demand_share=demand / total_demand if total_demand > 0 else 0.0,
                road_m=road_m,
                demand=demand,
            )
        )
    return CoverageResult(tuple(shares), node_time_s, node_origin, total_road_m, total_demand)


def candidate_nodes(network: RoadNetwork, *, spacing_m: float) -> Ints:
    """A thinned set of candidate sites: in each square of `spacing_m` metres, the node nearest
    its centre.

    Parameters
    ----------
    network : the road network.
    spacing_m : side of the squares in metres, > 0 (about the distance between candidates).

    Returns
    -------
    Ints
        Node indices, ascending.
    """
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise InvalidInput(f"spacing_m(={spacing_m}) must be a finite number > 0")
    # local equirectangular metres are exact enough at city scale
    lat0 = float(np.mean(network.node_lat))
    x = (network.node_lon - network.node_lon.min()) * _M_PER_DEG * math.cos(math.radians(lat0))
    y = (network.node_lat - network.node_lat.min()) * _M_PER_DEG
    cell_x, cell_y = np.floor(x / spacing_m), np.floor(y / spacing_m)
    off_centre = np.hypot(x - (cell_x + 0.5) * spacing_m, y - (cell_y + 0.5) * spacing_m)
    order = np.lexsort((off_centre, cell_y, cell_x))
    cell = np.column_stack([cell_x, cell_y])[order]
    first = np.concatenate([[True], np.any(cell[1:] != cell[:-1], axis=1)])
    return np.sort(order[first]).astype(np.int64)


def _reached_road_m(
    travel_times: TravelTimes, origins: Snaps, node_time_s: Floats, *, seconds: float
) -> float:
    """Road metres reached within `seconds`, each stretch counted once however it is driven."""
    net = travel_times.network
    t_edge = net.edge_travel_time_s
    # every edge driven from its tail as far as the time allows
    edge = np.flatnonzero(node_time_s[net.edge_tail] < seconds)
    lo = np.zeros(len(edge))
    hi = np.minimum(1.0, (seconds - node_time_s[net.edge_tail[edge]]) / t_edge[edge])
    # the origins' own edges, driven straight from the origin either way
    e, f = origins.edge, origins.fraction
    twin = net.edge_twin[e]
    back = twin >= 0
    edge = np.concatenate([edge, e, e[back]])
    lo = np.concatenate([lo, f, np.maximum(0.0, f[back] - seconds / t_edge[twin[back]])])
    hi = np.concatenate([hi, np.minimum(1.0, f + seconds / t_edge[e]), f[back]])
    # into the fractions of each stretch's own edge, then merge overlaps per stretch
    canonical = np.where(net.stretch_mask, np.arange(net.n_edges), net.edge_twin)
    flip = canonical[edge] != edge
    line = canonical[edge]
    line_lo, line_hi = np.where(flip, 1.0 - hi, lo), np.where(flip, 1.0 - lo, hi)
    return _union_length_m(line, line_lo, line_hi, net.edge_length_m)


def _union_length_m(line: Ints, lo: Floats, hi: Floats, length_m: Floats) -> float:
    """Total length of the union of intervals [lo, hi] (fractions) of the lines `line`."""
    keep = hi > lo
    line, lo, hi = line[keep], lo[keep], hi[keep]
    if len(line) == 0:
        return 0.0
    order = np.lexsort((lo, line))
    line, lo, hi = line[order], lo[order], hi[order]
    # fractions lie in [0, 1], so 2 * line + fraction never mixes two lines
    reach = np.maximum.accumulate(2.0 * line + hi)
    first = np.flatnonzero(np.concatenate([[True], 2.0 * line[1:] + lo[1:] > reach[:-1]]))
    merged_hi = np.maximum.reduceat(hi, first)
    return float(((merged_hi - lo[first]) * length_m[line[first]]).sum())


def checked_weight(node_weight: Floats) -> Floats:
    """The weights as floats; `InvalidInput` unless one finite number >= 0 per point."""
    weight = np.asarray(node_weight, dtype=np.float64)
    if weight.ndim != 1 or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise InvalidInput("weights must be one finite number >= 0 per point")
    return weight


# -- maximal covering -----------------------------------------------------------------------


def take(snaps: Snaps, index: Sequence[int] | Ints) -> Snaps:
    """The snapped points at `index`, in that order."""
    i = np.asarray(index, dtype=np.int64)
    return Snaps(
        edge=snaps.edge[i],
        fraction=snaps.fraction[i],
        distance_m=snaps.distance_m[i],
        lon=snaps.lon[i],
        lat=snaps.lat[i],
    )
