"""Map matching: from a noisy GPS track to the roads a car drove, by a hidden Markov model.

A track is read the way a detective reads footprints in the snow: each print alone could belong
to several paths, but only some sequences of paths make a walk. Each fix may lie on any road
within `radius_m` (its candidates, one per direction of a two-way road); a fix is likelier on a
road near it (a Gaussian on the distance, `sigma_m`), and a move from one fix to the next is
likelier when the road distance between the two candidates is close to the straight distance
between the two fixes (an exponential on their difference, `beta_m`), as in Newson & Krumm,
"Hidden Markov map matching through noise and sparseness" (ACM SIGSPATIAL 2009). The scale of
that exponential grows with the straight distance (`beta_share` of it): between sparse fixes a
corner or a ramp makes the road legitimately longer than the straight line, and Newson & Krumm
found the fitted scale growing with the sampling interval. Viterbi picks
the likeliest sequence of candidates; the shortest roads between consecutive ones complete the
path driven.

A move is impossible when its road distance exceeds what `max_speed_kph` allows in the time
elapsed (plus `2 * radius_m` for the noise of both fixes). A gap over `max_gap_s`, or a fix that
no move reaches, starts a new segment: nobody knows the way driven meanwhile. A fix with no road
within `radius_m` is left unmatched and skipped. A small move backwards along one road (up to
`reverse_tolerance_m`) is read as noise, the car standing still, not as a U-turn.

Road distances come from bounded Dijkstra searches (SciPy) on the network's length graph, with
the same rows as `TravelTimes.forward`; turn restrictions are not applied (the fixes show what
was driven). Distances up to `table_m` are searched once, from every node, when the matcher is
built, and then looked up: an upper-bounded origin-destination table, as in Yang & Gidofalvi,
"Fast map matching" (IJGIS 2018). Moves allowed farther than `table_m` are searched each time.
Distances are in metres in the network's UTM projection (`Snapper`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.geo.travel import TravelTimes

#: Driven portions: stretch (lower edge id of a two-way road) -> sorted disjoint fraction
#: intervals, as `jiaoxun.tracking.lines.Portions`.
Portions = dict[int, tuple[tuple[float, float], ...]]

_STEPS_PER_CHUNK = 1024
_SOURCES_PER_SEARCH = 256


@dataclass(frozen=True, eq=False)
class MatchedPath:
    """What a track was matched to, per fix and as the path driven.

    Attributes
    ----------
    edge, fraction : per fix, the directed edge and how far along it (0 tail, 1 head); edge -1
        and fraction NaN where the fix is unmatched.
    segment : per fix, the segment it belongs to (0, 1, ...), -1 where unmatched.
    piece_edge, piece_from, piece_to : the path driven, in driving order: each piece is the
        directed edge driven from fraction `piece_from` to `piece_to` (from < to).
    piece_segment : the segment of each piece.
    """

    edge: Ints
    fraction: Floats
    segment: Ints
    piece_edge: Ints
    piece_from: Floats
    piece_to: Floats
    piece_segment: Ints

    @property
    def n_segments(self) -> int:
        return int(self.segment.max()) + 1 if len(self.segment) and self.segment.max() >= 0 else 0


@dataclass(frozen=True, eq=False)
class _Candidates:
    """Directed candidates of all fixes, grouped by fix: fix `i` has `start[i]:start[i + 1]`."""

    edge: Ints
    fraction: Floats
    log_emission: Floats
    start: Ints


class Matcher:
    """A hidden-Markov map matcher on the roads of a `TravelTimes` (see the module docstring).

    Parameters
    ----------
    travel_times : the network, its snapping tree and its forward graph.
    sigma_m : standard deviation of GPS noise, metres.
    beta_m : scale of the exponential on |road distance - straight distance|, metres, between
        fixes at one place.
    beta_share : the scale grows by this share of the straight distance between the fixes.
    radius_m : roads farther than this from a fix are not its candidates, metres.
    max_candidates : at most this many road stretches per fix, the nearest.
    max_speed_kph : no move is faster than this, km/h.
    max_gap_s : a longer time between fixes starts a new segment, seconds.
    reverse_tolerance_m : a move back along one edge up to this long counts as standing still.
    table_m : road distances up to this are computed from every node once and looked up, metres;
        0 searches every time. The table holds every node pair this close by road.
    """

    def __init__(
        self,
        travel_times: TravelTimes,
        *,
        sigma_m: float = 10.0,
        beta_m: float = 5.0,
        beta_share: float = 0.1,
        radius_m: float = 50.0,
        max_candidates: int = 16,
        max_speed_kph: float = 120.0,
        max_gap_s: float = 300.0,
        reverse_tolerance_m: float = 50.0,
        table_m: float = 1200.0,
    ) -> None:
        for name, value in (
            ("sigma_m", sigma_m),
            ("beta_m", beta_m),
            ("radius_m", radius_m),
            ("max_speed_kph", max_speed_kph),
            ("max_gap_s", max_gap_s),
        ):
            if not value > 0:
                raise ValueError(f"{name}(={value}) must be > 0.")
        if beta_share < 0:
            raise ValueError(f"beta_share(={beta_share}) must be >= 0.")
        if max_candidates < 1:
            raise ValueError(f"max_candidates(={max_candidates}) must be >= 1.")
        self.network = travel_times.network
        self.snapper = travel_times.snapper
        self.sigma_m = sigma_m
        self.beta_m = beta_m
        self.beta_share = beta_share
        self.radius_m = radius_m
        self.max_candidates = max_candidates
        self.max_speed_mps = max_speed_kph / 3.6
        self.max_gap_s = max_gap_s
        self.reverse_tolerance_m = reverse_tolerance_m
        #: the forward graph's node pairs, weighted by the length of the edge behind each
        self.edge_of_entry = travel_times.forward_edge
        forward = travel_times.forward
        self.graph = csr_matrix(
            (self.network.edge_length_m[self.edge_of_entry], forward.indices, forward.indptr),
            shape=forward.shape,
        )
        self.table_m = table_m
        self.table_key, self.table_distance_m = _bounded_table(self.graph, table_m)

    # -- candidates ---------------------------------------------------------------------------

    def _candidates(self, x: Floats, y: Floats) -> _Candidates:
        """The nearest `max_candidates` stretches within `radius_m` of each fix, both ways."""
        net, snapper = self.network, self.snapper
        points = shapely.points(x, y)
        fix, line = snapper.tree.query(points, predicate="dwithin", distance=self.radius_m)
        distance = shapely.distance(points[fix], snapper.lines[line])
        order = np.lexsort((distance, fix))
        fix, line, distance = fix[order], line[order], distance[order]
        first = np.searchsorted(fix, fix)  # index of each fix's nearest candidate
        keep = np.arange(len(fix)) - first < self.max_candidates
        fix, line, distance = fix[keep], line[keep], distance[keep]
        fraction = shapely.line_locate_point(snapper.lines[line], points[fix], normalized=True)
        edge = snapper.line_edge[line]
        twin = net.edge_twin[edge]
        # each stretch once per direction: the edge, then its twin where it has one
        both = twin >= 0
        fix = np.concatenate([fix, fix[both]])
        edge = np.concatenate([edge, twin[both]])
        fraction = np.concatenate([fraction, 1.0 - fraction[both]])
        distance = np.concatenate([distance, distance[both]])
        order = np.argsort(fix, kind="stable")
        start = np.searchsorted(fix[order], np.arange(len(x) + 1))
        return _Candidates(
            edge=edge[order].astype(np.int64),
            fraction=np.asarray(fraction[order], dtype=np.float64),
            log_emission=-0.5 * (distance[order] / self.sigma_m) ** 2,
            start=start.astype(np.int64),
        )

    # -- transitions --------------------------------------------------------------------------

    def _road_distances(self, source: Ints, target: Ints, limit_m: Floats) -> Floats:
        """Metres of the shortest road from node `source` to node `target`, pairwise; inf
        beyond the pair's `limit_m`. Searches share sources, in groups of similar limits."""
        distance = np.full(len(source), np.inf)
        same = source == target
        distance[same] = 0.0
        todo = np.flatnonzero(~same & (limit_m >= 0))
        # pairs within the table: a pair missing from it is farther than table_m >= its limit
        looked_up = todo[limit_m[todo] <= self.table_m]
        if len(looked_up):
            key = source[looked_up] * self.graph.shape[0] + target[looked_up]
            at = np.minimum(np.searchsorted(self.table_key, key), len(self.table_key) - 1)
            found = self.table_key[at] == key
            distance[looked_up[found]] = self.table_distance_m[at[found]]
            todo = todo[limit_m[todo] > self.table_m]
        if not len(todo):
            distance[distance > limit_m] = np.inf
            return distance
        # limits within a factor 1.5 of each other share one search radius
        group = np.floor(np.log(np.maximum(limit_m[todo], 1.0)) / np.log(1.5)).astype(np.int64)
        for g in np.unique(group):
            pairs = todo[group == g]
            limit = float(limit_m[pairs].max())
            nodes, row = np.unique(source[pairs], return_inverse=True)
            for lo in range(0, len(nodes), _SOURCES_PER_SEARCH):
                batch = (row >= lo) & (row < lo + _SOURCES_PER_SEARCH)
                reached = dijkstra(
                    self.graph, indices=nodes[lo : lo + _SOURCES_PER_SEARCH], limit=limit
                )
                hit = pairs[batch]
                distance[hit] = reached.reshape(-1, self.graph.shape[0])[
                    row[batch] - lo, target[hit]
                ]
        distance[distance > limit_m] = np.inf
        return distance

    def _log_transitions(
        self, cands: _Candidates, a: Ints, b: Ints, elapsed_s: Floats, straight_m: Floats
    ) -> tuple[Floats, Ints]:
        """Log-likelihoods of every move from a candidate of fix a[k] to one of fix b[k], laid
        out step by step, each step a row-major (from, to) block; and each step's offset."""
        net, c = self.network, cands
        n_from = c.start[a + 1] - c.start[a]
        n_to = c.start[b + 1] - c.start[b]
        size = n_from * n_to
        offset = np.concatenate([[0], np.cumsum(size)])
        step = np.repeat(np.arange(len(a)), size)
        within = np.arange(offset[-1]) - offset[step]
        i = c.start[a][step] + within // n_to[step]
        j = c.start[b][step] + within % n_to[step]
        e1, f1, e2, f2 = c.edge[i], c.fraction[i], c.edge[j], c.fraction[j]
        length = net.edge_length_m
        limit_m = elapsed_s[step] * self.max_speed_mps + 2 * self.radius_m
        # along one edge, forward or a little back; else off its head and on at the next tail
        along = np.where(
            (e1 == e2) & ((f1 - f2) * length[e1] <= self.reverse_tolerance_m),
            np.maximum(f2 - f1, 0.0) * length[e1],
            np.inf,
        )
        ends_m = (1 - f1) * length[e1] + f2 * length[e2]
        between = self._road_distances(net.edge_head[e1], net.edge_tail[e2], limit_m - ends_m)
        road_m = np.minimum(along, ends_m + between)
        beta_m = self.beta_m + self.beta_share * straight_m[step]
        log_t = -np.abs(road_m - straight_m[step]) / beta_m
        log_t[~(road_m <= limit_m)] = -np.inf
        return log_t, offset

    # -- matching -----------------------------------------------------------------------------

    def match(self, time_s: Floats, lon: Floats, lat: Floats) -> MatchedPath:
        """Match one unit's track: fixes at `time_s` (seconds, ascending) and WGS-84 `lon`,
        `lat` (degrees)."""
        time_s, lon, lat = (np.asarray(v, dtype=np.float64) for v in (time_s, lon, lat))
        if not len(time_s) == len(lon) == len(lat):
            raise ValueError(
                f"time_s, lon, lat differ in length: {len(time_s)}, {len(lon)}, {len(lat)}."
            )
        if np.any(np.diff(time_s) < 0):
            raise ValueError("time_s must be ascending.")
        x, y = (np.asarray(v, dtype=np.float64) for v in self.snapper.to_xy.transform(lon, lat))
        cands = self._candidates(x, y)
        matched = np.flatnonzero(np.diff(cands.start) > 0)
        chosen = self._viterbi(cands, matched, time_s, x, y)
        n = len(time_s)
        edge = np.full(n, -1, dtype=np.int64)
        fraction = np.full(n, np.nan)
        segment = np.full(n, -1, dtype=np.int64)
        fixes, cand, seg = chosen
        edge[fixes], fraction[fixes], segment[fixes] = cands.edge[cand], cands.fraction[cand], seg
        limit_m = np.diff(time_s[fixes]) * self.max_speed_mps + 2 * self.radius_m
        pieces = self._pieces(edge[fixes], fraction[fixes], seg, limit_m)
        return MatchedPath(edge, fraction, segment, *pieces)

    def _steps(self, matched: Ints, time_s: Floats) -> Iterator[tuple[Ints, Ints]]:
        """Consecutive matched fixes (a, b) in chunks; pairs over `max_gap_s` are left out."""
        a, b = matched[:-1], matched[1:]
        ok = time_s[b] - time_s[a] <= self.max_gap_s
        for lo in range(0, len(a), _STEPS_PER_CHUNK):
            hi = lo + _STEPS_PER_CHUNK
            yield a[lo:hi][ok[lo:hi]], b[lo:hi][ok[lo:hi]]

    def _viterbi(
        self, cands: _Candidates, matched: Ints, time_s: Floats, x: Floats, y: Floats
    ) -> tuple[Ints, Ints, Ints]:
        """The likeliest candidate of each matched fix, and its segment."""
        c = cands
        score = c.log_emission.copy()
        back = np.full(len(c.edge), -1, dtype=np.int64)
        reached = np.zeros(len(time_s), dtype=bool)  # a move from the fix before reaches it
        for a, b in self._steps(matched, time_s):
            straight_m = np.hypot(x[b] - x[a], y[b] - y[a])
            log_t, offset = self._log_transitions(c, a, b, time_s[b] - time_s[a], straight_m)
            for k in range(len(a)):
                sa, ea, sb, eb = c.start[a[k]], c.start[a[k] + 1], c.start[b[k]], c.start[b[k] + 1]
                total = score[sa:ea, np.newaxis] + log_t[offset[k] : offset[k + 1]].reshape(
                    ea - sa, eb - sb
                )
                best = np.argmax(total, axis=0)
                value = total[best, np.arange(eb - sb)]
                if np.isfinite(value).any():
                    score[sb:eb] += value
                    back[sb:eb] = np.where(np.isfinite(value), sa + best, -1)
                    reached[b[k]] = True
        return self._backtrack(c, matched, score, back, reached)

    @staticmethod
    def _backtrack(
        c: _Candidates, matched: Ints, score: Floats, back: Ints, reached: Ints
    ) -> tuple[Ints, Ints, Ints]:
        """Walk back from the best candidate of each segment's last fix."""
        chosen = np.full(len(matched), -1, dtype=np.int64)
        ends = np.ones(len(matched), dtype=bool)
        ends[:-1] = ~reached[matched[1:]]
        for k in range(len(matched) - 1, -1, -1):
            fix = matched[k]
            if ends[k]:
                span = slice(c.start[fix], c.start[fix + 1])
                chosen[k] = span.start + int(np.argmax(score[span]))
            else:
                chosen[k] = back[chosen[k + 1]]
        starts = ~reached[matched]
        segment = np.cumsum(starts) - 1
        return matched, chosen, segment.astype(np.int64)

    # -- the path -----------------------------------------------------------------------------

    def _pieces(
        self, edge: Ints, fraction: Floats, segment: Ints, limit_m: Floats
    ) -> tuple[Ints, Floats, Floats, Ints]:
        """The path driven through consecutive matched positions of each segment; move k-1 -> k
        is at most `limit_m[k - 1]` long."""
        pieces: list[tuple[int, float, float, int]] = []
        routes = self._routes(edge, fraction, segment, limit_m)
        cursor = float(fraction[0]) if len(edge) else 0.0
        for k in range(1, len(edge)):
            e1, e2, f2 = int(edge[k - 1]), int(edge[k]), float(fraction[k])
            if segment[k] != segment[k - 1]:
                cursor = f2
                continue
            seg = int(segment[k])
            route = routes.get(k)
            if route is None:  # along one edge: a move back is the car standing still
                if f2 > cursor:
                    pieces.append((e1, cursor, f2, seg))
                cursor = max(cursor, f2)
                continue
            pieces.append((e1, cursor, 1.0, seg))
            pieces.extend((e, 0.0, 1.0, seg) for e in route)
            pieces.append((e2, 0.0, f2, seg))
            cursor = f2
        return _merged(pieces)

    def _routes(
        self, edge: Ints, fraction: Floats, segment: Ints, limit_m: Floats
    ) -> dict[int, list[int]]:
        """For each move k-1 -> k that leaves its edge, the whole edges driven between."""
        length = self.network.edge_length_m
        e1, e2 = edge[:-1], edge[1:]
        along = (e1 == e2) & (
            (fraction[:-1] - fraction[1:]) * length[e1] <= self.reverse_tolerance_m
        )
        moves = np.flatnonzero((segment[:-1] == segment[1:]) & ~along) + 1
        routes: dict[int, list[int]] = {}
        source, target = (
            self.network.edge_head[edge[moves - 1]],
            self.network.edge_tail[edge[moves]],
        )
        nodes, row = np.unique(source, return_inverse=True)
        for lo in range(0, len(nodes), _SOURCES_PER_SEARCH):
            batch = np.flatnonzero((row >= lo) & (row < lo + _SOURCES_PER_SEARCH))
            _, pred = dijkstra(
                self.graph,
                indices=nodes[lo : lo + _SOURCES_PER_SEARCH],
                return_predecessors=True,
                limit=float(limit_m[moves[batch] - 1].max()),
            )
            pred = pred.reshape(-1, self.graph.shape[0])
            for k in batch:
                routes[int(moves[k])] = self._walk(
                    pred[row[k] - lo], int(source[k]), int(target[k])
                )
        return routes

    def _walk(self, pred: Ints, source: int, target: int) -> list[int]:
        """The edges of the shortest road from node `source` to node `target`."""
        nodes = [target]
        while nodes[-1] != source:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        return [self._edge_between(u, v) for u, v in itertools.pairwise(nodes)]

    def _edge_between(self, u: int, v: int) -> int:
        graph = self.graph
        lo, hi = graph.indptr[u], graph.indptr[u + 1]
        return int(self.edge_of_entry[lo + int(np.searchsorted(graph.indices[lo:hi], v))])


