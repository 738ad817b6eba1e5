"""Tables of the statistics: recognitions received (banners, letters, good deeds) and the
statutory calendar's overrides."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime, str_enum


class RecognitionKind(enum.StrEnum):
    BANNER = "banner"  # 锦旗
    LETTER = "letter"  # 感谢信
    GOOD_DEED = "good_deed"  # 好人好事


class Recognition(Base):
    """A banner or letter of thanks received, or a good deed done: when, by whom, for which unit,
    zone or incident."""

    __tablename__ = "recognition"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RecognitionKind] = mapped_column(str_enum(RecognitionKind, length=10))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    giver: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(50))


class CalendarDay(Base):
    """An override of the statutory calendar for one day: a holiday or a make-up working day
    the calendar package does not know (a year after its data ends) or has wrong."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    holiday: Mapped[str] = mapped_column(String(40), default="")  # e.g. "Spring Festival"
    note: Mapped[str] = mapped_column(Text, default="")
