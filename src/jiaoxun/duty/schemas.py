"""What the duty routes take and give."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from jiaoxun.db import MAX_ID
from jiaoxun.duty.models import AbsenceKind, BrigadeKind, Post, RosterState
from jiaoxun.inputs import Input
from jiaoxun.services.models import DayKind
from jiaoxun.units.models import OfficerKind

ShiftCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,4}$")]
PatternCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,20}$")]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class BrigadeOut(BaseModel):
    id: int
    code: str
    name: str
    kind: BrigadeKind


class OfficerOut(BaseModel):
    id: int
    badge: str
    name: str
    kind: OfficerKind
    rank: str
    brigade_id: int | None
    kiosk_id: int | None
    team: int | None
    traffic: bool
    patrol: bool
    accident: bool
    licence: str
    active: bool
    unit_id: int | None = Field(description="the car he is on now")


class OfficerChange(Input):
    """The fields to change; the others stay."""

    rank: Annotated[str, StringConstraints(max_length=30)] | None = None
    kiosk_id: Id | None = None
    team: Annotated[int, Field(ge=0, le=20)] | None = None
    traffic: bool | None = None
    patrol: bool | None = None
    accident: bool | None = None
    licence: Annotated[str, StringConstraints(pattern=r"^([A-D][1-3]?|[MNP]|)$")] | None = None
    active: bool | None = None


class PatternOut(BaseModel):
    code: str
    builtin: bool
    version: int
    body: dict[str, Any]


class PatternIn(Input):
    body: dict[str, Any] = Field(description="the pattern: code, names, shifts, teams, cycle")
    version: Annotated[int, Field(ge=0)] = Field(0, description="0 for a new pattern")


class DemandIn(Input):
    kiosk_id: Id
    shift: ShiftCode
    day_kind: DayKind
    cars: Annotated[int, Field(ge=0, le=20)]
    crew: Annotated[int, Field(ge=1, le=6)] = 2
    counter: Annotated[int, Field(ge=0, le=20)] = 0
    patrol: Annotated[int, Field(ge=0, le=50)] = 0


class DemandsIn(Input):
    pattern: PatternCode
    demands: Annotated[list[DemandIn], Field(min_length=1, max_length=2000)]


class DemandOut(BaseModel):
    id: int
    pattern_code: str
    kiosk_id: int
    shift: str
    day_kind: DayKind
    cars: int
    crew: int
    counter: int
    patrol: int
    version: int


class AbsenceIn(Input):
    officer_id: Id
    kind: AbsenceKind
    first_day: date
    last_day: date
    shift: ShiftCode | None = None
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


class AbsenceOut(BaseModel):
    id: int
    officer_id: int
    kind: AbsenceKind
    first_day: date
    last_day: date
    shift: str | None
    reason: str
    created_by: str


class SolveIn(Input):
    month: Month
    pattern: PatternCode
    time_limit_s: Annotated[float, Field(gt=0, le=120)] = 30.0
    min_rest_hours: Annotated[float, Field(ge=0, le=24)] = 11.0
    max_consecutive_days: Annotated[int, Field(ge=1, le=14)] = 6
    max_hours_per_week: Annotated[float, Field(ge=8, le=84)] | None = 48.0


class PublishIn(Input):
    version: Annotated[int, Field(ge=1)]


class RosterOut(BaseModel):
    id: int
    month: date
    pattern_code: str
    state: RosterState
    status: str
    objective: float | None
    bound: float | None
    gap: float | None = Field(description="(objective - bound) / objective: 0 proves it optimal")
    wall_s: float
    why: list[str]
    rules: dict[str, Any]
    shifts: int
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    version: int


class DutyShiftOut(BaseModel):
    officer_id: int
    day: date
    shift: str
    starts_at: datetime
    ends_at: datetime
    kiosk_id: int
    post: Post
    unit_id: int | None
    call_sign: str | None
    role: str | None


class CalendarOut(BaseModel):
    """A roster as a calendar: its days, its officers, one cell per officer and working day."""

    roster: RosterOut
    days: list[date]
    officers: list[OfficerOut]
    shifts: list[DutyShiftOut]


class SwapIn(Input):
    leaves: Id | None = Field(None, description="the officer who leaves the car")
    joins: Id | None = Field(None, description="the officer who joins it")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CrewOut(BaseModel):
    unit_id: int
    call_sign: str
    status: str
    kiosk_id: int | None
    crew: list[OfficerOut]


class FlagOut(BaseModel):
    """An officer on duty whose device is silent or far from his post."""

    officer_id: int
    badge: str
    name: str
    shift: str
    post: Post
    unit_id: int | None
    kiosk_id: int
    flag: str = Field(description="no_device, silent, away")
    detail: str
