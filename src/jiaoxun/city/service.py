"""Use cases of the city layout: build, describe, export, import. Services flush, never commit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity
from jiaoxun.city.generate import CityLayout, KioskSite, layout_city
from jiaoxun.city.maps import map_path, store_map
from jiaoxun.city.models import City, Kiosk, PatrolLine, PatrolPoint, PlaceKind, Zone
from jiaoxun.city.schemas import (
    CityInfo,
    KioskProps,
    PatrolLineProps,
    PatrolPointProps,
    ZoneProps,
    parse_layout,
)
from jiaoxun.errors import Conflict, InvalidInput
from jiaoxun.geo.gazetteer import Gazetteer
from jiaoxun.geo.osm import cache_path_for, network_from_pbf
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.speeds import load_speeds, speeds_path
from jiaoxun.geo.table import cached_table
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.models import Incident
from jiaoxun.settings import Settings
from jiaoxun.tracking.models import CheckInRow
from jiaoxun.units.models import Officer, Unit

DEMO_NAME = "demo city (central Harbin, OpenStreetMap)"


def travel_times_for(settings: Settings, pbf: Path) -> TravelTimes:
    """The road network of `pbf` (cached on disk) at the class table's speeds, ready for
    travel-time queries."""
    network = network_from_pbf(pbf, speeds_kph=settings.speeds_kph, cache_dir=settings.cache_dir)
    travel_times = TravelTimes(network, max_snap_m=settings.max_snap_m)
    if network.n_nodes <= settings.table_max_nodes:
        travel_times.use_table(cached_table(travel_times, cache_path_for(pbf, settings.cache_dir)))
    return travel_times


def traffic_for(settings: Settings, travel_times: TravelTimes) -> Traffic:
    """Travel times by hour of the week: at the speeds learned from the force's own tracks
    (`jiaoxun speeds learn`) where there are, else at the class table's."""
    network = travel_times.network
    speeds = load_speeds(speeds_path(settings.data_dir, network), network)
    return Traffic(travel_times, speeds, tz=settings.tz)


def current_city(session: Session) -> City | None:
    return session.scalars(select(City).order_by(City.id.desc()).limit(1)).first()


def city_pbf(session: Session, settings: Settings) -> Path:
    """The extract of the city in the database, or the default (demo) extract."""
    city = current_city(session)
    return map_path(city.source_pbf, data_dir=settings.data_dir) if city else settings.default_pbf


def map_reference(session: Session, settings: Settings, pbf: Path | None) -> str:
    """The reference of the extract `pbf`, stored; without one, that of the stored city's
    extract, or of the default (demo) extract."""
    if pbf is None and (city := current_city(session)):
        return city.source_pbf
    return store_map(pbf or settings.default_pbf, data_dir=settings.data_dir)


def gazetteer_for(session: Session, settings: Settings, travel_times: TravelTimes) -> Gazetteer:
    """The street and place names of the stored city, for the place search."""
    return Gazetteer.from_network(
        travel_times.network, places_from_pbf(city_pbf(session, settings))
    )


def clear_layout(session: Session) -> None:
    """Delete the city layout and its units (a city is rebuilt whole). Refused once the
    database holds operations: their history refers to the city's zones and units."""
    histories = (
        (Incident, "incidents"),
        (CheckInRow, "patrol check-ins"),
        (Activity, "field activities"),
    )
    for history, what in histories:
        if session.scalar(select(func.count()).select_from(history)):
            raise Conflict(
                f"the database holds {what}: build a new city into a new database "
                "(JIAOXUN_DATABASE_URL), so that their history keeps its zones and units"
            )
    for table in (Officer, Unit, PatrolPoint, PatrolLine, Kiosk, Zone, City):
        session.execute(delete(table))


