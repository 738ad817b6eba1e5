"""Tables of the units: the police cars of each zone."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base


class Unit(Base):
    """A police car (交巡警车) with its call sign and home zone."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(30), unique=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"), index=True)
