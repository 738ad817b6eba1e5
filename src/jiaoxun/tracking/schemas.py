"""What goes in and out of the tracking API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jiaoxun.db import MAX_ID
from jiaoxun.inputs import Input

DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-:]+$")]


class PositionIn(Input):
    """One position of a JSON batch (bulk import, replays)."""

    device_id: DeviceId
    lon: float
    lat: float
    at: datetime
    speed_kph: float | None = None
    course_deg: float | None = None
    altitude_m: float | None = None
    accuracy_m: float | None = None


class BatchIn(Input):
    positions: Annotated[list[PositionIn], Field(min_length=1, max_length=20_000)]


class BatchOut(BaseModel):
    received: int
    accepted: int
    rejected: dict[str, int]


class DeviceIn(Input):
    device_id: DeviceId
    protocol: Annotated[str, StringConstraints(pattern=r"^(osmand|jt808|mqtt)$")]
    unit_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: str
    protocol: str
    unit_id: int | None
    last_seen_at: datetime | None
    online: bool


class TrackPointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    lon: float
    lat: float
    speed_kph: float | None
    course_deg: float | None
    zone: str
    on_road: bool


class TrackOut(BaseModel):
    unit_id: int
    points: list[TrackPointOut]
    total_points: int


class StatsOut(BaseModel):
    accepted: int
    batches: int
    rejected: dict[str, int]
    jt808: dict[str, int]
