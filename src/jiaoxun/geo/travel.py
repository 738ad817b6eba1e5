"""Travel times on the road network: one-to-many, many-to-one, k nearest, routes.

A snapped point sits part-way along an edge. Leaving it, a car drives on to the edge's head or,
on a two-way road, turns and drives back to its tail; arriving, it comes in from either end.
Each such end is an *anchor*: a node plus the seconds between it and the point. A search starts
from a virtual node joined to the anchors, so that times are exact from the point itself, not
from the nearest intersection. The searches are SciPy's Dijkstra on compressed sparse rows.

A network with turn restrictions is searched on its turn-expanded graph (`geo.turns`), whose
nodes are edges: a point's anchors are then its edge and that edge's twin, and the node table is
not used (it cannot know how a car came into a node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.geo.routes import Route, fastest_route
from jiaoxun.geo.snap import Snap, Snapper, Snaps
from jiaoxun.geo.turns import TurnGraph, row_min, turn_graph


@dataclass(frozen=True)
class _Anchors:
    """For each of k points, the nodes it connects to and the seconds to each (inf: none)."""

    node: Ints  # (k, 2)
    offset_s: Floats  # (k, 2)


def _graph(tail: Ints, head: Ints, weight: Floats, n: int) -> tuple[csr_matrix, Ints]:
    """CSR of the lightest edge between each node pair, and the edge behind each entry."""
    order = np.lexsort((weight, head, tail))
    tail, head, weight = tail[order], head[order], weight[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    graph = csr_matrix((weight[first], (tail[first], head[first])), shape=(n, n))
    graph.sort_indices()
    # entries came sorted by (tail, head), the CSR order: edge ids line up with graph.data
    return graph, order[first]


class TravelTimes:
    """Exact road travel times between points of a `RoadNetwork`.

    Parameters
    ----------
    network : the road network.
    max_snap_m : points farther than this from any road are refused (`OffNetwork`).
    snapper : a `Snapper` of a network with the same roads (the same network at other speeds)
        to share instead of building one; it brings its own `max_snap_m`.
    """

    def __init__(
        self,
        network: RoadNetwork,
        *,
        max_snap_m: float = 500.0,
        table: NDArray[np.float32] | None = None,
        snapper: Snapper | None = None,
    ) -> None:
        self.network = network
        if snapper is not None and snapper.network.n_edges != network.n_edges:
            raise ValueError("the snapper is of another road network")
        self.snapper = snapper or Snapper(network, max_snap_m=max_snap_m)
        n, t = network.n_nodes, network.edge_travel_time_s
        self.forward, self.forward_edge = _graph(network.edge_tail, network.edge_head, t, n)
        self.backward, _ = _graph(network.edge_head, network.edge_tail, t, n)
        #: the turn-expanded graph, searched instead when some turn is banned
        self.turns: TurnGraph | None = turn_graph(network) if len(network.turn_ban) else None
        #: seconds from every node to every node, when the network is small enough to keep it
        self.table: NDArray[np.float32] | None = None
        if table is not None:
            self.use_table(table)

    def use_table(self, table: NDArray[np.float32]) -> None:
        """Answer queries from `table` (see `jiaoxun.geo.table`) from now on; ignored on a
        network with turn restrictions, which is always searched."""
        if self.turns is not None:
            return
        n = self.network.n_nodes
        if table.shape != (n, n):
            raise ValueError(f"table shape {table.shape} does not match {n} nodes.")
        self.table = table

    # -- snapping -----------------------------------------------------------------------------

    def snap(self, lon: float, lat: float) -> Snap:
        """Snap one WGS-84 point (degrees) to the nearest road edge."""
        return self.snapper.snap_many(np.array([lon]), np.array([lat]))[0]

    def snap_many(self, lon: Floats, lat: Floats, *, strict: bool = True) -> Snaps:
        """Snap many WGS-84 points (degrees) to their nearest road edges (see `Snapper`)."""
        return self.snapper.snap_many(lon, lat, strict=strict)

    # -- anchors ------------------------------------------------------------------------------

    def _anchors(self, snaps: Snaps, *, leaving: bool) -> _Anchors:
        net = self.network
        e, f = snaps.edge, snaps.fraction
        twin = net.edge_twin[e]
        has_twin = twin >= 0
        t_fwd = net.edge_travel_time_s[e]
        t_back = net.edge_travel_time_s[np.maximum(twin, 0)]
        tail, head = net.edge_tail[e], net.edge_head[e]
        # a point at the end of a one-way edge is at that node, whichever way the edge runs
        if leaving:  # drive on to the head, or turn and drive back to the tail
            nodes = np.column_stack([head, tail])
            back = np.where(has_twin, f * t_back, np.where(f == 0, 0.0, np.inf))
            offsets = np.column_stack([(1 - f) * t_fwd, back])
        else:  # come in from the tail, or from the head along the twin
            nodes = np.column_stack([tail, head])
            back = np.where(has_twin, (1 - f) * t_back, np.where(f == 1, 0.0, np.inf))
            offsets = np.column_stack([f * t_fwd, back])
        return _Anchors(node=nodes, offset_s=offsets)

    def _edge_anchors(self, snaps: Snaps, *, leaving: bool) -> _Anchors:
        """Anchors in the turn-expanded graph: the point's edge and its twin, with the seconds
        to the edge's head (leaving) or from its tail (arriving)."""
        net = self.network
        e, f = snaps.edge, snaps.fraction
        twin = net.edge_twin[e]
        t_fwd = net.edge_travel_time_s[e]
        t_back = net.edge_travel_time_s[np.maximum(twin, 0)]
        ahead, behind = (1 - f, f) if leaving else (f, 1 - f)
        return _Anchors(
            node=np.column_stack([e, np.maximum(twin, 0)]),
            offset_s=np.column_stack([ahead * t_fwd, np.where(twin >= 0, behind * t_back, np.inf)]),
        )

    def _turn_search(self, snap: Snap, *, leaving: bool, limit: float = np.inf) -> Floats:
        """Seconds to the head of every edge from `snap` (leaving), or from the tail of every
        edge to `snap`, on the turn-expanded graph."""
        assert self.turns is not None
        anchors = self._edge_anchors(Snaps.of([snap]), leaving=leaving)
        dist, _ = self.turns.search(
            anchors.node[0], anchors.offset_s[0], backward=not leaving, limit_s=limit
        )
        return dist

    def _search(
        self,
        graph: csr_matrix,
        anchors: _Anchors,
        *,
        limit: float = np.inf,
        min_only: bool = False,
        predecessors: bool = False,
    ) -> tuple[Floats, Ints, Ints]:
        """Dijkstra from k virtual nodes (one per point) joined to their anchors.

        Returns times to the real nodes ((k, n), or (n,) with `min_only`), predecessors (with
        `predecessors` or `min_only`; else empty), and with `min_only` the point each node is
        reached from.
        """
        if self.table is not None and not predecessors:
            return self._look_up(
                anchors, backward=graph is self.backward, limit=limit, min_only=min_only
            )
        n = graph.shape[0]
        k = len(anchors.node)
        usable = np.isfinite(anchors.offset_s)
        counts = usable.sum(axis=1)
        index = graph.indices.dtype  # keep SciPy's index type, or it copies the whole graph
        extended = csr_matrix(
            (
                np.concatenate([graph.data, anchors.offset_s[usable]]),
                np.concatenate([graph.indices, anchors.node[usable].astype(index)]),
                np.concatenate([graph.indptr, graph.indptr[-1] + np.cumsum(counts, dtype=index)]),
            ),
            shape=(n + k, n + k),
        )
        sources = np.arange(n, n + k)
        if min_only:
            dist, pred, origin = dijkstra(
                extended, indices=sources, limit=limit, min_only=True, return_predecessors=True
            )
            return dist[:n], pred[:n], origin[:n] - n
        if predecessors:
            dist, pred = dijkstra(extended, indices=sources, limit=limit, return_predecessors=True)
            return dist[:, :n], pred[:, :n], np.arange(k)
        # one source as a scalar: SciPy's faster path for a single search
        dist = dijkstra(extended, indices=sources if k > 1 else n, limit=limit).reshape(k, -1)
        return dist[:, :n], np.empty((k, 0), dtype=np.int64), np.arange(k)

    def _look_up(
        self, anchors: _Anchors, *, backward: bool, limit: float, min_only: bool
    ) -> tuple[Floats, Ints, Ints]:
        """`_search` answered from the node table."""
        assert self.table is not None
        k, width = anchors.node.shape
        nodes = anchors.node.ravel()
        rows = self.table[:, nodes].T if backward else self.table[nodes]
        dist = (rows.reshape(k, width, -1) + anchors.offset_s[:, :, np.newaxis]).min(axis=1)
        dist[dist > limit] = np.inf
        no_pred = np.empty((k, 0), dtype=np.int64)
        if min_only:
            which = dist.argmin(axis=0)
            return dist[which, np.arange(dist.shape[1])], no_pred, which
        return dist, no_pred, np.arange(k)

    @staticmethod
    def _through_anchors(node_times: Floats, anchors: _Anchors) -> Floats:
        """Times to (or from) points, given times to (or from) every node."""
        return np.asarray(
            (node_times[..., anchors.node] + anchors.offset_s).min(axis=-1), dtype=np.float64
        )

    def _along_edge(
        self,
        edge: Ints | int,
        frac_from: Floats | float,
        to_edge: Ints | int,
        frac_to: Floats | float,
    ) -> Floats:
        """Seconds between positions without leaving one road stretch, elementwise (inf: not so);
        a position on the twin of `edge` is on the same stretch, seen from the other end."""
        net = self.network
        twin = net.edge_twin[edge]
        on_twin = (to_edge == twin) & (twin >= 0)
        frac_to = np.where(on_twin, 1 - np.asarray(frac_to), frac_to)
        same = (edge == to_edge) | on_twin
        ahead = same & (frac_to >= frac_from)
        behind = same & (frac_to <= frac_from) & (twin >= 0)
        t_back = net.edge_travel_time_s[np.maximum(twin, 0)]
        return np.asarray(
            np.minimum(
                np.where(ahead, (frac_to - frac_from) * net.edge_travel_time_s[edge], np.inf),
                np.where(behind, (frac_from - frac_to) * t_back, np.inf),
            ),
            dtype=np.float64,
        )

    # -- queries ------------------------------------------------------------------------------

    def node_times_from(self, origin: Snap) -> Floats:
        """Seconds from `origin` to every node (one-to-all)."""
        if self.turns is not None:
            at_head = self._turn_search(origin, leaving=True)
            return self._per_node(at_head, self.network.edge_head)
        dist, _, _ = self._search(self.forward, self._anchors(Snaps.of([origin]), leaving=True))
        return np.asarray(dist[0], dtype=np.float64)

    def node_times_to(self, target: Snap) -> Floats:
        """Seconds from every node to `target` (all-to-one)."""
        if self.turns is not None:
            from_tail = self._turn_search(target, leaving=False)
            return self._per_node(from_tail, self.network.edge_tail)
        dist, _, _ = self._search(self.backward, self._anchors(Snaps.of([target]), leaving=False))
        return np.asarray(dist[0], dtype=np.float64)

    def nearest_origin(
        self, origins: Snaps, *, limit_s: float = np.inf, start_offset_s: Floats | None = None
    ) -> tuple[Floats, Ints]:
        """For every node, seconds from the nearest of `origins` and which one (-1: none).

        One multi-source search: the coverage map of a fleet, or the districts of kiosks.
        `start_offset_s` (>= 0, one per origin) is added to every time from that origin, as if
        it started that many seconds late; the times returned include it.
        """
        turns = self.turns is not None
        anchors = (self._edge_anchors if turns else self._anchors)(origins, leaving=True)
        if start_offset_s is not None:
            late = np.asarray(start_offset_s, dtype=np.float64)[:, np.newaxis]
            anchors = _Anchors(node=anchors.node, offset_s=anchors.offset_s + late)
        if self.turns is not None:
            at_head, _, from_edge = self._search(
                self.turns.forward, anchors, limit=limit_s, min_only=True
            )
            head = self.network.edge_head
            dist = self._per_node(at_head, head)
            # the origin of each node: that of its soonest edge in
            soonest = np.full(self.network.n_nodes, -1, dtype=np.int64)
            order = np.lexsort((-at_head, head))  # per node, the soonest edge last
            soonest[head[order]] = from_edge[order]
            return dist, np.where(np.isfinite(dist), soonest, -1)
        dist, _, which = self._search(self.forward, anchors, limit=limit_s, min_only=True)
        return dist, np.where(np.isfinite(dist), which, -1)

    @staticmethod
    def _flat(anchors: _Anchors) -> _Anchors:
        """`anchors` pointing into the array of their own times, laid out row by row."""
        k, width = anchors.node.shape
        return _Anchors(node=np.arange(k * width).reshape(k, width), offset_s=anchors.offset_s)

    def _per_node(self, edge_times: Floats, node_of_edge: Ints) -> Floats:
        """For each node, the least of `edge_times` over the edges with that node as
        `node_of_edge` (inf: none)."""
        times = np.full(self.network.n_nodes, np.inf)
        np.minimum.at(times, node_of_edge, edge_times)
        return times

    def times_from(self, origin: Snap, targets: Snaps) -> Floats:
        """Seconds from `origin` to each of `targets` (one-to-many)."""
        leaving = Snaps.of([origin])
        if self.turns is not None:
            at_head = self._turn_search(origin, leaving=True)
            arrive = self._edge_anchors(targets, leaving=False)
            entered = row_min(self.turns.backward, at_head, arrive.node.ravel())
            via_network = self._through_anchors(entered, self._flat(arrive))
        elif self.table is not None:
            leave = self._anchors(leaving, leaving=True)
            via_network = self._between(leave, self._anchors(targets, leaving=False))[0]
        else:
            dist, _, _ = self._search(self.forward, self._anchors(leaving, leaving=True))
            via_network = self._through_anchors(dist[0], self._anchors(targets, leaving=False))
        direct = self._along_edge(origin.edge, origin.fraction, targets.edge, targets.fraction)
        return np.minimum(via_network, direct)

    def times_to(self, target: Snap, origins: Snaps) -> Floats:
        """Seconds from each of `origins` to `target` (many-to-one)."""
        return self._times_to(target, origins, limit=np.inf)

    def _times_to(self, target: Snap, origins: Snaps, *, limit: float) -> Floats:
        arriving = Snaps.of([target])
        if self.turns is not None:
            from_tail = self._turn_search(target, leaving=False, limit=limit)
            leave = self._edge_anchors(origins, leaving=True)
            onwards = row_min(self.turns.forward, from_tail, leave.node.ravel())
            via_network = self._through_anchors(onwards, self._flat(leave))
        elif self.table is not None:
            leave = self._anchors(origins, leaving=True)
            via_network = self._between(leave, self._anchors(arriving, leaving=False))[:, 0]
        else:
            dist, _, _ = self._search(
                self.backward, self._anchors(arriving, leaving=False), limit=limit
            )
            via_network = self._through_anchors(dist[0], self._anchors(origins, leaving=True))
        direct = self._along_edge(origins.edge, origins.fraction, target.edge, target.fraction)
        return np.minimum(via_network, direct)

    def _between(self, leave: _Anchors, arrive: _Anchors) -> Floats:
        """Seconds from each leaving point to each arriving point, from the node table."""
        assert self.table is not None
        node_to_node = self.table[np.ix_(leave.node.ravel(), arrive.node.ravel())]
        total = (
            leave.offset_s.reshape(-1, 1)
            + node_to_node.astype(np.float64)
            + arrive.offset_s.reshape(1, -1)
        )
        k_from, k_to = len(leave.node), len(arrive.node)
        return np.asarray(total.reshape(k_from, 2, k_to, 2).min(axis=(1, 3)), dtype=np.float64)

    def nearest(
        self, target: Snap, origins: Snaps, *, k: int, first_limit_s: float = 120.0
    ) -> tuple[Ints, Floats]:
        """The `k` of `origins` that reach `target` soonest, by exact road ETA, nearest first.

        The search radius starts at `first_limit_s` and grows fourfold until k origins fall
        inside it, so a dense fleet is ranked after exploring only the target's neighbourhood.
        Returns indices into `origins` and their ETAs in seconds (fewer than k when fewer
        origins can reach the target at all).
        """
        if k < 1:
            raise ValueError(f"k(={k}) must be >= 1.")
        k = min(k, len(origins))
        limit = first_limit_s if self.table is None else np.inf
        while True:
            eta = self._times_to(target, origins, limit=limit)
            inside = np.flatnonzero(eta <= limit)
            if len(inside) >= k or not np.isfinite(limit):
                break
            limit = limit * 4 if limit < 3600 else np.inf
        reachable = np.flatnonzero(np.isfinite(eta))
        best = reachable[np.argsort(eta[reachable], kind="stable")[:k]]
        return best, eta[best]

    def route(self, origin: Snap, target: Snap) -> Route:
        """The fastest route from `origin` to `target`, with its geometry (`geo.routes`)."""
        return fastest_route(self, origin, target)