def _bounded_table(graph: csr_matrix, limit_m: float) -> tuple[Ints, Floats]:
    """Every node pair (u, v) with a road from u to v at most `limit_m` long: the sorted keys
    `u * n + v` and the metres of each."""
    n = graph.shape[0]
    keys, distances = [], []
    if limit_m > 0:
        for lo in range(0, n, _SOURCES_PER_SEARCH):
            sources = np.arange(lo, min(lo + _SOURCES_PER_SEARCH, n))
            reached = dijkstra(graph, indices=sources, limit=limit_m).reshape(len(sources), n)
            row, col = np.nonzero(np.isfinite(reached))
            keys.append((sources[row] * n + col).astype(np.int64))
            distances.append(reached[row, col])
    if not keys:
        return np.empty(0, dtype=np.int64), np.empty(0)
    # row-major order over (source, target): the keys come sorted
    return np.concatenate(keys), np.concatenate(distances)


def _merged(pieces: list[tuple[int, float, float, int]]) -> tuple[Ints, Floats, Floats, Ints]:
    """Pieces as arrays, empty ones dropped and each run on one edge joined."""
    kept: list[tuple[int, float, float, int]] = []
    for e, lo, hi, seg in pieces:
        if hi <= lo:
            continue
        if kept and kept[-1][0] == e and kept[-1][3] == seg and kept[-1][2] == lo:
            kept[-1] = (e, kept[-1][1], hi, seg)
        else:
            kept.append((e, lo, hi, seg))
    columns = list(zip(*kept, strict=True)) if kept else [(), (), (), ()]
    return (
        np.array(columns[0], dtype=np.int64),
        np.array(columns[1], dtype=np.float64),
        np.array(columns[2], dtype=np.float64),
        np.array(columns[3], dtype=np.int64),
    )


