"""What the violation API takes and gives: the code table, violations, plates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from jiaoxun.db import MAX_ID
from jiaoxun.inputs import Input, Instant, Lat, Lon

POINTS = (0, 1, 3, 6, 9, 12)  # 163号令 Art. 8: the only point values
Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,10}$")]
Yuan = Annotated[float, Field(ge=0, le=100_000)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
PlateText = Annotated[str, StringConstraints(min_length=1, max_length=20)]
EngineTail = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9A-Za-z]{6}$"),
    Field(description="the engine number's last 6 letters or digits (registration card)"),
]


def check_points(value: int | None) -> None:
    if value is not None and value not in POINTS:
        raise ValueError(f"points are one of {POINTS} (163号令 Art. 8), got {value}")


def check_fines(low: float | None, fine: float | None, high: float | None) -> None:
    if None not in (low, fine, high) and not low <= fine <= high:  # type: ignore[operator]
        raise ValueError(
            f"fine_min_yuan <= fine_yuan <= fine_max_yuan, got {low} <= {fine} <= {high}"
        )


class CodeFields(Input):
    name_zh: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name_en: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    points: int
    fine_min_yuan: Yuan
    fine_max_yuan: Yuan
    fine_yuan: Yuan
    law: Annotated[str, StringConstraints(max_length=300)] = ""
    province: Annotated[str, StringConstraints(max_length=10)] = "吉林省"
    source: Annotated[str, StringConstraints(max_length=500)] = ""
    active: bool = True

    @model_validator(mode="after")
    def _rules(self) -> CodeFields:
        check_points(self.points)
        check_fines(self.fine_min_yuan, self.fine_yuan, self.fine_max_yuan)
        return self


class CodeIn(CodeFields):
    """A new code of the table."""

    code: Code


class CodeChange(Input):
    """The fields given are set; refused if the code changed since `version` was read."""

    version: Annotated[int, Field(ge=1)]
    name_zh: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    name_en: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    points: int | None = None
    fine_min_yuan: Yuan | None = None
    fine_max_yuan: Yuan | None = None
    fine_yuan: Yuan | None = None
    law: Annotated[str, StringConstraints(max_length=300)] | None = None
    province: Annotated[str, StringConstraints(max_length=10)] | None = None
    source: Annotated[str, StringConstraints(max_length=500)] | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _rules(self) -> CodeChange:
        check_points(self.points)
        return self


class CodeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    points: int
    fine_min_yuan: float
    fine_max_yuan: float
    fine_yuan: float
    law: str
    province: str
    source: str
    active: bool
    version: int


class ViolationIn(Input):
    plate: PlateText
    code: Code
    unit_id: RowId
    lon: Lon
    lat: Lat
    place: Annotated[str, StringConstraints(max_length=200)] = ""
    at: Instant | None = None
    engine_tail: EngineTail | None = None
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    accident_id: RowId | None = None


class PhotoOut(BaseModel):
    id: int
    kind: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_at: datetime
    uploaded_by: str


class ViolationOut(BaseModel):
    id: int
    number: str
    plate: str
    plate_kind: str
    code: str
    code_version: int
    name_zh: str
    name_en: str
    points: int
    fine_yuan: float
    at: datetime
    recorded_at: datetime
    lon: float
    lat: float
    place: str
    unit_id: int | None
    call_sign: str | None
    zone: str | None
    recorded_by: str
    state: str
    decision_number: str
    decided_at: datetime | None
    paid_at: datetime | None
    note: str
    version: int
    photos: list[PhotoOut]


class PlateIn(Input):
    plate: PlateText


class PlateOut(BaseModel):
    plate: str
    kind: str
    zh: str
    en: str


class LookupOut(BaseModel):
    plate: str
    violations: list[ViolationOut]


class DecideIn(Input):
    version: Annotated[int, Field(ge=1)]
    decision_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None
    ) = None


class PayIn(Input):
    version: Annotated[int, Field(ge=1)]


ViolationStateName = Literal["pending", "decided", "paid"]
