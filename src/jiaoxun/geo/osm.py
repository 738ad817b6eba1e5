"""Build a `RoadNetwork` from an OpenStreetMap PBF extract.

The drivable ways are cut at every node they share with another drivable way (and at their
ends), so that each edge runs from one intersection or dead end to the next and keeps the
polyline in between. One-way streets (``oneway``, roundabouts, motorways) give one edge, other
roads two. Speeds come from ``maxspeed`` when it is usable, otherwise from a per-class table.
Only the largest strongly connected part is kept: a car must be able to get in and back out.
Turn restrictions via a node (``no_*``, ``only_*``) become banned pairs of edges (`geo.turns`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import platformdirs
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from jiaoxun.errors import DataSourceError
from jiaoxun.geo.network import ROAD_CLASSES, Floats, Ints, RoadNetwork, load_network, save_network
from jiaoxun.geo.turns import Restriction, restrictions_from_pbf, turn_bans

#: Default speed by road class in km/h, for roads without a usable ``maxspeed`` (China, urban).
DEFAULT_SPEEDS_KPH: Mapping[str, float] = {
    "motorway": 100.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 35.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
}

# service roads a police car should not be routed through (as OSMnx's "drive" network)
_EXCLUDED_SERVICE = {"parking", "parking_aisle", "private", "emergency_access", "driveway"}
_NO_ACCESS = {"no", "private"}
_MPH_TO_KPH = 1.609344
_EARTH_RADIUS_M = 6_371_008.8
_MIN_TRAVEL_TIME_S = 0.01


@dataclass(frozen=True)
class _Way:
    osm_id: int
    refs: Ints
    lon: Floats
    lat: Floats
    road_class: int
    speed_kph: float
    direction: int  # 1 forward only, -1 backward only, 0 both ways
    name: str


def parse_maxspeed(value: str | None) -> float | None:
    """Read an OSM ``maxspeed`` value in km/h: "60", "40 mph", "50;60" (the lower); else None."""
    if not value:
        return None
    speeds = []
    for part in value.split(";"):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*", part)
        if match:
            speed = float(match.group(1))
            speeds.append(speed * _MPH_TO_KPH if match.group(2) == "mph" else speed)
    return min(speeds) if speeds and min(speeds) > 0 else None


def _direction(tags: Mapping[str, str], road_class: str) -> int:
    oneway = tags.get("oneway", "")
    if oneway in {"yes", "true", "1"}:
        return 1
    if oneway in {"-1", "reverse"}:
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in {"roundabout", "circular"} or road_class == "motorway":
        return 1
    return 0


def _is_drivable(tags: Mapping[str, str]) -> bool:
    if tags.get("highway") not in ROAD_CLASSES or tags.get("area") == "yes":
        return False
    if tags.get("highway") == "service" and tags.get("service") in _EXCLUDED_SERVICE:
        return False
    return tags.get("access") not in _NO_ACCESS and tags.get("motor_vehicle") not in _NO_ACCESS


def _read_ways(path: Path, speeds_kph: Mapping[str, float]) -> list[_Way]:
    ways = []
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = {tag.k: tag.v for tag in obj.tags}
        if not _is_drivable(tags):
            continue
        nodes = [n for n in obj.nodes if n.location.valid()]
        if len(nodes) < 2:
            continue
        road_class = tags["highway"]
        speed = parse_maxspeed(tags.get("maxspeed")) or speeds_kph[road_class]
        ways.append(
            _Way(
                osm_id=obj.id,
                refs=np.array([n.ref for n in nodes], dtype=np.int64),
                lon=np.array([n.lon for n in nodes]),
                lat=np.array([n.lat for n in nodes]),
                road_class=ROAD_CLASSES.index(road_class),
                speed_kph=float(speed),
                direction=_direction(tags, road_class),
                name=tags.get("name", ""),
            )
        )
    return ways


def haversine_m(lon1: Floats, lat1: Floats, lon2: Floats, lat2: Floats) -> Floats:
    """Great-circle distance in metres between WGS-84 points (degrees), elementwise."""
    lon1, lat1, lon2, lat2 = (np.radians(a) for a in (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(a)), dtype=np.float64)


def _split_points(ways: list[_Way]) -> set[int]:
    """OSM node ids where edges start and end: shared nodes, way ends, repeated nodes."""
    all_refs = np.concatenate([w.refs for w in ways])
    refs, counts = np.unique(all_refs, return_counts=True)
    split = set(refs[counts > 1].tolist())
    for way in ways:
        split.add(int(way.refs[0]))
        split.add(int(way.refs[-1]))
    return split


class _EdgeBuilder:
    """Collects directed edges and their polylines as plain lists, then freezes them."""

    def __init__(self) -> None:
        self.node_of_ref: dict[int, int] = {}
        self.node_lon: list[float] = []
        self.node_lat: list[float] = []
        self.cols: dict[str, list[float | int]] = {
            k: [] for k in ("tail", "head", "length", "speed", "cls", "name", "twin", "way")
        }
        self.geoms: list[tuple[Floats, Floats]] = []
        self.names: dict[str, int] = {}

    def node(self, ref: int, lon: float, lat: float) -> int:
        if ref not in self.node_of_ref:
            self.node_of_ref[ref] = len(self.node_lon)
            self.node_lon.append(lon)
            self.node_lat.append(lat)
        return self.node_of_ref[ref]

    def add_stretch(self, way: _Way, lo: int, hi: int) -> None:
        lon, lat = way.lon[lo : hi + 1], way.lat[lo : hi + 1]
        if way.refs[lo] == way.refs[hi]:
            return  # a loop closing on itself: no use for routing
        tail = self.node(int(way.refs[lo]), float(lon[0]), float(lat[0]))
        head = self.node(int(way.refs[hi]), float(lon[-1]), float(lat[-1]))
        length = float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())
        name = self.names.setdefault(way.name, len(self.names)) if way.name else -1
        first = len(self.geoms)
        directed = [(tail, head, lon, lat)] if way.direction >= 0 else []
        if way.direction <= 0:
            directed.append((head, tail, lon[::-1], lat[::-1]))
        for i, (u, v, glon, glat) in enumerate(directed):
            twin = first + 1 - i if len(directed) == 2 else -1
            for key, value in zip(
                ("tail", "head", "length", "speed", "cls", "name", "twin", "way"),
                (u, v, length, way.speed_kph, way.road_class, name, twin, way.osm_id),
                strict=True,
            ):
                self.cols[key].append(value)
            self.geoms.append((glon, glat))


def _largest_strong_component(network: RoadNetwork) -> RoadNetwork:
    n = network.n_nodes
    adjacency = csr_matrix(
        (np.ones(network.n_edges), (network.edge_tail, network.edge_head)), shape=(n, n)
    )
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    keep_node = labels == np.bincount(labels).argmax()
    keep_edge = keep_node[network.edge_tail] & keep_node[network.edge_head]
    if not keep_edge.any():
        raise DataSourceError(
            "the extract has no drivable roads a car can both enter and leave"
            " (only one-way streets that form no loop)"
        )
    new_node = np.cumsum(keep_node) - 1
    new_edge = np.cumsum(keep_edge) - 1
    bans = network.turn_ban[keep_edge[network.turn_ban].all(axis=1)]
    old_twin = network.edge_twin[keep_edge]
    twin_kept = (old_twin >= 0) & keep_edge[np.maximum(old_twin, 0)]
    starts, ends = network.geom_start[:-1][keep_edge], network.geom_start[1:][keep_edge]
    point_idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    return RoadNetwork(
        node_lon=network.node_lon[keep_node],
        node_lat=network.node_lat[keep_node],
        edge_tail=new_node[network.edge_tail[keep_edge]],
        edge_head=new_node[network.edge_head[keep_edge]],
        edge_length_m=network.edge_length_m[keep_edge],
        edge_speed_kph=network.edge_speed_kph[keep_edge],
        edge_travel_time_s=network.edge_travel_time_s[keep_edge],
        edge_road_class=network.edge_road_class[keep_edge],
        edge_name=network.edge_name[keep_edge],
        edge_twin=np.where(twin_kept, new_edge[np.maximum(old_twin, 0)], -1),
        edge_osm_way=network.edge_osm_way[keep_edge],
        geom_start=np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64),
        geom_lon=network.geom_lon[point_idx],
        geom_lat=network.geom_lat[point_idx],
        names=network.names,
        turn_ban=new_edge[bans],
    )


def build_network(ways: Iterable[_Way], restrictions: Iterable[Restriction] = ()) -> RoadNetwork:
    """Cut ways at shared nodes into directed edges, ban the turns `restrictions` ban, and
    keep the largest strong component."""
    ways = list(ways)
    if not ways:
        raise DataSourceError("the extract has no drivable roads (no highway way a car may use)")
    split = _split_points(ways)
    builder = _EdgeBuilder()
    for way in ways:
        cuts = [i for i, ref in enumerate(way.refs.tolist()) if ref in split]
        for lo, hi in itertools.pairwise(cuts):
            builder.add_stretch(way, lo, hi)
    if not builder.geoms:
        raise DataSourceError("the extract has no drivable roads (no usable road stretch)")
    c = builder.cols
    length = np.array(c["length"], dtype=np.float64)
    speed = np.array(c["speed"], dtype=np.float64)
    sizes = [len(g[0]) for g in builder.geoms]
    tail, head = np.array(c["tail"], dtype=np.int64), np.array(c["head"], dtype=np.int64)
    osm_way = np.array(c["way"], dtype=np.int64)
    network = RoadNetwork(
        node_lon=np.array(builder.node_lon),
        node_lat=np.array(builder.node_lat),
        edge_tail=tail,
        edge_head=head,
        edge_length_m=length,
        edge_speed_kph=speed,
        edge_travel_time_s=np.maximum(length / (speed / 3.6), _MIN_TRAVEL_TIME_S),
        edge_road_class=np.array(c["cls"], dtype=np.int64),
        edge_name=np.array(c["name"], dtype=np.int64),
        edge_twin=np.array(c["twin"], dtype=np.int64),
        edge_osm_way=osm_way,
        geom_start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        geom_lon=np.concatenate([g[0] for g in builder.geoms]),
        geom_lat=np.concatenate([g[1] for g in builder.geoms]),
        names=tuple(builder.names),
        turn_ban=turn_bans(
            restrictions,
            node_of_ref=builder.node_of_ref,
            edge_tail=tail,
            edge_head=head,
            edge_way=osm_way,
        ),
    )
    return _largest_strong_component(network)


def _cache_key(path: Path, speeds_kph: Mapping[str, float]) -> str:
    stat = path.stat()
    blob = json.dumps([stat.st_size, stat.st_mtime_ns, sorted(speeds_kph.items())])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_path_for(path: Path, cache_dir: Path | None) -> Path:
    """Where the network cache of the extract `path` goes (see `network_from_pbf`): in
    `cache_dir`, by default the user's cache folder; never beside the extract, which may lie in
    an installed package or a read-only folder."""
    if cache_dir is None:
        cache_dir = Path(platformdirs.user_cache_dir("jiaoxun"))
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return cache_dir / f"{digest}-{path.name}.jiaoxun-cache.npz"


def _check_pbf(path: Path) -> None:
    if not path.is_file():
        raise DataSourceError(f"OpenStreetMap file {path} does not exist")
    with path.open("rb") as src:
        head = src.read(16)
    # a PBF starts with a 4-byte header length and the blob type "OSMHeader"
    if b"OSMHeader" not in head:
        raise DataSourceError(f"{path} is not an OpenStreetMap PBF file (no OSMHeader block)")


def network_from_pbf(
    path: str | os.PathLike[str],
    *,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    cache_dir: Path | None = None,
) -> RoadNetwork:
    """Read the drivable road network of an OpenStreetMap PBF extract.

    Parameters
    ----------
    path : the ``.osm.pbf`` file.
    speeds_kph : speed by road class in km/h for roads without ``maxspeed``; merged over
        `DEFAULT_SPEEDS_KPH`.
    cache : keep the compact arrays on disk and reuse them while the file and speeds are unchanged.
    cache_dir : where the cache goes; by default the user's cache folder.
    """
    path = Path(path)
    _check_pbf(path)
    table = {**DEFAULT_SPEEDS_KPH, **(speeds_kph or {})}
    for road_class, speed in table.items():
        if not speed > 0:
            raise DataSourceError(f"speed for {road_class} must be > 0 km/h, got {speed}")
    key = _cache_key(path, table)
    cache_file = cache_path_for(path, cache_dir)
    if cache and (cached := load_network(cache_file, key=key)) is not None:
        return cached
    try:
        ways = _read_ways(path, table)
        restrictions = restrictions_from_pbf(path)
    except RuntimeError as exc:
        raise DataSourceError(f"{path} could not be read as OpenStreetMap PBF: {exc}") from exc
    network = build_network(ways, restrictions)
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        save_network(network, cache_file, key=key)
    return network
