"""Turn restrictions and the turn-expanded graph searched when a network has them.

A node graph forgets how a car came into an intersection, so it cannot tell a banned left turn
from the permitted right turn beside it. The turn-expanded graph remembers: its states are the
directed edges themselves ("has just driven along edge e"), and it joins e to each edge g the car
may turn into at e's head. A turn is left out when an OpenStreetMap restriction bans it
(``restriction=no_*``, or every other turn of an ``only_*``, via a node) and when it is a U-turn
back along e's twin at an intersection; a car turns round only at a dead end (or, as in the node
graph, at the point it starts from). Without a banned turn the node graph gives the same times,
so a network without restrictions is searched as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jiaoxun.geo.network import Floats, Ints, RoadNetwork


@dataclass(frozen=True)
class Restriction:
    """An OpenStreetMap turn restriction via a node: from a way into another at a node."""

    from_way: int
    via_node: int
    to_way: int
    only: bool  # only_*: the one turn allowed; no_*: the one turn banned


def restrictions_from_pbf(path: str | os.PathLike[str]) -> list[Restriction]:
    """The turn restrictions of an OpenStreetMap extract that bind a car.

    Relations tagged ``type=restriction`` with ``restriction`` (or ``restriction:motorcar``)
    ``no_*`` or ``only_*``, one ``from`` way, one ``via`` node and one ``to`` way; those with
    ``except=motorcar`` and those via a way are left out.
    """
    found = []
    for rel in osmium.FileProcessor(str(Path(path)), osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = {tag.k: tag.v for tag in rel.tags}
        kind = tags.get("restriction:motorcar") or tags.get("restriction", "")
        if tags.get("type") != "restriction" or not kind.startswith(("no_", "only_")):
            continue
        if "motorcar" in tags.get("except", "").split(";"):
            continue
        roles: dict[str, list[tuple[str, int]]] = {}
        for member in rel.members:
            roles.setdefault(member.role, []).append((member.type, member.ref))
        ends = [roles.get(role, []) for role in ("from", "via", "to")]
        if [len(e) for e in ends] != [1, 1, 1] or [e[0][0] for e in ends] != ["w", "n", "w"]:
            continue
        (_, from_way), (_, via), (_, to_way) = (e[0] for e in ends)
        found.append(Restriction(from_way, via, to_way, only=kind.startswith("only_")))
    return found


def turn_bans(
    restrictions: Iterable[Restriction],
    *,
    node_of_ref: Mapping[int, int],
    edge_tail: Ints,
    edge_head: Ints,
    edge_way: Ints,
) -> Ints:
    """The (from edge, to edge) pairs the restrictions ban, as a (k, 2) array of edge indices.

    The from edges are those of the from way that end at the via node, the to edges those of
    the to way that start there; an ``only_*`` bans every other edge leaving the via node.
    """
    pairs: list[tuple[int, int]] = []
    for r in restrictions:
        via = node_of_ref.get(r.via_node)
        if via is None:
            continue
        into = np.flatnonzero((edge_head == via) & (edge_way == r.from_way))
        out_of = edge_tail == via
        named = out_of & (edge_way == r.to_way)
        banned = np.flatnonzero(out_of & ~named if r.only else named)
        if not len(np.flatnonzero(named)):
            continue  # the to way does not leave the via node: a broken relation
        pairs.extend((int(f), int(t)) for f in into for t in banned)
    return np.array(sorted(set(pairs)), dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True, eq=False)
class TurnGraph:
    """The permitted turns as two (edges × edges) sparse graphs.

    `forward` joins edge e to each edge g it may turn into, weighted by g's travel time
    (seconds): a search over it gives the time to the head of each edge. `backward` joins g
    to each such e, weighted by e's travel time: the time from the tail of each edge onwards.
    """

    forward: csr_matrix
    backward: csr_matrix
    # each graph with one more node, the start, whose two edges each search sets in place
    _with_start: dict[bool, csr_matrix] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        with_start = {False: _with_start(self.forward), True: _with_start(self.backward)}
        object.__setattr__(self, "_with_start", with_start)

    def search(
        self,
        edges: Ints,
        offsets_s: Floats,
        *,
        backward: bool,
        limit_s: float = np.inf,
        predecessors: bool = False,
    ) -> tuple[Floats, Ints | None]:
        """Dijkstra from one point joined to its two anchor `edges` with `offsets_s` seconds
        (inf: no such anchor), over `backward` or `forward`.

        Returns the seconds to every edge-state (m,), and its predecessors with
        `predecessors` (an index >= m is the point itself). Searches from one point are most
        of the queries, so the start's two edges are written into a graph built once, not
        appended to a copy of it (under a lock: the server searches from several threads).
        """
        graph = self._with_start[backward]
        m = graph.shape[0] - 1
        usable = np.isfinite(offsets_s)
        cols = np.where(usable, edges, m)  # an unused slot: a loop on the start
        weights = np.where(usable, offsets_s, 1.0)
        order = np.argsort(cols)
        with self._lock:
            graph.data[-2:] = weights[order]
            graph.indices[-2:] = cols[order]
            if predecessors:
                dist, pred = dijkstra(graph, indices=m, limit=limit_s, return_predecessors=True)
                return dist[:m], pred[:m]
            dist = dijkstra(graph, indices=m, limit=limit_s)
        return dist[:m], None


def _with_start(graph: csr_matrix) -> csr_matrix:
    m = graph.shape[0]
    index = graph.indices.dtype  # keep SciPy's index type, or it copies the whole graph
    return csr_matrix(
        (
            np.concatenate([graph.data, [1.0, 1.0]]),
            np.concatenate([graph.indices, np.array([m, m], dtype=index)]),
            np.concatenate([graph.indptr, [graph.indptr[-1] + 2]]).astype(index),
        ),
        shape=(m + 1, m + 1),
    )


def turn_graph(network: RoadNetwork) -> TurnGraph:
    """The turn-expanded graph of `network`: every turn at a node but the banned ones and
    U-turns away from dead ends."""
    m, t = network.n_edges, network.edge_travel_time_s
    by_tail = np.argsort(network.edge_tail, kind="stable")
    out_start = np.searchsorted(network.edge_tail[by_tail], np.arange(network.n_nodes + 1))
    out_degree = np.diff(out_start)
    # every (edge, next edge) pair meeting at a node
    counts = out_degree[network.edge_head]
    into = np.repeat(np.arange(m), counts)
    within = np.arange(len(into)) - np.repeat(np.cumsum(counts) - counts, counts)
    onto = by_tail[out_start[network.edge_head[into]] + within]
    u_turn = onto == network.edge_twin[into]
    dead_end = counts[into] == 1  # the way back is the only way on
    keep = ~u_turn | dead_end
    bans = network.turn_ban
    if len(bans):
        keep &= ~np.isin(into * m + onto, bans[:, 0] * m + bans[:, 1])
    into, onto = into[keep], onto[keep]
    forward = csr_matrix((t[onto], (into, onto)), shape=(m, m))
    backward = csr_matrix((t[into], (onto, into)), shape=(m, m))
    forward.sort_indices()
    backward.sort_indices()
    return TurnGraph(forward, backward)


def row_min(graph: csr_matrix, values: Floats, rows: Ints | None = None) -> Floats:
    """For each row of `graph` (or each of `rows`), the least of `values` over the row's
    columns (inf: none).

    With `values` the times to the head of each edge and `graph` the `TurnGraph.backward`, the
    time at which each edge can be entered; with the times from each edge's tail onwards and
    the `TurnGraph.forward`, the time onwards from each edge's head.
    """
    indptr = graph.indptr
    if rows is None:
        starts, ends, picked = indptr[:-1], indptr[1:], values[graph.indices]
    else:  # only the entries of `rows`, laid end to end
        starts, ends = indptr[rows], indptr[rows + 1]
        sizes = ends - starts
        offsets = np.cumsum(sizes) - sizes
        within = np.arange(int(sizes.sum())) - np.repeat(offsets, sizes)
        picked = values[graph.indices[np.repeat(starts, sizes) + within]]
        starts, ends = offsets, offsets + sizes
    out = np.full(len(starts), np.inf)
    nonempty = np.flatnonzero(ends > starts)
    if len(nonempty):
        out[nonempty] = np.minimum.reduceat(picked, starts[nonempty])
    return out
