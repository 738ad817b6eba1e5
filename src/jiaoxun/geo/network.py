"""The road network: a directed drivable graph held in compact arrays.

A `RoadNetwork` is what a police car can drive on, the way a timetable is what a train can run on:
nodes are intersections and dead ends (WGS-84 longitude/latitude), edges are directed road
stretches between them with a length in metres, a speed in km/h, a travel time in seconds and the
polyline they follow. Two-way roads are two edges that share one geometry, each other's `twin`.
Everything is a NumPy array, so a network saves to and loads from one `.npz` file in milliseconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

#: Road classes in the order of `RoadNetwork.edge_road_class` codes.
ROAD_CLASSES = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
)

CACHE_FORMAT = 2


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed drivable road graph; see the module docstring.

    Attributes
    ----------
    node_lon, node_lat : WGS-84 degrees of each node.
    edge_tail, edge_head : node index where each edge starts and ends.
    edge_length_m, edge_speed_kph, edge_travel_time_s : per edge.
    edge_road_class : index into `ROAD_CLASSES`.
    edge_name : index into `names`, or -1 for an unnamed road.
    edge_twin : the edge running the other way along the same geometry, or -1 (one-way).
    edge_osm_way : the OpenStreetMap way the edge comes from.
    geom_start : edge `e` follows points `geom_start[e]:geom_start[e + 1]` of `geom_lon/geom_lat`.
    turn_ban : (k, 2) pairs (from edge, to edge) of turns a restriction bans (`geo.turns`).
    """

    node_lon: Floats
    node_lat: Floats
    edge_tail: Ints
    edge_head: Ints
    edge_length_m: Floats
    edge_speed_kph: Floats
    edge_travel_time_s: Floats
    edge_road_class: Ints
    edge_name: Ints
    edge_twin: Ints
    edge_osm_way: Ints
    geom_start: Ints
    geom_lon: Floats
    geom_lat: Floats
    names: tuple[str, ...]
    turn_ban: Ints = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))

    @property
    def n_nodes(self) -> int:
        return len(self.node_lon)

    @property
    def n_edges(self) -> int:
        return len(self.edge_tail)

    @property
    def stretch_mask(self) -> NDArray[np.bool_]:
        """True for one edge of each road stretch: a one-way edge, or the first of two twins."""
        return np.asarray((self.edge_twin < 0) | (np.arange(self.n_edges) < self.edge_twin))

    @property
    def road_km(self) -> float:
        """Length of road in km, counting a two-way road once."""
        return float(self.edge_length_m[self.stretch_mask].sum() / 1000.0)

    def edge_coords(self, edge: int) -> Floats:
        """The polyline of one edge as an (n, 2) array of longitude, latitude."""
        lo, hi = self.geom_start[edge], self.geom_start[edge + 1]
        return np.column_stack([self.geom_lon[lo:hi], self.geom_lat[lo:hi]])

    def piece_coords(self, edge: int, lo: float, hi: float) -> Floats:
        """The polyline of `edge` between fractions `lo` and `hi` of its length, (n, 2)."""
        coords = self.edge_coords(edge)
        seg = np.hypot(*np.diff(coords * [np.cos(np.radians(coords[0, 1])), 1.0], axis=0).T)
        at = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-12)
        inner = coords[(at > lo) & (at < hi)]
        ends = [np.interp(f, at, coords[:, i]) for f in (lo, hi) for i in (0, 1)]
        return np.vstack([[ends[0], ends[1]], inner, [ends[2], ends[3]]])

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return (
            float(self.node_lon.min()),
            float(self.node_lat.min()),
            float(self.node_lon.max()),
            float(self.node_lat.max()),
        )


def save_network(network: RoadNetwork, path: Path, *, key: str) -> None:
    """Write `network` to `path` (.npz) tagged with a cache `key`."""
    arrays: dict[str, Any] = {
        f.name: getattr(network, f.name) for f in dataclasses.fields(network) if f.name != "names"
    }
    arrays["names"] = np.array(network.names, dtype=np.str_)
    arrays["cache_key"] = np.array(key)
    arrays["cache_format"] = np.array(CACHE_FORMAT)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        np.savez(out, **arrays)
    tmp.replace(path)


def load_network(path: Path, *, key: str | None = None) -> RoadNetwork | None:
    """Read a network saved by `save_network`; None when absent, stale, damaged or of another
    format (a cache is only ever rebuilt, never trusted)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["cache_format"]) != CACHE_FORMAT:
                return None
            if key is not None and str(data["cache_key"]) != key:
                return None
            fields = {
                f.name: data[f.name] for f in dataclasses.fields(RoadNetwork) if f.name != "names"
            }
            names = tuple(str(n) for n in data["names"])
    except (OSError, KeyError, ValueError, EOFError):
        return None
    return RoadNetwork(**fields, names=names)
