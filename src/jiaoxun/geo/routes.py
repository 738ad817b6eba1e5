"""Routes: the fastest way from one snapped point to another, with its geometry.

The route's seconds are those of `TravelTimes`'s searches; its way is walked back from the
search's predecessors (of nodes, or of edges on a network with turn restrictions), and its
geometry is the pieces of edges driven: the start and end edges from the points' fractions,
whole edges between.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jiaoxun.geo.network import Floats
from jiaoxun.geo.snap import Snap, Snaps

if TYPE_CHECKING:
    from jiaoxun.geo.travel import TravelTimes


@dataclass(frozen=True)
class Route:
    """The fastest way from one snapped point to another."""

    travel_time_s: float
    distance_m: float
    edges: tuple[int, ...]
    coords: Floats  # (n, 2) longitude, latitude


def fastest_route(tt: TravelTimes, origin: Snap, target: Snap) -> Route:
    """The fastest route from `origin` to `target`, with its geometry."""
    direct = float(tt._along_edge(origin.edge, origin.fraction, target.edge, target.fraction))
    if tt.turns is not None:
        return _turn_route(tt, origin, target, direct)
    dist, pred, _ = tt._search(
        tt.forward, tt._anchors(Snaps.of([origin]), leaving=True), predecessors=True
    )
    arrive = tt._anchors(Snaps.of([target]), leaving=False)
    totals = dist[0][arrive.node[0]] + arrive.offset_s[0]
    if direct <= totals.min():
        return _direct_route(tt, origin, target, direct)
    side = int(np.argmin(totals))
    nodes = [int(arrive.node[0, side])]
    n = tt.network.n_nodes
    while 0 <= pred[0, nodes[-1]] < n:  # walk back until the virtual start node
        nodes.append(int(pred[0, nodes[-1]]))
    nodes.reverse()
    middle = [_edge_between(tt, u, v) for u, v in itertools.pairwise(nodes)]
    first = _leg(tt, origin, start=True, node=nodes[0])
    last = _leg(tt, target, start=False, node=nodes[-1])
    return _assemble(tt, first, middle, last, float(totals[side]))


def _turn_route(tt: TravelTimes, origin: Snap, target: Snap, direct: float) -> Route:
    """`route` on the turn-expanded graph: its nodes are the edges driven."""
    assert tt.turns is not None
    leave = tt._edge_anchors(Snaps.of([origin]), leaving=True)
    at_head, pred = tt.turns.search(
        leave.node[0], leave.offset_s[0], backward=False, predecessors=True
    )
    assert pred is not None
    arrive = tt._edge_anchors(Snaps.of([target]), leaving=False)
    best = (np.inf, -1, -1)  # seconds, arriving edge, the edge driven before it
    into = tt.turns.backward
    for edge, offset in zip(arrive.node[0].tolist(), arrive.offset_s[0].tolist(), strict=True):
        before = into.indices[into.indptr[edge] : into.indptr[edge + 1]]
        if len(before) and np.isfinite(offset):
            i = int(np.argmin(at_head[before]))
            best = min(best, (float(at_head[before[i]]) + offset, edge, int(before[i])))
    seconds, last_edge, edge = best
    if direct <= seconds:
        return _direct_route(tt, origin, target, direct)
    chain, m = [edge], tt.network.n_edges
    while 0 <= pred[chain[-1]] < m:  # walk back until the virtual start node
        chain.append(int(pred[chain[-1]]))
    chain.reverse()
    f_from, f_to = origin.fraction, target.fraction
    first = (chain[0], f_from, 1.0) if chain[0] == origin.edge else (chain[0], 1 - f_from, 1.0)
    last = (last_edge, 0.0, f_to) if last_edge == target.edge else (last_edge, 0.0, 1 - f_to)
    return _assemble(tt, first, chain[1:], last, seconds)


def _edge_between(tt: TravelTimes, u: int, v: int) -> int:
    row = slice(tt.forward.indptr[u], tt.forward.indptr[u + 1])
    j = row.start + int(np.searchsorted(tt.forward.indices[row], v))
    return int(tt.forward_edge[j])


def _leg(tt: TravelTimes, snap: Snap, *, start: bool, node: int) -> tuple[int, float, float]:
    """The piece of the snapped edge driven at the start or end: (edge, from, to) fractions."""
    net = tt.network
    forward = (net.edge_head[snap.edge] == node) if start else (net.edge_tail[snap.edge] == node)
    twin = int(net.edge_twin[snap.edge])
    if not forward and twin < 0:  # at the end of a one-way edge: nothing of it is driven
        return (snap.edge, snap.fraction, snap.fraction)
    if start:
        return (snap.edge, snap.fraction, 1.0) if forward else (twin, 1 - snap.fraction, 1.0)
    return (snap.edge, 0.0, snap.fraction) if forward else (twin, 0.0, 1 - snap.fraction)


def _piece(tt: TravelTimes, edge: int, lo: float, hi: float) -> Floats:
    return tt.network.piece_coords(edge, lo, hi)


def _direct_route(tt: TravelTimes, origin: Snap, target: Snap, seconds: float) -> Route:
    on_twin = target.edge != origin.edge
    to_fraction = 1 - target.fraction if on_twin else target.fraction
    if to_fraction >= origin.fraction:
        edge, lo, hi = origin.edge, origin.fraction, to_fraction
    else:
        edge, lo, hi = (
            int(tt.network.edge_twin[origin.edge]),
            1 - origin.fraction,
            1 - to_fraction,
        )
    length = (hi - lo) * tt.network.edge_length_m[edge]
    return Route(seconds, float(length), (edge,), _piece(tt, edge, lo, hi))


def _assemble(
    tt: TravelTimes,
    first: tuple[int, float, float],
    middle: list[int],
    last: tuple[int, float, float],
    seconds: float,
) -> Route:
    length_m = tt.network.edge_length_m
    pieces = [first] + [(e, 0.0, 1.0) for e in middle] + [last]
    coords = np.vstack([_piece(tt, e, lo, hi) for e, lo, hi in pieces])
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
    distance = sum((hi - lo) * length_m[e] for e, lo, hi in pieces)
    edges = tuple(e for e, lo, hi in pieces if hi > lo)
    return Route(seconds, float(distance), edges, coords[keep])
