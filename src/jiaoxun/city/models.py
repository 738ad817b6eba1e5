"""Tables of the city layout: the city, its zones, kiosks, patrol lines and patrol points.

Coordinates are WGS-84 longitude/latitude; geometries are GeoJSON geometry objects in JSON
columns, so the same schema runs on SQLite and on PostgreSQL without a spatial extension.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiaoxun.db import Base, UtcDateTime, str_enum


class PlaceKind(enum.StrEnum):
    school = "school"
    hospital = "hospital"
    square = "square"
    station = "station"
    bank = "bank"
    market = "market"
    key_site = "key_site"


class City(Base):
    """The city this database serves: its name and the OpenStreetMap extract of its roads."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source_pbf: Mapped[str] = mapped_column(String(500))
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Zone(Base):
    """A police zone (警务区): the area one kiosk and its cars answer for."""

    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    polygon: Mapped[dict[str, Any]] = mapped_column(JSON)
    road_length_m: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    max_travel_time_s: Mapped[float] = mapped_column(Float)
    mean_travel_time_s: Mapped[float] = mapped_column(Float)

    kiosk: Mapped[Kiosk | None] = relationship(back_populates="zone")
    patrol_lines: Mapped[list[PatrolLine]] = relationship(back_populates="zone")
    patrol_points: Mapped[list[PatrolPoint]] = relationship(back_populates="zone")


class Kiosk(Base):
    """A street police kiosk (警务室) at a real place, heading one zone."""

    __tablename__ = "kiosk"
    __table_args__ = (
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"), unique=True)
    landmark: Mapped[str] = mapped_column(String(200), default="")
    brigade_id: Mapped[int | None] = mapped_column(ForeignKey("brigade.id", ondelete="SET NULL"))

    zone: Mapped[Zone | None] = relationship(back_populates="kiosk")


class PatrolLine(Base):
    """A mandatory patrol line (必巡线): a road stretch the zone's cars must drive each shift."""

    __tablename__ = "patrol_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: directed edges of the road network the line follows, in driving order
    edges: Mapped[list[int]] = mapped_column(JSON)
    length_m: Mapped[float] = mapped_column(Float)
    #: how many times a shift the line must be driven whole
    passes_per_shift: Mapped[int] = mapped_column(Integer, default=1)
    #: local times of day ["07:00", "08:00"] within which it must be driven; none: any time
    windows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)

    zone: Mapped[Zone] = relationship(back_populates="patrol_lines")


class PatrolPoint(Base):
    """A mandatory patrol point (必巡点): a place to be visited and dwelt at each shift."""

    __tablename__ = "patrol_point"
    __table_args__ = (
        CheckConstraint("radius_m > 0", name="radius_positive"),
        CheckConstraint("dwell_min >= 0", name="dwell_nonnegative"),
        CheckConstraint("visits_per_shift >= 1", name="visits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind, length=20))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    dwell_min: Mapped[float] = mapped_column(Float)
    visits_per_shift: Mapped[int] = mapped_column(Integer)
    #: local times of day ["07:00", "08:00"], each needing a visit (school gates: the start
    #: and the end of the school day); none: the visits may come any time in the shift
    windows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)

    zone: Mapped[Zone] = relationship(back_populates="patrol_points")
