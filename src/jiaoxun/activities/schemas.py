"""What goes in and out of the activity API: one body per kind, told apart by `kind`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from jiaoxun.activities.models import ActivityKind, Assistance, StopCheckResult, Violation
from jiaoxun.db import MAX_ID
from jiaoxun.inputs import Input, Lat, Lon
from jiaoxun.traffic.plates import check_plate


def _plate_checked(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a plate is text, got {type(value).__name__}")
    return check_plate(value).plate


#: a plate of any GA 36 form, as officers write it ("黑a·12345"), checked by `traffic.plates`
Plate = Annotated[str, BeforeValidator(_plate_checked)]
Note = Annotated[str, StringConstraints(max_length=500)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
_COMMON = frozenset({"kind", "unit_id", "lon", "lat"})


class _ActivityIn(Input):
    unit_id: RowId
    lon: Lon
    lat: Lat
    note: Note = ""

    def details(self) -> dict[str, Any]:
        """What is particular to the kind, as stored in the `details` column."""
        return self.model_dump(mode="json", exclude=set(_COMMON))


class ViolationIn(_ActivityIn):
    """A traffic violation dealt with on the spot."""

    kind: Literal["violation"]
    plate: Plate
    violation: Violation


class AssistanceIn(_ActivityIn):
    """Help given to citizens."""

    kind: Literal["assistance"]
    assistance: Assistance
    people_helped: Annotated[int, Field(ge=1, le=100)]


class StopCheckIn(_ActivityIn):
    """A stop and check (盘查) of persons and vehicles."""

    kind: Literal["stop_check"]
    persons: Annotated[int, Field(ge=0, le=50)]
    vehicles: Annotated[int, Field(ge=0, le=50)]
    plate: Plate | None = None
    result: StopCheckResult

    @model_validator(mode="after")
    def _someone_checked(self) -> StopCheckIn:
        if self.persons + self.vehicles < 1:
            raise ValueError(
                f"persons + vehicles must be >= 1, got {self.persons} + {self.vehicles}"
            )
        return self


ActivityIn = Annotated[ViolationIn | AssistanceIn | StopCheckIn, Field(discriminator="kind")]


class ActivityOut(BaseModel):
    id: int
    kind: ActivityKind
    unit_id: int
    call_sign: str
    zone: str | None
    at: datetime
    lon: float
    lat: float
    recorded_by: str
    details: dict[str, Any]


class LabelOut(BaseModel):
    code: str
    zh: str
    en: str


class KindsOut(BaseModel):
    """The codes of each select on the officer's page, with their labels."""

    violation: list[LabelOut]
    assistance: list[LabelOut]
    stop_check_result: list[LabelOut]
