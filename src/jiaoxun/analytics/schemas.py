"""What the statistics API answers: a period's figures beside last year's and the previous
period's, the 1-3-5 record, the response-time chain, rankings and the defined rates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from jiaoxun.analytics.models import RecognitionKind
from jiaoxun.inputs import Instant

Text = Annotated[str, StringConstraints(max_length=2000)]

PeriodKind = Literal["day", "week", "month", "quarter", "year", "custom"]


class PeriodOut(BaseModel):
    """Local dates, both ends included."""

    kind: PeriodKind
    start: date
    end: date
    label: str
    days: int
    #: the holiday the same period last year was aligned on (同比), e.g. "Spring Festival"
    aligned_on: str | None = None
    note: str = ""  # e.g. the calendar did not know a year and the dates were used


class ScopeOut(BaseModel):
    kind: Literal["city", "zone", "kiosk", "unit"]
    code: str | None
    name: str


class TestOut(BaseModel):
    """The exact Poisson rate test of a change (conditional binomial, two-sided)."""

    p: float
    significant: bool  # p < 0.05
    text_zh: str
    text_en: str


class FigureOut(BaseModel):
    key: str
    label_zh: str
    label_en: str
    value: float
    last_year: float
    previous: float
    yoy_pct: float | None  # None when last year's is 0
    pop_pct: float | None
    yoy_test: TestOut | None  # None for a figure that is not a count (money)
    pop_test: TestOut | None
    #: False when the records under it do not exist yet (e.g. kiosk services before issue 15)
    available: bool = True
    unit: Literal["count", "yuan", "rate"] = "count"


class CategoryFigureOut(FigureOut):
    code: str


class TierOut(BaseModel):
    tier: str
    bound_min: float
    judged: int
    met: int
    rate: float | None
    met_from_call: int
    rate_from_call: float | None
    last_year_rate: float | None


class ChainStepOut(BaseModel):
    priority: int
    step: Literal[
        "call_to_dispatch",
        "dispatch_to_ack",
        "ack_to_departure",
        "travel",
        "on_scene",
        "call_to_arrival",
    ]
    n: int
    p50_s: float | None
    p90_s: float | None


class BucketOut(BaseModel):
    measure: Literal["acknowledgement", "departure", "feedback"]
    bucket: str  # "0-30 s" …
    count: int
    share: float | None


class UnitRankOut(BaseModel):
    rank: int
    unit: str
    zone: str | None
    orders: int
    arrived: int
    median_response_s: float | None
    met_rate: float | None
    activities: int


class ZoneRankOut(BaseModel):
    rank: int
    zone: str
    name: str
    incidents: int
    last_year: int
    yoy_pct: float | None
    median_response_s: float | None
    met_rate: float | None


class RateOut(BaseModel):
    """A defined rate (见警率, 盘查率, 管事率): its value and its definition, shown beside it."""

    key: Literal["visibility", "stop_check", "intervention"]
    label_zh: str
    label_en: str
    value: float | None
    last_year: float | None
    previous: float | None
    unit_zh: str
    unit_en: str
    definition_zh: str
    definition_en: str


class TrendPointOut(BaseModel):
    label: str  # the bucket's first local date
    this: int
    last_year: int


class TrendOut(BaseModel):
    bucket: Literal["day", "week", "month"]
    points: list[TrendPointOut]


class BinOut(BaseModel):
    from_s: float
    to_s: float
    count: int


class DistributionOut(BaseModel):
    """Response times (from dispatch) of one tier's verdicts, binned, with the tier's bound."""

    tier: str
    bound_min: float
    judged: int
    met: int
    bins: list[BinOut]


class SummaryOut(BaseModel):
    period: PeriodOut
    last_year: PeriodOut
    previous: PeriodOut
    scope: ScopeOut
    #: the records counted, by origin (live, imported, simulated)
    origins: dict[str, int]
    figures: list[FigureOut]
    categories: list[CategoryFigureOut]
    #: the watched categories (robbery, snatching, gang fight …) with no case in the period
    zero_categories: list[CategoryFigureOut]
    tiers: list[TierOut]
    chain: list[ChainStepOut]
    buckets: list[BucketOut]
    units: list[UnitRankOut]
    zones: list[ZoneRankOut]
    rates: list[RateOut]
    trend: TrendOut
    distributions: list[DistributionOut]
    computed_ms: float


class RecognitionIn(BaseModel):
    kind: RecognitionKind
    at: Instant
    zone: Annotated[str, StringConstraints(max_length=20)] | None = None
    unit: Annotated[str, StringConstraints(max_length=30)] | None = None
    incident_number: Annotated[str, StringConstraints(max_length=30)] | None = None
    giver: Annotated[str, StringConstraints(max_length=100)] = ""
    text: Text = ""


class RecognitionOut(BaseModel):
    id: int
    kind: RecognitionKind
    at: datetime
    zone: str | None
    unit: str | None
    incident_number: str | None
    giver: str
    text: str
    recorded_by: str


class CalendarDayIn(BaseModel):
    workday: bool
    holiday: Annotated[str, StringConstraints(max_length=40)] = ""
    note: Text = ""


class CalendarDayOut(CalendarDayIn):
    day: date


class HeatOut(BaseModel):
    """GeoJSON: road pieces with the incidents nearest to them in the period."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, object]] = Field(default_factory=list)
    max_count: int = 0