# -- what the path covers -----------------------------------------------------------------------


def stretch_of(network: RoadNetwork, edge: int, fraction: float = 0.0) -> tuple[int, float]:
    """The stretch of a directed edge (its lower id with its twin) and the fraction on it."""
    twin = int(network.edge_twin[edge])
    if 0 <= twin < edge:
        return twin, 1.0 - fraction
    return edge, fraction


def path_portions(network: RoadNetwork, path: MatchedPath) -> Portions:
    """The portions of road the path drove, keyed by stretch (as `tracking.lines.Portions`)."""
    pieces: dict[int, list[tuple[float, float]]] = {}
    for e, lo, hi in zip(
        path.piece_edge.tolist(), path.piece_from.tolist(), path.piece_to.tolist(), strict=True
    ):
        key, a = stretch_of(network, e, lo)
        _, b = stretch_of(network, e, hi)
        pieces.setdefault(key, []).append((min(a, b), max(a, b)))
    return {key: union_intervals(intervals) for key, intervals in pieces.items()}


def union_intervals(intervals: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Intervals merged where they overlap or touch, sorted."""
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def path_length_m(network: RoadNetwork, path: MatchedPath) -> float:
    """Metres driven along the path (patrol distance), each piece counted as often as driven."""
    length = network.edge_length_m[path.piece_edge]
    return float((length * (path.piece_to - path.piece_from)).sum())
