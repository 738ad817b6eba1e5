"""What goes in and out of the tracking API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from jiaoxun.db import MAX_ID
from jiaoxun.inputs import (
    AccuracyM,
    AltitudeM,
    CourseDeg,
    Input,
    Instant,
    Lat,
    Lon,
    SpeedKph,
)
from jiaoxun.tracking.compliance import DutyReport, ShiftReport

DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-:]+$")]


class OwnPositionIn(Input):
    """A position of the officer's own phone, sent by his page (WGS-84)."""

    lon: Lon
    lat: Lat
    at: Instant
    speed_kph: SpeedKph | None = None
    course_deg: CourseDeg | None = None
    altitude_m: AltitudeM | None = None
    accuracy_m: AccuracyM | None = None


class PositionIn(OwnPositionIn):
    """One position of a JSON batch (bulk import, replays)."""

    device_id: DeviceId


class BatchIn(Input):
    positions: Annotated[list[PositionIn], Field(min_length=1, max_length=10_000)]


class BatchOut(BaseModel):
    received: int
    accepted: int
    rejected: dict[str, int]


class DeviceIn(Input):
    device_id: DeviceId
    protocol: Annotated[str, StringConstraints(pattern=r"^(osmand|jt808|mqtt)$")]
    unit_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    officer_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    #: a JT/T 808 terminal registers (0x0100) with these; they must match
    plate: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    terminal_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,30}$")] | None = None

    @model_validator(mode="after")
    def _terminal_named(self) -> DeviceIn:
        # without them, anyone who knows a terminal's phone number could register as it
        if self.protocol == "jt808" and not (self.plate and self.terminal_id):
            raise ValueError(
                "a jt808 terminal needs its plate and terminal_id (0x0100 checks them)"
            )
        return self


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: str
    protocol: str
    unit_id: int | None
    officer_id: int | None
    plate: str | None
    terminal_id: str | None
    last_seen_at: datetime | None
    online: bool


class DeviceSecretOut(DeviceOut):
    """A device with the secret it proves itself with, shown this once (OsmAnd, MQTT)."""

    secret: str
    #: for Traccar Client: the server URL and the device identifier, which is the secret
    setup_url: str
    qr_svg: str


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
    mqtt: dict[str, int]


class CheckInIn(Input):
    unit_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]


class CheckInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    point_id: int
    unit_id: int | None
    checked_in_at: datetime
    manual: bool


class PointReportOut(BaseModel):
    point_id: int
    required: int
    visits: int
    first_at: datetime | None
    late: bool
    missed: bool


class LineReportOut(BaseModel):
    line_id: int
    length_m: float
    covered: float


class DutyOut(BaseModel):
    visits_done: int
    visits_required: int
    late: list[int]
    missed: list[int]
    line_coverage: float
    points: list[PointReportOut]
    lines: list[LineReportOut]


class UnitReportOut(BaseModel):
    unit: str
    zone: str
    patrol_km: float
    patrol_min: float
    outside_zone_min: float
    check_ins: int
    duty: DutyOut


class ZoneReportOut(BaseModel):
    zone: str
    units: list[str]
    patrol_km: float
    patrol_min: float
    outside_zone_min: float
    duty: DutyOut


class ShiftReportOut(BaseModel):
    start: datetime
    end: datetime
    units: list[UnitReportOut]
    zones: list[ZoneReportOut]

    @classmethod
    def of(cls, report: ShiftReport) -> ShiftReportOut:
        def duty(d: DutyReport) -> DutyOut:
            return DutyOut(
                visits_done=d.visits_done,
                visits_required=d.visits_required,
                late=list(d.late),
                missed=list(d.missed),
                line_coverage=round(d.line_coverage, 4),
                points=[PointReportOut.model_validate(p, from_attributes=True) for p in d.points],
                lines=[LineReportOut.model_validate(x, from_attributes=True) for x in d.lines],
            )

        return cls(
            start=report.start,
            end=report.end,
            units=[
                UnitReportOut(
                    unit=u.unit,
                    zone=u.zone,
                    patrol_km=round(u.patrol_km, 3),
                    patrol_min=round(u.patrol_min, 2),
                    outside_zone_min=round(u.outside_zone_min, 2),
                    check_ins=len(u.check_ins),
                    duty=duty(u.duty),
                )
                for u in report.units
            ],
            zones=[
                ZoneReportOut(
                    zone=z.zone,
                    units=list(z.units),
                    patrol_km=round(z.patrol_km, 3),
                    patrol_min=round(z.patrol_min, 2),
                    outside_zone_min=round(z.outside_zone_min, 2),
                    duty=duty(z.duty),
                )
                for z in report.zones
            ],
        )
