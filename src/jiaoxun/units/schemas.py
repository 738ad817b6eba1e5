"""What goes in and out of the unit API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from jiaoxun.inputs import Input
from jiaoxun.units.models import OfficerKind
from jiaoxun.units.status import UnitStatus


class OfficerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    badge: str
    kind: OfficerKind


class UnitOut(BaseModel):
    id: int
    call_sign: str
    zone: str | None
    device_id: str | None
    status: UnitStatus
    status_at: datetime | None
    lon: float | None
    lat: float | None
    fix_at: datetime | None
    fix_age_s: float | None
    crew: list[OfficerOut]


class UnitStatusIn(Input):
    status: UnitStatus
    reason: Annotated[str, Field(max_length=200)] = ""


class FixIn(Input):
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    at: datetime | None = None
