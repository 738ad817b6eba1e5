"""The table of field activities and the codes an officer picks from.

An activity is a matter an officer handles on his own initiative, not on a dispatch order: a
traffic violation dealt with, help given to a citizen, a stop and check (盘查). Counted per shift
they are the intervention and stop-check rates (管事率, 盘查率) of `DOMAIN.md`. The three kinds
share one table; what differs between them is kept in `details`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiaoxun.db import Base, UtcDateTime, str_enum
from jiaoxun.units.models import Unit


class ActivityKind(enum.StrEnum):
    VIOLATION = "violation"  # 违法处理
    ASSISTANCE = "assistance"  # 群众求助
    STOP_CHECK = "stop_check"  # 盘查


class Violation(enum.StrEnum):
    ILLEGAL_PARKING = "illegal_parking"
    RED_LIGHT = "red_light"
    WRONG_WAY = "wrong_way"
    NO_SEATBELT = "no_seatbelt"
    PHONE_USE = "phone_use"
    LANE_VIOLATION = "lane_violation"
    SPEEDING = "speeding"
    OTHER = "other"


class Assistance(enum.StrEnum):
    DIRECTIONS = "directions"
    MEDICAL = "medical"
    BREAKDOWN = "breakdown"
    MISSING_PERSON = "missing_person"
    OTHER = "other"


class StopCheckResult(enum.StrEnum):
    CLEARED = "cleared"
    FURTHER_CHECK = "further_check"
    TAKEN_IN = "taken_in"


#: (Chinese, English) label of every code, for the officer's page
LABELS: dict[enum.StrEnum, tuple[str, str]] = {
    Violation.ILLEGAL_PARKING: ("违法停车", "illegal parking"),
    Violation.RED_LIGHT: ("闯红灯", "running a red light"),
    Violation.WRONG_WAY: ("逆行", "driving against traffic"),
    Violation.NO_SEATBELT: ("未系安全带", "no seat belt"),
    Violation.PHONE_USE: ("驾车使用手机", "using a phone while driving"),
    Violation.LANE_VIOLATION: ("不按规定车道行驶", "wrong lane"),
    Violation.SPEEDING: ("超速", "speeding"),
    Violation.OTHER: ("其他", "other"),
    Assistance.DIRECTIONS: ("指路", "directions"),
    Assistance.MEDICAL: ("送医", "taken to hospital"),
    Assistance.BREAKDOWN: ("车辆故障", "vehicle breakdown"),
    Assistance.MISSING_PERSON: ("寻人", "missing person"),
    Assistance.OTHER: ("其他", "other"),
    StopCheckResult.CLEARED: ("放行", "cleared"),
    StopCheckResult.FURTHER_CHECK: ("进一步核查", "further check"),
    StopCheckResult.TAKEN_IN: ("带回", "taken in"),
}


class Activity(Base):
    """One matter handled on initiative: who, which unit, where (zone), when, and its details."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, length=20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    recorded_by: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    unit: Mapped[Unit] = relationship()