def _geojson(geometry: shapely.Geometry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(shapely.to_geojson(shapely.set_precision(geometry, 1e-7)))
    return data


def save_layout(session: Session, *, name: str, source: str, layout: CityLayout) -> City:
    """Replace the stored city with `layout` built on the extract `source` (a reference of
    `city.maps`)."""
    clear_layout(session)
    city = City(name=name, source_pbf=source, built_at=datetime.now(UTC))
    session.add(city)
    zones = []
    for i, (site, stats) in enumerate(
        zip(layout.kiosks, layout.districting.zone_stats, strict=True)
    ):
        zone = Zone(
            code=f"Z{i + 1:02d}",
            name=site.name.removesuffix("警务室") + "警务区",
            polygon=_geojson(layout.districting.polygons[i]),
            road_length_m=stats.road_length_m,
            area_m2=stats.area_m2,
            max_travel_time_s=stats.max_travel_time_s,
            mean_travel_time_s=stats.mean_travel_time_s,
        )
        zone.kiosk = Kiosk(name=site.name, lon=site.lon, lat=site.lat, landmark=site.landmark)
        zones.append(zone)
    session.add_all(zones)
    session.flush()
    session.add_all(Unit(call_sign=sign, zone_id=zones[z].id) for sign, z in layout.units)
    session.add_all(
        PatrolLine(
            name=line.name,
            zone_id=zones[line.zone].id,
            geometry={"type": "LineString", "coordinates": [list(c) for c in line.coords]},
            edges=list(line.edges),
            length_m=line.length_m,
        )
        for line in layout.patrol_lines
    )
    session.add_all(
        PatrolPoint(
            name=p.name,
            kind=PlaceKind(p.kind),
            zone_id=zones[p.zone].id,
            lon=p.lon,
            lat=p.lat,
            radius_m=p.radius_m,
            dwell_min=p.dwell_min,
            visits_per_shift=p.visits_per_shift,
            windows=[list(w) for w in p.windows],
        )
        for p in layout.patrol_points
    )
    session.flush()
    return city


def build_city(
    session: Session,
    settings: Settings,
    *,
    pbf: Path | None = None,
    kiosks: list[KioskSite] | None = None,
    step: Callable[[str], None] = lambda _: None,
) -> City:
    """Build the city from an extract (the demo city by default): roads, layout, units."""
    source = pbf or settings.default_pbf
    step("reading the road network")
    travel_times = travel_times_for(settings, source)
    step("finding places")
    places = places_from_pbf(source)
    step("laying out kiosks, zones, patrol lines and points")
    layout = layout_city(travel_times, places, kiosks=kiosks)
    step("saving")
    name = DEMO_NAME if pbf is None else source.stem.removesuffix(".osm")
    reference = store_map(source, data_dir=settings.data_dir)
    return save_layout(session, name=name, source=reference, layout=layout)


def _count(session: Session, table: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def city_info(session: Session, travel_times: TravelTimes) -> CityInfo:
    """The size of the stored city and of its road network."""
    city = current_city(session)
    network = travel_times.network
    return CityInfo(
        name=city.name if city else "",
        source_pbf=city.source_pbf if city else "",
        kiosks=_count(session, Kiosk),
        zones=_count(session, Zone),
        units=_count(session, Unit),
        patrol_lines=_count(session, PatrolLine),
        patrol_points=_count(session, PatrolPoint),
        road_nodes=network.n_nodes,
        road_edges=network.n_edges,
        road_km=round(network.road_km, 3),
    )


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def export_layout(session: Session, *, for_map: bool = False) -> dict[str, Any]:
    """The stored layout as one GeoJSON FeatureCollection (WGS-84), layer in each feature.

    `for_map` adds each row's database id to its properties and leaves out the network edges
    of patrol lines: what a browser map needs, and no longer a file `import_layout` reads.
    """
    code = {z.id: z.code for z in session.scalars(select(Zone))}
    units: dict[int, list[str]] = {}
    for unit in session.scalars(select(Unit).order_by(Unit.call_sign)):
        if unit.zone_id is not None:
            units.setdefault(unit.zone_id, []).append(unit.call_sign)

    def feature(row: Any, geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
        if for_map:
            properties = {"id": row.id, **properties}
            properties.pop("edges", None)
        return _feature(geometry, **properties)

    features = [
        feature(
            z,
            z.polygon,
            layer="zone",
            code=z.code,
            name=z.name,
            road_length_m=z.road_length_m,
            area_m2=z.area_m2,
            max_travel_time_s=z.max_travel_time_s,
            mean_travel_time_s=z.mean_travel_time_s,
            units=units.get(z.id, []),
        )
        for z in session.scalars(select(Zone).order_by(Zone.code))
    ]
    features += [
        feature(
            k,
            {"type": "Point", "coordinates": [k.lon, k.lat]},
            layer="kiosk",
            name=k.name,
            zone=code.get(k.zone_id or -1, ""),
            landmark=k.landmark,
        )
        for k in session.scalars(select(Kiosk).order_by(Kiosk.id))
    ]
    features += [
        feature(
            line,
            line.geometry,
            layer="patrol_line",
            name=line.name,
            zone=code[line.zone_id],
            length_m=line.length_m,
            edges=line.edges,
            passes_per_shift=line.passes_per_shift,
            windows=line.windows,
        )
        for line in session.scalars(select(PatrolLine).order_by(PatrolLine.id))
    ]
    features += [
        feature(
            p,
            {"type": "Point", "coordinates": [p.lon, p.lat]},
            layer="patrol_point",
            name=p.name,
            kind=p.kind.value,
            zone=code[p.zone_id],
            radius_m=p.radius_m,
            dwell_min=p.dwell_min,
            visits_per_shift=p.visits_per_shift,
            windows=p.windows,
        )
        for p in session.scalars(select(PatrolPoint).order_by(PatrolPoint.id))
    ]
    return {"type": "FeatureCollection", "features": features}


def import_layout(session: Session, data: Any, *, name: str, source: str) -> City:
    """Replace the stored layout with one exported by `export_layout`."""
    collection = parse_layout(data)
    codes = {f.properties.code for f in collection.features if isinstance(f.properties, ZoneProps)}
    for f in collection.features:
        p = f.properties
        if not isinstance(p, ZoneProps) and p.zone and p.zone not in codes:
            raise InvalidInput(f"{p.layer} {p.name!r} names zone {p.zone!r}, which the file lacks")
        if isinstance(p, KioskProps | PatrolPointProps) and f.geometry.type != "Point":
            raise InvalidInput(f"{p.layer} {p.name!r} must be a Point, got {f.geometry.type}")
    clear_layout(session)
    city = City(name=name, source_pbf=source, built_at=datetime.now(UTC))
    session.add(city)
    zones: dict[str, Zone] = {}
    for f in collection.features:
        if isinstance(z := f.properties, ZoneProps):
            zones[z.code] = Zone(
                code=z.code,
                name=z.name,
                polygon=f.geometry.model_dump(),
                road_length_m=z.road_length_m,
                area_m2=z.area_m2,
                max_travel_time_s=z.max_travel_time_s,
                mean_travel_time_s=z.mean_travel_time_s,
            )
    session.add_all(zones.values())
    session.flush()

    for f in collection.features:
        p = f.properties
        if isinstance(p, ZoneProps):
            session.add_all(Unit(call_sign=sign, zone_id=zones[p.code].id) for sign in p.units)
            continue
        if isinstance(p, KioskProps):
            lon, lat = f.geometry.coordinates[:2]
            session.add(
                Kiosk(
                    name=p.name,
                    lon=lon,
                    lat=lat,
                    landmark=p.landmark,
                    zone_id=zones[p.zone].id if p.zone else None,
                )
            )
        elif isinstance(p, PatrolLineProps):
            session.add(
                PatrolLine(
                    name=p.name,
                    zone_id=zones[p.zone].id,
                    geometry=f.geometry.model_dump(),
                    edges=p.edges,
                    length_m=p.length_m,
                    passes_per_shift=p.passes_per_shift,
                    windows=[list(w) for w in p.windows],
                )
            )
        else:
            lon, lat = f.geometry.coordinates[:2]
            session.add(
                PatrolPoint(
                    name=p.name,
                    kind=p.kind,
                    lon=lon,
                    lat=lat,
                    radius_m=p.radius_m,
                    zone_id=zones[p.zone].id,
                    dwell_min=p.dwell_min,
                    visits_per_shift=p.visits_per_shift,
                    windows=[list(w) for w in p.windows],
                )
            )
    session.flush()
    return city
