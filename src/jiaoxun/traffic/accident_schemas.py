"""What goes in and out of the accident API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from jiaoxun.db import MAX_ID
from jiaoxun.inputs import Input, Instant, Lat, Lon
from jiaoxun.traffic.models import (
    Collision,
    IdKind,
    Liability,
    PhotoKind,
    Procedure,
    SceneStep,
    Weather,
)

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Answers = dict[str, bool | int]


class QuestionOut(BaseModel):
    key: str
    zh: str
    en: str
    kind: str
    default: bool | int


class QuestionsOut(BaseModel):
    questions: list[QuestionOut]


class EligibilityIn(Input):
    answers: Answers = Field(default_factory=dict, max_length=50)


class ReasonOut(BaseModel):
    rule: str
    zh: str
    en: str


class DecisionOut(BaseModel):
    procedure: Procedure
    reasons: list[ReasonOut]
    answers: Answers


class AccidentIn(Input):
    """An accident as the officer or call-taker first records it on the street."""

    incident_id: RowId | None = None
    unit_id: RowId
    lon: Lon
    lat: Lat
    place: Short = ""
    occurred_at: Instant | None = None
    weather: Weather
    collision: Collision
    collision_point: Short = ""
    damage: Text = ""
    answers: Answers = Field(default_factory=dict, max_length=50)
    note: Text = ""


class PartyIn(Input):
    name: Annotated[str, StringConstraints(max_length=60)]
    id_kind: IdKind = IdKind.RESIDENT_ID
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)]
    phone: Annotated[str, StringConstraints(max_length=30)]
    injured: bool = False
    vehicle_type: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    plate: Annotated[str, StringConstraints(max_length=20)] = ""
    insurer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    policy_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    liability: Liability | None = None


class PartiesIn(Input):
    version: Version
    parties: Annotated[list[PartyIn], Field(min_length=1, max_length=20)]


class StepIn(Input):
    step: SceneStep
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class SignatureIn(Input):
    seq: Annotated[int, Field(ge=1, le=20)]
    name: Annotated[str, StringConstraints(max_length=60)] = ""
    refused: bool = False


class ReassessIn(Input):
    version: Version
    answers: Answers = Field(default_factory=dict, max_length=50)


class SettleIn(Input):
    version: Version


class HandOverIn(Input):
    version: Version
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PartyOut(BaseModel):
    seq: int
    name: str
    id_kind: IdKind
    id_number: str
    phone: str
    injured: bool
    vehicle_type: str
    plate: str
    insurer: str
    policy_number: str
    liability: Liability | None
    signed_name: str
    signed_at: datetime | None
    refused: bool


class StepOut(BaseModel):
    step: SceneStep
    done_at: datetime
    done_by: str
    note: str


class PhotoOut(BaseModel):
    id: int
    kind: PhotoKind
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_at: datetime
    uploaded_by: str


class AccidentOut(BaseModel):
    id: int
    number: str
    incident_id: int | None
    unit_id: int | None
    call_sign: str | None
    zone: str | None
    state: str
    procedure: Procedure
    reasons: list[ReasonOut]
    answers: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    lon: float
    lat: float
    place: str
    road: str
    weather: Weather
    collision: Collision
    collision_point: str
    damage: str
    injured: int
    killed: int
    agreement_number: str
    ruling_number: str
    settled_at: datetime | None
    handed_over_at: datetime | None
    handed_over_to: str
    note: str
    version: int
    parties: list[PartyOut]
    steps: list[StepOut]
    photos: list[PhotoOut]
    missing_photos: list[PhotoKind]
    missing_steps: list[SceneStep]
