"""Patrol duty on the mandatory lines: the roads driven, and how much of each line.

A mandatory line (必巡线) is a list of directed road edges; both directions of a two-way road
count as the same stretch. Coverage is the share of the line's length actually driven. Driven
portions are intervals of edge fractions, keyed by the stretch's lower edge id (the one
`Snapper` snaps to); a unit's duty finds them from its map-matched path (`geo.matching`).
`driven_portions` finds them from raw road-snapped fixes, as the report did before: consecutive
fixes on one stretch cover the part between them, on stretches that meet at a node the rest of
the first and the start of the second, and fixes farther apart nothing between them.

A road running alongside a line within a few metres (the other carriageway, a side road, an
elevated road, a tunnel) counts for it (`alongside`): no GPS tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.matching import stretch_of, union_intervals
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.snap import Snapper

#: Driven portions: stretch (lower edge id of a two-way road) -> sorted disjoint fraction intervals.
Portions = Mapping[int, tuple[tuple[float, float], ...]]


@dataclass(frozen=True)
class MandatoryLine:
    """A mandatory patrol line (必巡线): directed network edges in driving order."""

    id: int
    edges: tuple[int, ...]
    zone: str = ""
    passes_per_shift: int = 1
    #: local daily windows ("07:00", "08:00") within which it must be driven; none: any time
    windows: tuple[tuple[str, str], ...] = ()


def _between(
    network: RoadNetwork, a: tuple[int, float], b: tuple[int, float]
) -> list[tuple[int, float, float]]:
    """The pieces driven from stretch position `a` to `b`: nothing if they do not meet."""
    (ea, fa), (eb, fb) = a, b
    if ea == eb:
        return [(ea, min(fa, fb), max(fa, fb))]
    length = network.edge_length_m
    ends_b = {int(network.edge_tail[eb]): 0.0, int(network.edge_head[eb]): 1.0}
    best: tuple[float, float, float] | None = None
    for node, end_a in ((int(network.edge_tail[ea]), 0.0), (int(network.edge_head[ea]), 1.0)):
        if node in ends_b:
            end_b = ends_b[node]
            cost = abs(end_a - fa) * length[ea] + abs(end_b - fb) * length[eb]
            if best is None or cost < best[0]:
                best = (cost, end_a, end_b)
    if best is None:
        return []
    _, end_a, end_b = best
    return [(ea, min(fa, end_a), max(fa, end_a)), (eb, min(fb, end_b), max(fb, end_b))]


def driven_portions(
    network: RoadNetwork,
    track: Iterable[tuple[int, float, datetime]],
    *,
    max_gap_s: float = 300.0,
) -> Portions:
    """The portions of road driven along a snapped track of (edge, fraction, time), time order.

    A fix off the road (edge -1) or a gap over `max_gap_s` seconds breaks the track.
    """
    pieces: dict[int, list[tuple[float, float]]] = {}
    prev: tuple[int, float, datetime] | None = None
    for edge, fraction, at in track:
        if edge < 0:
            prev = None
            continue
        here = (*stretch_of(network, edge, fraction), at)
        if prev is not None and (at - prev[2]).total_seconds() <= max_gap_s:
            for e, lo, hi in _between(network, prev[:2], here[:2]):
                pieces.setdefault(e, []).append((lo, hi))
        prev = here
    return {e: union_intervals(v) for e, v in pieces.items()}


def merge_portions(*portions: Portions) -> Portions:
    """The union of the portions driven by several tracks (the cars of a zone)."""
    pieces: dict[int, list[tuple[float, float]]] = {}
    for p in portions:
        for edge, intervals in p.items():
            pieces.setdefault(edge, []).extend(intervals)
    return {e: union_intervals(v) for e, v in pieces.items()}


def add_portions(into: dict[int, tuple[tuple[float, float], ...]], more: Portions) -> None:
    """Add `more` to `into`, in place: only the stretches of `more` are touched (a shift's
    roads grow a few stretches at a time)."""
    for edge, intervals in more.items():
        have = into.get(edge)
        into[edge] = union_intervals([*have, *intervals]) if have else tuple(intervals)


def driven_fractions(portions: Portions) -> dict[int, float]:
    """The fraction of each stretch driven."""
    return {e: float(sum(hi - lo for lo, hi in v)) for e, v in portions.items()}


def line_length_m(network: RoadNetwork, line_edges: Iterable[int]) -> float:
    """The length of a line in metres, a stretch listed in both directions counted once."""
    stretches = sorted({stretch_of(network, e)[0] for e in line_edges})
    return float(network.edge_length_m[stretches].sum())


#: for a stretch of a mandatory line, the stretches that run alongside it: (stretch, metres)
Alongside = Mapping[int, tuple[tuple[int, float], ...]]


def alongside(
    network: RoadNetwork,
    lines: Iterable[MandatoryLine],
    snapper: Snapper,
    *,
    within_m: float = 25.0,
    min_length_m: float = 40.0,
) -> dict[int, tuple[tuple[int, float], ...]]:
    """The road stretches that run alongside each stretch of the lines, within `within_m`.

    A dual carriageway's other half, a side road (辅路), an elevated road over the ground road
    or a tunnel under it are the same street to a patrol, and no GPS tells them apart. A
    stretch runs alongside when all of it lies within `within_m` of the line's stretch, it is
    at least `min_length_m` long (a cross street's stub is not), and it runs the same way or
    the opposite way (within 30°).
    """
    index = {int(e): i for i, e in enumerate(snapper.line_edge)}
    found: dict[int, tuple[tuple[int, float], ...]] = {}
    for key in sorted({stretch_of(network, e)[0] for line in lines for e in line.edges}):
        if key not in index:
            continue
        own = snapper.lines[index[key]]
        near = snapper.tree.query(own.buffer(within_m))
        beside = []
        for j in near.tolist():
            other_key = int(snapper.line_edge[j])
            other = snapper.lines[j]
            if other_key == key or other.length < min_length_m:
                continue
            probe = shapely.get_coordinates(shapely.segmentize(other, 10.0))
            if shapely.distance(shapely.points(probe), own).max() > within_m:
                continue
            if _parallel(own, other):
                beside.append((other_key, float(network.edge_length_m[other_key])))
        if beside:
            found[key] = tuple(beside)
    return found


def _parallel(own: shapely.LineString, other: shapely.LineString) -> bool:
    """Whether `other` runs along `own` one way or the other (within 30°) where it lies."""
    a, b = (shapely.get_coordinates(other)[i] for i in (0, -1))
    at = [own.project(shapely.Point(*p)) for p in (a, b)]
    if abs(at[1] - at[0]) < 1e-6:
        return False
    c, d = (np.array(own.interpolate(x).coords[0]) for x in at)
    u, v = b - a, d - c
    return bool(abs(u @ v) >= np.cos(np.radians(30)) * np.hypot(*u) * np.hypot(*v))


def line_coverage(
    network: RoadNetwork,
    line_edges: Sequence[int],
    driven: AbstractSet[int] | Mapping[int, float],
    *,
    beside: Alongside | None = None,
) -> float:
    """The share of a line's length driven, in [0, 1].

    Parameters
    ----------
    network : the road network (edge lengths in metres).
    line_edges : the line's directed edges; a stretch listed in both directions counts once.
    driven : edges driven whole (a set), or the fraction of each edge driven (a mapping, as
        from `driven_fractions`); either direction of a two-way road stands for the stretch.
    beside : the stretches alongside those of the line (`alongside`): their metres driven
        count for the line's stretch, up to its length.
    """
    if not line_edges:
        raise InvalidInput("a patrol line needs at least one edge, got 0")
    fraction_of = driven if isinstance(driven, Mapping) else dict.fromkeys(driven, 1.0)

    def share(key: int) -> float:
        """The stretch's fraction driven, found under either of its edges."""
        twin = int(network.edge_twin[key])
        found = max(fraction_of.get(key, 0.0), fraction_of.get(twin, 0.0) if twin >= 0 else 0.0)
        return min(max(found, 0.0), 1.0)

    stretches = sorted({stretch_of(network, e)[0] for e in line_edges})
    lengths = network.edge_length_m[stretches]
    shares = np.array([share(s) for s in stretches])
    if beside:
        next_to = [
            sum(share(k) * m for k, m in beside.get(s, ())) / max(length, 1e-9)
            for s, length in zip(stretches, lengths.tolist(), strict=True)
        ]
        shares = np.maximum(shares, np.minimum(next_to, 1.0))
    total_m = float(lengths.sum())
    if total_m <= 0:
        return float(shares.mean())
    return float((lengths * shares).sum() / total_m)
