"""The city as a running server holds it: road travel times, zone shapes, key sites, kiosks.

Built once at start from the database and the road network, then read by every request: which
zone a point is in, whether it is a key site (for the 1-minute tier), where each kiosk stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.models import PatrolPoint, Zone
from jiaoxun.city.patrol import KEY_SITE_KINDS, KEY_SITE_RADIUS_M
from jiaoxun.city.service import city_pbf, traffic_for, travel_times_for
from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.settings import Settings


@dataclass(frozen=True)
class ZoneInfo:
    id: int
    code: str
    kiosk_lon: float | None
    kiosk_lat: float | None


@dataclass(frozen=True, eq=False)
class CityContext:
    #: at the class table's speeds: snapping, maps, places
    travel_times: TravelTimes
    #: by hour of the week, at the learned speeds where there are: every ETA
    traffic: Traffic
    zones: tuple[ZoneInfo, ...]
    zone_shapes: tuple[shapely.Geometry, ...]
    key_lon: np.ndarray
    key_lat: np.ndarray

    def zone_at(self, lon: float, lat: float) -> ZoneInfo | None:
        """The zone whose polygon holds the point, else the nearest zone polygon."""
        if not self.zones:
            return None
        point = shapely.Point(lon, lat)
        inside = [
            z for z, shape in zip(self.zones, self.zone_shapes, strict=True) if shape.covers(point)
        ]
        if inside:
            return inside[0]
        distance = [shape.distance(point) for shape in self.zone_shapes]
        return self.zones[int(np.argmin(distance))]

    def zone_by_id(self, zone_id: int | None) -> ZoneInfo | None:
        return self._zone_of_id.get(zone_id) if zone_id is not None else None

    @cached_property
    def _zone_of_id(self) -> dict[int, ZoneInfo]:
        return {z.id: z for z in self.zones}

    def place_class_at(self, lon: float, lat: float) -> str | None:
        """ "key_site" within `KEY_SITE_RADIUS_M` of a key patrol point, else None."""
        if not len(self.key_lon):
            return None
        near = haversine_m(
            self.key_lon,
            self.key_lat,
            np.full_like(self.key_lon, lon),
            np.full_like(self.key_lat, lat),
        )
        return "key_site" if float(near.min()) <= KEY_SITE_RADIUS_M else None


def load_city_context(session: Session, settings: Settings) -> CityContext:
    """Read the stored city and its road network (cached on disk)."""
    zones, shapes = [], []
    for zone in session.scalars(select(Zone).order_by(Zone.code)):
        kiosk = zone.kiosk
        zones.append(
            ZoneInfo(zone.id, zone.code, kiosk.lon if kiosk else None, kiosk.lat if kiosk else None)
        )
        shapes.append(shapely.geometry.shape(zone.polygon))
    keys = session.scalars(select(PatrolPoint).where(PatrolPoint.kind.in_(KEY_SITE_KINDS))).all()
    travel_times = travel_times_for(settings, city_pbf(session, settings))
    return CityContext(
        travel_times=travel_times,
        traffic=traffic_for(settings, travel_times),
        zones=tuple(zones),
        zone_shapes=tuple(shapes),
        key_lon=np.array([p.lon for p in keys], dtype=np.float64),
        key_lat=np.array([p.lat for p in keys], dtype=np.float64),
    )
