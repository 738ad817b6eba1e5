"""A gazetteer: find streets, crossings and places by name, the way a dispatcher types them.

A 110 caller says "红军街和西大直街路口" or "医大一院", not coordinates. The gazetteer is the index
at the back of a city atlas: every named road of the network with a point on it, every named
place of the extract, and, when the text names two streets ("红军街与西大直街", "A & B"), every
node where the two meet. Matching is case-insensitive on substrings; an exact name ranks before
a prefix, a prefix before a substring, and then a shorter name before a longer one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jiaoxun.geo.network import Floats, RoadNetwork
from jiaoxun.geo.places import Place

STREET = "street"
INTERSECTION = "intersection"
#: what separates the two street names of a crossing: whitespace, 与, 和, &, /, commas, 、
SEPARATOR = re.compile(r"\s*[与和&/,，、]\s*|\s+")
_EXACT, _PREFIX, _SUBSTRING = 0, 1, 2


@dataclass(frozen=True)
class Entry:
    """A name on the map and a WGS-84 point for it (degrees); `kind` is "street",
    "intersection" or a kind of `jiaoxun.geo.places.Place` (school, hospital, …)."""

    name: str
    kind: str
    lon: float
    lat: float


def _quality(key: str, name: str) -> int | None:
    """How well `key` matches a case-folded `name`: exact, prefix, substring, or None."""
    if name == key:
        return _EXACT
    if name.startswith(key):
        return _PREFIX
    return _SUBSTRING if key in name else None


def _middle(coords: Floats) -> tuple[float, float, float]:
    """The point halfway along a polyline of (lon, lat) and its length in local degrees."""
    scaled = coords * [np.cos(np.radians(coords[0, 1])), 1.0]
    seg = np.hypot(*np.diff(scaled, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    half = along[-1] / 2
    lon = float(np.interp(half, along, coords[:, 0]))
    lat = float(np.interp(half, along, coords[:, 1]))
    return lon, lat, float(along[-1])


def _street_points(network: RoadNetwork) -> dict[int, tuple[float, float]]:
    """For each street name, the point on it nearest the street's length-weighted centre:
    one of its stretch middles or its nodes, so the point always lies on the road."""
    stretches: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    nodes: dict[int, set[int]] = defaultdict(set)
    for edge in np.flatnonzero(network.stretch_mask & (network.edge_name >= 0)):
        name = int(network.edge_name[edge])
        stretches[name].append(_middle(network.edge_coords(int(edge))))
        nodes[name].update((int(network.edge_tail[edge]), int(network.edge_head[edge])))
    points = {}
    for name, middles in stretches.items():
        mid = np.array(middles)
        weight = np.maximum(mid[:, 2], 1e-12)
        centre = (mid[:, :2] * weight[:, np.newaxis]).sum(axis=0) / weight.sum()
        ends = sorted(nodes[name])
        candidates = np.vstack(
            [mid[:, :2], np.column_stack([network.node_lon[ends], network.node_lat[ends]])]
        )
        scale = [np.cos(np.radians(centre[1])), 1.0]
        best = int(np.argmin(np.hypot(*((candidates - centre) * scale).T)))
        points[name] = (float(candidates[best, 0]), float(candidates[best, 1]))
    return points


class Gazetteer:
    """Streets, crossings and places of one city, searchable by name (see the module docstring).

    Build it with `Gazetteer.from_network`; `search` answers from memory.
    """

    def __init__(
        self,
        *,
        streets: Sequence[Entry],
        places: Sequence[Entry],
        street_nodes: Sequence[frozenset[int]],
        node_streets: dict[int, frozenset[int]],
        node_lon: Floats,
        node_lat: Floats,
    ) -> None:
        self.streets = tuple(streets)
        self.places = tuple(places)
        self._street_keys = [s.name.casefold() for s in self.streets]
        self._place_keys = [p.name.casefold() for p in self.places]
        self._street_nodes = tuple(street_nodes)
        self._node_streets = node_streets
        self._node_lon, self._node_lat = node_lon, node_lat

    @classmethod
    def from_network(cls, network: RoadNetwork, places: Sequence[Place]) -> Gazetteer:
        """The named roads of `network` (one entry per name) and the named `places`."""
        points = _street_points(network)
        by_name = {i: n for i, n in enumerate(network.names) if i in points}
        index = {name: k for k, name in enumerate(by_name)}  # network name -> street number
        node_streets: dict[int, set[int]] = defaultdict(set)
        street_nodes: list[set[int]] = [set() for _ in index]
        named = np.flatnonzero(network.edge_name >= 0)
        for edge in named:
            street = index.get(int(network.edge_name[edge]))
            if street is None:
                continue
            for node in (int(network.edge_tail[edge]), int(network.edge_head[edge])):
                node_streets[node].add(street)
                street_nodes[street].add(node)
        return cls(
            streets=[Entry(by_name[i], STREET, *points[i]) for i in index],
            places=[Entry(p.name, p.kind, p.lon, p.lat) for p in places if p.name.strip()],
            street_nodes=[frozenset(s) for s in street_nodes],
            node_streets={n: frozenset(s) for n, s in node_streets.items()},
            node_lon=network.node_lon,
            node_lat=network.node_lat,
        )

    def search(self, q: str, *, limit: int = 10) -> list[Entry]:
        """Entries whose name holds `q` (case-insensitive), best first; crossings when `q`
        names two streets. At most `limit` entries."""
        if limit < 1:
            raise ValueError(f"limit(={limit}) must be >= 1.")
        key = q.strip().casefold()
        if not key:
            return []
        ranked: dict[Entry, tuple[int, int]] = {}
        for entries, keys in ((self.streets, self._street_keys), (self.places, self._place_keys)):
            for entry, name in zip(entries, keys, strict=True):
                quality = _quality(key, name)
                if quality is not None:
                    ranked.setdefault(entry, (quality, len(entry.name)))
        for first, second in _splits(key):
            for entry, quality in self._crossings(first, second):
                ranked.setdefault(entry, (quality, len(entry.name)))
        order = sorted(
            ranked, key=lambda e: (*ranked[e], e.kind != STREET, e.kind, e.name, e.lon, e.lat)
        )
        return order[:limit]

    def _matching_streets(self, key: str) -> dict[int, int]:
        found = {}
        for street, name in enumerate(self._street_keys):
            quality = _quality(key, name)
            if quality is not None:
                found[street] = quality
        return found

    def _crossings(self, first: str, second: str) -> list[tuple[Entry, int]]:
        """Every node where a street matching `first` meets another matching `second`, with
        the worse of the two match qualities."""
        a_streets, b_streets = self._matching_streets(first), self._matching_streets(second)
        if not a_streets or not b_streets:
            return []
        found = []
        for a, a_quality in a_streets.items():
            for node in sorted(self._street_nodes[a]):
                for b in self._node_streets[node]:
                    if b == a or b not in b_streets:
                        continue
                    name = f"{self.streets[a].name}与{self.streets[b].name}"
                    lon, lat = float(self._node_lon[node]), float(self._node_lat[node])
                    entry = Entry(name, INTERSECTION, lon, lat)
                    found.append((entry, max(a_quality, b_streets[b])))
        return found


def _splits(key: str) -> list[tuple[str, str]]:
    """Every way to read `key` as two street names around one separator."""
    pairs = []
    for sep in SEPARATOR.finditer(key):
        first = key[: sep.start()].strip()
        second = key[sep.end() :].strip()
        if first and second:
            pairs.append((first, second))
    return pairs
