"""Tables of live tracking: devices bound to units, track points, check-ins, zone events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime


class Device(Base):
    """A GPS source: an officer's phone (OsmAnd) or a vehicle terminal (JT/T 808), bound to a
    unit. `device_id` is what the device calls itself: the phone app's id, or the terminal's
    phone number."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), unique=True)
    protocol: Mapped[str] = mapped_column(String(20))  # osmand, jt808, mqtt
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    #: the officer who carries it (a phone), when it is personal
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id", ondelete="SET NULL"))
    auth_code: Mapped[str | None] = mapped_column(String(40))  # JT/T 808 authentication
    #: SHA-256 of the device's secret (OsmAnd, MQTT), issued at registration and shown once
    secret_sha256: Mapped[str | None] = mapped_column(String(64))
    #: what a JT/T 808 terminal must register with (0x0100): its plate and terminal id
    plate: Mapped[str | None] = mapped_column(String(20))
    terminal_id: Mapped[str | None] = mapped_column(String(30))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    online: Mapped[bool] = mapped_column(Boolean, default=False)


class TrackPoint(Base):
    """One accepted position, snapped to the road network where it lies near one."""

    __tablename__ = "track_point"
    __table_args__ = (
        # one position per device and moment: a replayed or resent fix is stored once
        Index("uq_track_point_device_at", "device_id", "at", unique=True),
        Index("ix_track_point_unit_at", "unit_id", "at"),
        Index("ix_track_point_at", "at"),  # the retention purge
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kph: Mapped[float | None] = mapped_column(Float)
    course_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    edge: Mapped[int] = mapped_column(Integer)  # network edge, -1 off the road
    fraction: Mapped[float] = mapped_column(Float)
    zone: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(10))


class CheckInRow(Base):
    """A visit to a mandatory patrol point: by dwelling in its radius, or by hand."""

    __tablename__ = "patrol_check_in"
    __table_args__ = (
        Index("ix_patrol_check_in_unit_at", "unit_id", "checked_in_at"),
        # a visit is one stay: found again from the stored tracks, it is not a second one
        Index(
            "uq_patrol_check_in_visit", "point_id", "unit_id", "arrived_at", "manual", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("patrol_point.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime())
    checked_in_at: Mapped[datetime] = mapped_column(UtcDateTime())
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a manual check-in is proved when the unit's own track stayed within the radius for the
    #: dwell around it; an unproved one is shown, never counted as a visit
    proved: Mapped[bool] = mapped_column(Boolean, default=True)
    by: Mapped[str] = mapped_column(String(50), default="")


class FenceEventRow(Base):
    """A unit entering or leaving a zone."""

    __tablename__ = "fence_event"
    __table_args__ = (
        Index("ix_fence_event_unit_at", "unit_id", "at"),
        Index("uq_fence_event", "unit_id", "zone", "kind", "at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    device_id: Mapped[str] = mapped_column(String(40))
    zone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # enter, exit
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class PatrolState(Base):
    """A unit's patrol duty in one shift, kept up to date as its fixes are accepted
    (`tracking.duty`): what the compliance report reads, and where a restart resumes."""

    __tablename__ = "patrol_state"
    __table_args__ = (Index("uq_patrol_state_unit_shift", "unit_id", "shift_start", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    shift_start: Mapped[datetime] = mapped_column(UtcDateTime())
    shift_end: Mapped[datetime] = mapped_column(UtcDateTime())
    #: `tracking.duty.UnitDuty` as JSON: fences, visits in progress, times, the fixes not yet
    #: map-matched
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: what was driven of the mandatory lines, by duty window ({"on_lines": {"shift":
    #: {stretch: [[lo, hi], ...]}}}), and each line's pass in progress: what the report reads
    portions: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: every road driven (map-matched), by duty window: what the report's map draws
    roads: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
