"""What goes in and out of the city domain: kiosk files, GeoJSON layers, the city summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, ValidationError

from jiaoxun.city.generate import KioskSite
from jiaoxun.city.models import PlaceKind
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.coords import Datum, to_wgs84
from jiaoxun.inputs import Input

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Position = tuple[Lon, Lat]


class CityInfo(BaseModel):
    """`jiaoxun city info --json`."""

    name: str
    source_pbf: str
    kiosks: int
    zones: int
    units: int
    patrol_lines: int
    patrol_points: int
    road_nodes: int
    road_edges: int
    road_km: float


class KioskIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    lon: Lon
    lat: Lat
    datum: Datum = Datum.WGS84


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "value"
    return f"{where}: {err['msg']} (got {err.get('input')!r})"


def _kiosk_rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return [dict(row) for row in csv.DictReader(text.splitlines())]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"kiosks file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput(f"kiosks file {path} must be a GeoJSON FeatureCollection")
    rows = []
    for i, feature in enumerate(data.get("features") or []):
        geometry = (feature or {}).get("geometry") or {}
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise InvalidInput(
                f"kiosk {i + 1}: geometry must be a Point [lon, lat], got {geometry}"
            )
        props = feature.get("properties") or {}
        rows.append({**props, "lon": coords[0], "lat": coords[1]})
    return rows


def read_kiosks(path: Path) -> list[KioskSite]:
    """Kiosks from a GeoJSON FeatureCollection of named Points or a CSV (name, lon, lat[, datum]).

    Coordinates tagged with a datum (gcj02, bd09) are converted to WGS-84.
    """
    if not path.is_file():
        raise InvalidInput(f"kiosks file {path} does not exist")
    sites = []
    for i, row in enumerate(_kiosk_rows(path)):
        try:
            kiosk = KioskIn.model_validate({k: v for k, v in row.items() if v not in ("", None)})
        except ValidationError as exc:
            raise InvalidInput(f"kiosk {i + 1} in {path.name}: {_problem(exc)}") from exc
        lon, lat = to_wgs84(kiosk.lon, kiosk.lat, kiosk.datum)
        sites.append(KioskSite(name=kiosk.name, lon=float(lon), lat=float(lat)))
    if not sites:
        raise InvalidInput(f"kiosks file {path} must list at least 1 kiosk, it lists 0")
    return sites


# -- GeoJSON layers ---------------------------------------------------------------------------


class Geometry(BaseModel):
    type: Literal["Point", "LineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class KioskProps(BaseModel):
    layer: Literal["kiosk"]
    name: str
    zone: str
    landmark: str = ""


class ZoneProps(BaseModel):
    layer: Literal["zone"]
    code: str
    name: str
    road_length_m: Annotated[float, Field(ge=0)]
    area_m2: Annotated[float, Field(ge=0)]
    max_travel_time_s: Annotated[float, Field(ge=0)]
    mean_travel_time_s: Annotated[float, Field(ge=0)]
    units: list[str] = []


#: a daily duty window of local times of day, ["07:00", "08:00"]
Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Window = tuple[Clock, Clock]


class PatrolLineProps(BaseModel):
    layer: Literal["patrol_line"]
    name: str
    zone: str
    length_m: Annotated[float, Field(gt=0)]
    edges: list[int]
    passes_per_shift: Annotated[int, Field(ge=1, le=100)] = 1
    windows: Annotated[list[Window], Field(max_length=24)] = []


class PatrolPointProps(BaseModel):
    layer: Literal["patrol_point"]
    name: str
    kind: PlaceKind
    zone: str
    radius_m: Annotated[float, Field(gt=0)]
    dwell_min: Annotated[float, Field(ge=0)]
    visits_per_shift: Annotated[int, Field(ge=1)]
    windows: Annotated[list[Window], Field(max_length=24)] = []


Props = Annotated[
    KioskProps | ZoneProps | PatrolLineProps | PatrolPointProps, Field(discriminator="layer")
]


class Feature(BaseModel):
    type: Literal["Feature"]
    geometry: Geometry
    properties: Props


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]


def parse_layout(data: Any) -> FeatureCollection:
    """Validate a city layout in GeoJSON, naming the first broken rule."""
    try:
        return FeatureCollection.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"city GeoJSON {_problem(exc)}") from exc


# -- the browser map and the place search -----------------------------------------------------


class CityMapOut(BaseModel):
    """`GET /api/city/map`: roads and layout as GeoJSON FeatureCollections (WGS-84)."""

    name: str
    bounds: Annotated[list[float], Field(min_length=4, max_length=4)]  # west, south, east, north
    attribution: str
    roads: dict[str, Any]
    layout: dict[str, Any]


class PlaceOut(BaseModel):
    name: str
    kind: str  # street, intersection, school, hospital, square, station, bank, market, …
    lon: float
    lat: float
