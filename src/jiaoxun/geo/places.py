"""Named places of an OpenStreetMap extract: schools, hospitals, squares, stations, banks…

Kiosks stand at real places (a hospital, a square, a large building) and mandatory patrol points
are real schools, hospitals, squares, stations, banks and markets; this module finds them. A place
mapped as an area is reduced to the centroid of its outline, with the outline's area.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium

from jiaoxun.errors import DataSourceError

# (key, value) -> kind; the first match in this order wins
_KINDS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("amenity", frozenset({"hospital"}), "hospital"),
    ("healthcare", frozenset({"hospital"}), "hospital"),
    ("amenity", frozenset({"school", "university", "college", "kindergarten"}), "school"),
    ("place", frozenset({"square"}), "square"),
    ("railway", frozenset({"station"}), "station"),
    ("amenity", frozenset({"bus_station"}), "station"),
    ("public_transport", frozenset({"station"}), "station"),
    ("amenity", frozenset({"bank"}), "bank"),
    ("amenity", frozenset({"marketplace"}), "market"),
    ("shop", frozenset({"mall", "department_store", "supermarket"}), "market"),
    ("amenity", frozenset({"townhall", "courthouse", "police", "fire_station"}), "key_site"),
    ("office", frozenset({"government"}), "key_site"),
)
_BUILDING = "building"
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Place:
    """A named place: `kind` is one of school, hospital, square, station, bank, market, key_site
    or building (a named building of at least `min_building_m2`)."""

    osm_ref: str  # "node/123" or "way/456"
    name: str
    kind: str
    lon: float
    lat: float
    area_m2: float


def place_kind(tags: Mapping[str, str]) -> str | None:
    """The kind of place an OSM object is, from its tags; None when it is none of ours."""
    for key, values, kind in _KINDS:
        if tags.get(key) in values:
            return kind
    if "广场" in tags.get("name", "") and tags.get("highway") in {"pedestrian", None}:
        return "square"
    return _BUILDING if "building" in tags else None


def _outline(way: osmium.osm.Way) -> tuple[float, float, float]:
    """Centroid (lon, lat) and area in m² of a way's outline (0 when not closed)."""
    pts = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    if len(pts) < 4 or pts[0] != pts[-1]:
        return float(lon.mean()), float(lat.mean()), 0.0
    # shoelace in a local equirectangular frame (metres)
    x = np.radians(lon - lon[0]) * _EARTH_RADIUS_M * np.cos(np.radians(lat[0]))
    y = np.radians(lat - lat[0]) * _EARTH_RADIUS_M
    area = 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))
    return float(lon[:-1].mean()), float(lat[:-1].mean()), area


def places_from_pbf(
    path: str | os.PathLike[str], *, min_building_m2: float = 3000.0
) -> list[Place]:
    """Every named place of our kinds in an OpenStreetMap PBF extract, in file order."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"OpenStreetMap file {path} does not exist")
    places = []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("name"))
    )
    for obj in processor:
        tags = {tag.k: tag.v for tag in obj.tags}
        kind = place_kind(tags)
        if kind is None:
            continue
        if isinstance(obj, osmium.osm.Node):
            ref, (lon, lat, area) = f"node/{obj.id}", (obj.location.lon, obj.location.lat, 0.0)
        elif isinstance(obj, osmium.osm.Way) and any(n.location.valid() for n in obj.nodes):
            ref, (lon, lat, area) = f"way/{obj.id}", _outline(obj)
        else:
            continue
        if kind == _BUILDING and area < min_building_m2:
            continue
        places.append(Place(ref, tags["name"], kind, lon, lat, area))
    return places
