"""Tables of the units (police cars) and their crews."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiaoxun.db import Base, UtcDateTime, str_enum
from jiaoxun.units.status import UnitStatus


class OfficerKind(enum.StrEnum):
    OFFICER = "officer"  # 民警: a traffic-patrol officer, does traffic and patrol work alike
    AUXILIARY = "auxiliary"  # 辅警


class Unit(Base):
    """A police car (交巡警车): call sign, home zone, crew, device, status and last fix."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(30), unique=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[UnitStatus] = mapped_column(
        str_enum(UnitStatus, length=20), default=UnitStatus.OFF_DUTY
    )
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_fix_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: bumped on every change, so that two dispatchers cannot both take the same unit
    version: Mapped[int] = mapped_column(Integer, default=1)

    crew: Mapped[list[Officer]] = relationship(back_populates="unit")


class Officer(Base):
    """An officer of the merged force (民警 or 辅警): traffic and patrol work alike (交巡合一), his
    skills, licence, brigade and kiosk, and the car he is on now."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    badge: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[OfficerKind] = mapped_column(str_enum(OfficerKind, length=20))
    rank: Mapped[str] = mapped_column(String(30), default="")  # 警衔, e.g. 二级警司
    brigade_id: Mapped[int | None] = mapped_column(ForeignKey("brigade.id", ondelete="SET NULL"))
    #: the kiosk he serves from: rosters cover its cars and counter with him
    kiosk_id: Mapped[int | None] = mapped_column(
        ForeignKey("kiosk.id", ondelete="SET NULL"), index=True
    )
    #: his place in the pattern's rotation (team 0, 1, …), None: rostered freely
    team: Mapped[int | None] = mapped_column(Integer)
    traffic: Mapped[bool] = mapped_column(Boolean, default=True)  # traffic work
    patrol: Mapped[bool] = mapped_column(Boolean, default=True)  # patrol work
    accident: Mapped[bool] = mapped_column(Boolean, default=False)  # may handle accidents
    #: driving licence class (准驾车型: C1, B2, A1 …); empty: he may not drive a police car
    licence: Mapped[str] = mapped_column(String(4), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the car he is on now (his crew); set by the roster at each shift start and by swaps
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), index=True
    )

    unit: Mapped[Unit | None] = relationship(back_populates="crew")
