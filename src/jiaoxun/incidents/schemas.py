"""What goes in and out of the incident API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jiaoxun.db import MAX_ID
from jiaoxun.geo.coords import Datum
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.models import Source
from jiaoxun.incidents.targets import Applies
from jiaoxun.units.status import UnitStatus

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

Text = Annotated[str, StringConstraints(max_length=2000)]
Short = Annotated[str, StringConstraints(max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class IncidentIn(BaseModel):
    """A 110 intake: where, what, who called."""

    model_config = ConfigDict(extra="forbid")

    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    datum: Datum = Datum.WGS84
    category_code: Code
    priority: Annotated[int, Field(ge=1, le=4)] | None = None
    source: Source = Source.POLICE_110
    caller_name: Annotated[str, StringConstraints(max_length=50)] = ""
    caller_phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{0,20}$")] = ""
    address: Short = ""
    description: Text = ""
    flags: Annotated[
        list[Annotated[str, StringConstraints(max_length=30)]], Field(max_length=10)
    ] = []
    call_at: datetime | None = None  # when the call came in; now when not given


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ids: Annotated[list[RowId], Field(min_length=1, max_length=20)]
    reason: Short = ""


class OrderStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: OrderState
    reason: Short = ""
    feedback: Text = ""


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    outcome_text: Text = ""


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: RowId
    reason: Short = ""


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: RowId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class VerdictOut(BaseModel):
    tier: str
    bound_s: float
    applies_to: Applies
    from_dispatch_s: float | None
    from_call_s: float | None
    met_from_dispatch: bool | None
    met_from_call: bool | None


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    unit_id: int
    call_sign: str
    state: OrderState
    eta_s: float | None
    issued_by: str
    feedback: str
    issued_at: datetime
    acknowledged_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    done_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    overdue: bool


class DuplicateOut(BaseModel):
    incident_id: int
    number: str
    distance_m: float
    minutes_apart: float


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    state: IncidentState
    source: Source
    category_code: str
    category_name: str
    priority: int
    lon: float
    lat: float
    address: str
    caller_name: str
    caller_phone: str
    description: str
    flags: list[str]
    zone: str | None
    place_class: str | None
    required_units: int
    distinct_zones: bool
    main_incident_id: int | None
    outcome_code: str
    outcome_text: str
    created_by: str
    call_at: datetime
    taken_at: datetime | None
    dispatched_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    reported_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    merged_at: datetime | None
    transferred_at: datetime | None


class TimelineEntry(BaseModel):
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: str
    from_state: str | None
    to_state: str | None
    reason: str


class IncidentDetail(IncidentOut):
    orders: list[OrderOut]
    timeline: list[TimelineEntry]
    verdicts: list[VerdictOut]
    duplicates: list[DuplicateOut] = []


class CandidateOut(BaseModel):
    unit_id: int
    call_sign: str
    zone: str | None
    status: UnitStatus
    eligible: bool
    reason: str
    eta_s: float | None
    same_zone: bool
    verdicts: list[VerdictOut]


class RecommendationOut(BaseModel):
    incident_id: int
    required_units: int
    distinct_zones: bool
    chosen: list[int]
    shortfall: int
    verdicts: list[VerdictOut]
    candidates: list[CandidateOut]


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    level: int
    parent_code: str | None
    priority: int


def verdicts_out(verdicts: Any) -> list[VerdictOut]:
    return [VerdictOut.model_validate(v, from_attributes=True) for v in verdicts]
