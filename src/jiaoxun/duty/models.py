"""Tables of the force on duty: brigades, shift patterns, cover demands, rosters and their
shifts, leave and requests, the fair-share ledger, and the shift changes applied to the cars.

A *roster* is one month of one pattern, solved by CP-SAT (`duty.solver`) into *duty shifts*:
one officer, one day, one shift, one post (a car, the counter, the patrol lines). Only a
published roster counts: at each shift start its car posts become the cars' crews (a *shift
change*, applied once), and its nights and holidays enter each officer's *ledger*, so that the
next month's roster can share them fairly.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime, str_enum
from jiaoxun.services.models import DayKind


class BrigadeKind(enum.StrEnum):
    TRAFFIC_PATROL = "traffic_patrol"  # 交巡警大队: kiosks, zones, cars
    HIGHWAY = "highway"  # 高速公路大队


class RosterState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # replaced by a later roster of the same month


class Post(enum.StrEnum):
    CAR = "car"
    COUNTER = "counter"
    PATROL = "patrol"  # on the patrol lines on foot, or standby


class AbsenceKind(enum.StrEnum):
    LEAVE = "leave"  # hard: he does not work
    DAY_OFF = "day_off"  # a request: he would rather not work
    SHIFT = "shift"  # a request: he would rather work this shift


class Brigade(Base):
    """A brigade of the merged force (交巡警大队) or the highway brigade."""

    __tablename__ = "brigade"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[BrigadeKind] = mapped_column(str_enum(BrigadeKind, length=20))


class ShiftPatternRow(Base):
    """A shift pattern (`duty.patterns.Pattern.as_dict`): built in or the command's own."""

    __tablename__ = "shift_pattern"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CoverDemand(Base):
    """What one kiosk needs in one shift of a pattern on one kind of day: cars crewed, officers
    at the counter (only in shifts that meet its opening hours) and on the patrol lines."""

    __tablename__ = "cover_demand"
    __table_args__ = (UniqueConstraint("pattern_code", "kiosk_id", "shift", "day_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern_code: Mapped[str] = mapped_column(String(20))
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id", ondelete="CASCADE"), index=True)
    shift: Mapped[str] = mapped_column(String(4))
    day_kind: Mapped[DayKind] = mapped_column(str_enum(DayKind, length=10))
    cars: Mapped[int] = mapped_column(Integer)
    crew: Mapped[int] = mapped_column(Integer, default=2)
    counter: Mapped[int] = mapped_column(Integer, default=0)
    patrol: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Roster(Base):
    """One month's roster of a pattern: what the solver found, and whether it is in force."""

    __tablename__ = "roster"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # its first day
    pattern_code: Mapped[str] = mapped_column(String(20))
    #: the pattern as it stood when solved: a later edit never changes a roster
    pattern: Mapped[dict[str, Any]] = mapped_column(JSON)
    anchor: Mapped[date] = mapped_column(Date)  # the day team 0 starts its cycle
    state: Mapped[RosterState] = mapped_column(str_enum(RosterState, length=20))
    status: Mapped[str] = mapped_column(String(20))  # the solver's: optimal, feasible, …
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    wall_s: Mapped[float] = mapped_column(Float)
    #: why the solver found no roster (sentences naming the constraint and the values)
    why: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[str | None] = mapped_column(String(50))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class DutyShift(Base):
    """One officer's shift in a roster: when, where, and his post (a car and his role on it)."""

    __tablename__ = "duty_shift"
    __table_args__ = (
        UniqueConstraint("roster_id", "officer_id", "day"),
        Index("ix_duty_shift_time", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int] = mapped_column(
        ForeignKey("officer.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(4))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id", ondelete="CASCADE"))
    post: Mapped[Post] = mapped_column(str_enum(Post, length=10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    role: Mapped[str | None] = mapped_column(String(10))  # on a car: driver, accident, crew


class Absence(Base):
    """Leave (hard) or a request (soft) of one officer over days."""

    __tablename__ = "duty_absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(
        ForeignKey("officer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AbsenceKind] = mapped_column(str_enum(AbsenceKind, length=10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str | None] = mapped_column(String(4))  # a shift request's shift
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LedgerEntry(Base):
    """The nights and holiday shifts a published roster gave one officer in one month."""

    __tablename__ = "duty_ledger"
    __table_args__ = (UniqueConstraint("officer_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id", ondelete="CASCADE"))
    nights: Mapped[int] = mapped_column(Integer)
    holidays: Mapped[int] = mapped_column(Integer)


class ShiftChange(Base):
    """A shift start whose roster became the cars' crews: applied exactly once per roster (a
    roster published during a shift is applied at once, then at every shift start)."""

    __tablename__ = "shift_change"
    __table_args__ = (UniqueConstraint("starts_at", "roster_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id", ondelete="CASCADE"))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime())
    crews: Mapped[int] = mapped_column(Integer)  # cars crewed
