"""What goes in and out of the activity API: one body per kind, told apart by `kind`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from jiaoxun.activities.models import ActivityKind, Assistance, StopCheckResult, Violation
from jiaoxun.db import MAX_ID
from jiaoxun.inputs import Input, Lat, Lon

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # plates use no I and no O
#: a mainland number plate: province, issuing-office letter, then 5 characters (ordinary: letters
#: and digits, the last may be 挂学警港澳), or 6 for a new-energy car (D or F first when small,
#: last when large)
PLATE = re.compile(
    rf"[{PROVINCES}][{_LETTER}]"
    rf"(?:[{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]"
    rf"|[DF][{_LETTER}0-9][0-9]{{4}}"
    rf"|[0-9]{{5}}[DF])"
)


def _plate_written(value: Any) -> Any:
    # as officers write plates: "黑a·12345", "黑A 12345"
    if isinstance(value, str):
        return re.sub(r"[\s·.\-]", "", value).upper()
    return value


def _plate_checked(value: str) -> str:
    if not PLATE.fullmatch(value):
        raise ValueError(
            f"plate {value!r} is not a Chinese number plate: a province character, a letter, "
            "then 5 letters or digits (黑A12345), or 6 for a new-energy car (黑AD12345)"
        )
    return value


Plate = Annotated[str, BeforeValidator(_plate_written), AfterValidator(_plate_checked)]
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
