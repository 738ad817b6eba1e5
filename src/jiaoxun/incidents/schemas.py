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
from jiaoxun.inputs import Input, Instant, Lat, Lon
from jiaoxun.units.status import UnitStatus

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

Text = Annotated[str, StringConstraints(max_length=2000)]
Short = Annotated[str, StringConstraints(max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class IncidentIn(Input):
    """A 110 intake: where, what, who called."""

    lon: Lon
    lat: Lat
    datum: Datum = Datum.WGS84
    category_code: Code
    priority: Annotated[int, Field(ge=1, le=4)] | None = None
    source: Source = Source.POLICE_110
    caller_name: Annotated[str, StringConstraints(max_length=50)] = ""
    caller_phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{0,20}$")] = ""
    address: Short = ""
    description: Text = ""
    flags: Annotated[
        list[Annotated[str, StringConstraints(max_length=30)]],
        Field(max_length=10, default_factory=list),
    ]
    #: when the call came in (now when not given): at most `call_max_age_h` ago, not ahead
    call_at: Instant | None = None


class DispatchIn(Input):
    unit_ids: Annotated[list[RowId], Field(min_length=1, max_length=20)]
    reason: Short = ""


class OrderStatusIn(Input):
    state: OrderState
    reason: Short = ""
    feedback: Text = ""


class CloseIn(Input):
    outcome_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    outcome_text: Text = ""


class ReasonIn(Input):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MergeIn(Input):
    into: RowId
    reason: Short = ""


class ReassignIn(Input):
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
    #: the arrival that decided it: "gps" (the unit's fix at the scene), "report" (the officer)
    arrival_source: str | None = None


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
    #: when the order, not acknowledged within the limit, was raised to the dispatcher (kept
    #: once acknowledged late: the record)
    escalated_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    #: the time of the unit's first fix within the arrival distance of the scene
    gps_arrived_at: datetime | None
    done_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    overdue: bool
    #: the forecast judged: the GPS-proved travel time (gps_arrived_at − issued_at), seconds,
    #: beside the predicted `eta_s`
    gps_travel_s: float | None
    #: arrived_at − gps_arrived_at, seconds; flagged when beyond the configured gap
    arrival_gap_s: float | None
    arrival_gap_flagged: bool


class RouteOut(BaseModel):
    """The road route of a unit to an incident (WGS-84 [lon, lat] points)."""

    unit_id: int
    incident_id: int
    eta_s: float
    length_m: float
    coordinates: list[Annotated[list[float], Field(min_length=2, max_length=2)]]


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


class CategoryPatch(Input):
    name_zh: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    name_en: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    priority: Annotated[int, Field(ge=1, le=4)] | None = None
    active: bool | None = None


class CategoryNew(Input):
    code: Code
    name_zh: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    name_en: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    priority: Annotated[int, Field(ge=1, le=4)]


class PlanIO(Input):
    """A response plan (run card) for a top-level category ("*": any) and a priority (0: any)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    top_code: Annotated[str, StringConstraints(pattern=r"^(\d{6}|\*)$")]
    priority: Annotated[int, Field(ge=0, le=4)]
    units: Annotated[int, Field(ge=1, le=10)]
    distinct_zones: bool


class TierIO(Input):
    """A 1-3-5 tier: who must arrive within how many minutes, where."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    bound_min: Annotated[float, Field(gt=0, le=120)]
    applies_to: Applies
    place_classes: Annotated[
        list[Annotated[str, StringConstraints(max_length=20)]],
        Field(max_length=10, default_factory=list),
    ]
    zones: Annotated[
        list[Annotated[str, StringConstraints(max_length=20)]],
        Field(max_length=50, default_factory=list),
    ]
