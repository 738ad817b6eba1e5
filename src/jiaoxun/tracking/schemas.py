"""What goes in and out of the tracking API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
from jiaoxun.tracking.compliance import DutyReport, ShiftReport, Times

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
    arrived_at: datetime
    checked_in_at: datetime
    manual: bool
    #: a manual check-in the unit's track does not prove is shown, never counted as a visit
    proved: bool


Status = Literal["done", "pending", "overdue", "late", "missed"]


class WindowOut(BaseModel):
    start: datetime
    end: datetime
    visited_at: datetime | None
    status: Status


class PointReportOut(BaseModel):
    point_id: int
    required: int
    visits: int
    unproved: int
    first_at: datetime | None
    late: bool
    missed: bool
    status: Status
    windows: list[WindowOut]


class LineReportOut(BaseModel):
    line_id: int
    length_m: float
    covered: float
    passes: int
    required_passes: int
    status: Status


class DutyOut(BaseModel):
    visits_done: int
    visits_required: int
    late: list[int]
    missed: list[int]
    line_coverage: float
    points: list[PointReportOut]
    lines: list[LineReportOut]

    @classmethod
    def of(cls, d: DutyReport) -> DutyOut:
        return cls(
            visits_done=d.visits_done,
            visits_required=d.visits_required,
            late=list(d.late),
            missed=list(d.missed),
            line_coverage=round(d.line_coverage, 4),
            points=[
                PointReportOut(
                    point_id=p.point_id,
                    required=p.required,
                    visits=p.visits,
                    unproved=p.unproved,
                    first_at=p.first_at,
                    late=p.late,
                    missed=p.missed,
                    status=p.status,
                    windows=[WindowOut.model_validate(w, from_attributes=True) for w in p.windows],
                )
                for p in d.points
            ],
            lines=[
                LineReportOut(
                    line_id=x.line_id,
                    length_m=round(x.length_m, 1),
                    covered=round(x.covered, 4),
                    passes=x.passes,
                    required_passes=x.required_passes,
                    status=x.status,
                )
                for x in d.lines
            ],
        )


class TimesOut(BaseModel):
    """On patrol, on dispatch orders (dispatched to done), and out of the home zone on patrol
    (unauthorised: a car sent elsewhere is on an order)."""

    patrol_km: float
    patrol_min: float
    order_km: float
    order_min: float
    outside_zone_min: float

    @classmethod
    def of(cls, t: Times) -> TimesOut:
        return cls(
            patrol_km=round(t.patrol_km, 3),
            patrol_min=round(t.patrol_min, 2),
            order_km=round(t.order_km, 3),
            order_min=round(t.order_min, 2),
            outside_zone_min=round(t.outside_zone_min, 2),
        )


class UnitReportOut(BaseModel):
    unit_id: int
    unit: str
    zone: str
    times: TimesOut
    check_ins: int
    unproved_check_ins: int
    #: the roads are map-matched up to this fix; later driving shows within a minute
    roads_as_of: datetime | None
    duty: DutyOut


class ZoneReportOut(BaseModel):
    zone: str
    units: list[str]
    times: TimesOut
    duty: DutyOut


class ShiftReportOut(BaseModel):
    start: datetime
    end: datetime
    units: list[UnitReportOut]
    zones: list[ZoneReportOut]

    @classmethod
    def of(cls, report: ShiftReport) -> ShiftReportOut:
        return cls(
            start=report.start,
            end=report.end,
            units=[
                UnitReportOut(
                    unit_id=u.unit_id,
                    unit=u.unit,
                    zone=u.zone,
                    times=TimesOut.of(u.times),
                    check_ins=sum(1 for c in u.check_ins if c.proved),
                    unproved_check_ins=sum(1 for c in u.check_ins if not c.proved),
                    roads_as_of=u.roads_as_of,
                    duty=DutyOut.of(u.duty),
                )
                for u in report.units
            ],
            zones=[
                ZoneReportOut(
                    zone=z.zone,
                    units=list(z.units),
                    times=TimesOut.of(z.times),
                    duty=DutyOut.of(z.duty),
                )
                for z in report.zones
            ],
        )
