"""What the kiosk services' API takes and gives: bookings (the citizen page), the catalogue and
opening hours, the counter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jiaoxun.services.models import DayKind, ServiceKind

# --- bookings ---

KioskId = Annotated[int, Field(ge=1, le=2_147_483_647)]
ServiceCode = Annotated[str, Field(min_length=1, max_length=20)]
Code = Annotated[str, Field(min_length=1, max_length=40, description="the booking code")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HoldIn(_In):
    kiosk_id: KioskId
    service: ServiceCode
    starts_at: AwareDatetime


class CitizenIn(_In):
    name: str = Field(max_length=60)
    id_number: str = Field(max_length=40, description="居民身份证号 (GB 11643)")
    phone: str = Field(max_length=30, description="a mainland mobile number")


class BookingIn(CitizenIn):
    kiosk_id: KioskId
    service: ServiceCode
    starts_at: AwareDatetime
    code: Code | None = Field(default=None, description="the code of a hold to book")


class CodeIn(_In):
    code: Code


class ChangeIn(CodeIn):
    starts_at: AwareDatetime


class WaitlistIn(CitizenIn):
    kiosk_id: KioskId
    service: ServiceCode
    day: date


class NearestIn(_In):
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, min_length=1, max_length=100)


class ViolationLookupIn(_In):
    plate: str = Field(min_length=1, max_length=20, description="as written: 吉A·12345")
    engine_tail: str = Field(
        pattern=r"^[0-9A-Za-z]{6}$", description="the engine number's last 6 letters or digits"
    )


class SlotOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    local_time: str
    after_hours: bool
    capacity: int
    free: int


class DayOut(BaseModel):
    date: date
    day_kind: str
    holiday: str | None
    assumed: bool = Field(description="the calendar does not know the day: weekday rule")
    slots: list[SlotOut]


class SlotsOut(BaseModel):
    kiosk_id: int
    service: str
    calendar_note: str
    days: list[DayOut]


class HoldOut(BaseModel):
    code: str
    expires_at: datetime
    slot: SlotOut


class MessageOut(BaseModel):
    kind: str
    text_zh: str
    text_en: str
    at: datetime


class BookingOut(BaseModel):
    kiosk_id: int
    kiosk_name: str
    service: str
    service_name_zh: str
    service_name_en: str
    starts_at: datetime
    ends_at: datetime
    state: str
    hold_expires_at: datetime | None
    name_masked: str
    id_masked: str
    phone_masked: str
    messages: list[MessageOut]


class BookedOut(BaseModel):
    code: str = Field(description="shown once: the key to check in, change or cancel")
    booking: BookingOut


class WaitingOut(BaseModel):
    code: str
    kiosk_id: int
    service: str
    day: date
    state: str


class NearKioskOut(BaseModel):
    id: int
    name: str
    landmark: str
    lon: float
    lat: float
    travel_time_s: float
    distance_m: float


class OriginOut(BaseModel):
    lon: float
    lat: float
    label: str


class NearestOut(BaseModel):
    origin: OriginOut
    kiosks: list[NearKioskOut]


class PublicViolationOut(BaseModel):
    """A violation as its owner sees it: no officer, unit or coordinates."""

    number: str
    at: datetime
    place: str
    code: str
    name_zh: str
    name_en: str
    points: int
    fine_yuan: float
    state: str


class ViolationLookupOut(BaseModel):
    available: bool
    message_zh: str
    message_en: str
    violations: list[PublicViolationOut] = Field(default_factory=list)


# --- counter ---


class WalkInIn(_In):
    service: ServiceCode
    priority: bool = False


class CallNextIn(_In):
    services: list[ServiceCode] = Field(
        default_factory=list, max_length=50, description="only these services (default: any)"
    )


class TransferIn(_In):
    service: ServiceCode


class DoneIn(_In):
    services: list[ServiceCode] = Field(min_length=1, max_length=20, description="services done")


class TicketOut(BaseModel):
    id: int
    number: str
    service: str
    priority: bool
    booked: bool
    state: str
    issued_at: datetime
    called_at: datetime | None
    serving_at: datetime | None
    recalls: int
    slot_starts_at: datetime | None
    transferred_from_id: int | None


class CounterKioskOut(BaseModel):
    id: int
    name: str


class CounterOut(BaseModel):
    kiosk: CounterKioskOut
    staffed: bool
    clerk: str


class CounterBookingOut(BaseModel):
    id: int
    service: str
    starts_at: datetime
    state: str
    name_masked: str
    id_masked: str
    phone_masked: str
    #: booked, due within two hours, and no one at the counter
    flagged: bool = False


class CounterStatsOut(BaseModel):
    served_today: int
    booked_served: int
    walk_in_served: int
    mean_wait_s: float | None = Field(description="per ticket served today; none when none was")
    travel_saved_yuan: float
    served_total: int
    travel_saved_total_yuan: float


class OnHandOut(BaseModel):
    """Who is at a kiosk now and where its cars are."""

    clerks: int = Field(description="clerks at an open counter")
    counter_officers: int = Field(
        description="officers the published roster has at the counter now"
    )
    cars: int
    crewed: int = Field(description="cars with a crew on duty")
    free: int = Field(description="crewed cars free for an order")
    standing_by: int = Field(description="crewed cars standing by at the kiosk")
    out: int = Field(description="cars out on an order")


class TodayOut(BaseModel):
    kiosk: CounterKioskOut
    staffed: bool
    on_hand: OnHandOut
    bookings: list[CounterBookingOut]
    tickets: list[TicketOut]
    stats: CounterStatsOut


class ServiceRecordOut(BaseModel):
    id: int
    service: str
    booked: bool
    waited_s: float
    served_s: float
    fee_yuan: float
    travel_saved_yuan: float


class DoneOut(BaseModel):
    ticket: TicketOut
    records: list[ServiceRecordOut]


class KioskStatusOut(BaseModel):
    kiosk_id: int
    name: str
    staffed: bool
    clerks: int = Field(description="clerks at an open counter")
    on_hand: OnHandOut
    waiting: int
    serving: int = Field(description="tickets called or at the counter")
    booked_today: int
    served_today: int
    flagged: int = Field(description="appointments due within two hours with no one at the counter")


class PublicKioskOut(BaseModel):
    id: int
    name: str
    landmark: str
    lon: float
    lat: float
    zone_code: str | None
    staffed: bool
    waiting: int


# --- catalogue and hours ---

ItemCode = Annotated[
    str, Field(pattern=r"^[A-Z]{2,4}-[0-9]{1,4}$", max_length=20, description='e.g. "JG-01"')
]
ClockTime = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", description="local HH:MM")
]
Channel = Literal["kiosk", "machine", "online"]
LongText = Annotated[str, Field(max_length=2000)]


class DocumentIn(_In):
    """A document the citizen brings."""

    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    form: Literal["original", "copy", "original_and_copy"]
    validity: str = Field(default="", max_length=100, description="e.g. 出具之日起六个月内")


class ItemFields(_In):
    """The fields of a catalogue item a commander may set (all of them but its code)."""

    kind: ServiceKind
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    eligible: LongText = ""
    excluded: LongText = ""
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)
    fee_yuan: float = Field(default=0.0, ge=0, le=100_000)
    fee_note: str = Field(default="", max_length=200)
    time_limit_days: int = Field(default=0, ge=0, le=365, description="0: done on the spot")
    channels: list[Channel] = Field(min_length=1, max_length=3)
    travel_saved_yuan: float = Field(default=0.0, ge=0, le=10_000)
    minutes: int = Field(default=20, ge=5, le=240, description="at the counter: the slot")
    bookable: bool = True
    active: bool = True
    source: str = Field(default="", max_length=500)


class ItemIn(ItemFields):
    """A new catalogue item."""

    code: ItemCode


class ItemChange(_In):
    """A change of a catalogue item: the fields given are set, the others kept. With `version`,
    the change is refused if the item changed since it was read."""

    version: int | None = Field(default=None, ge=1)
    kind: ServiceKind | None = None
    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    eligible: LongText | None = None
    excluded: LongText | None = None
    documents: list[DocumentIn] | None = Field(default=None, max_length=20)
    fee_yuan: float | None = Field(default=None, ge=0, le=100_000)
    fee_note: str | None = Field(default=None, max_length=200)
    time_limit_days: int | None = Field(default=None, ge=0, le=365)
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=3)
    travel_saved_yuan: float | None = Field(default=None, ge=0, le=10_000)
    minutes: int | None = Field(default=None, ge=5, le=240)
    bookable: bool | None = None
    active: bool | None = None
    source: str | None = Field(default=None, max_length=500)


class DocumentOut(BaseModel):
    name_zh: str
    name_en: str
    form: str
    validity: str


class PublicServiceOut(BaseModel):
    """A catalogue item as citizens see it."""

    code: str
    kind: str
    name_zh: str
    name_en: str
    eligible: str
    excluded: str
    documents: list[DocumentOut]
    fee_yuan: float
    fee_note: str
    time_limit_days: int
    channels: list[str]
    minutes: int
    bookable: bool


class ItemOut(PublicServiceOut):
    """A catalogue item as a commander edits it."""

    travel_saved_yuan: float
    active: bool
    source: str
    version: int


class WindowIn(_In):
    day_kind: DayKind
    starts: ClockTime
    ends: ClockTime
    after_hours: bool = False
    capacity: int = Field(default=2, ge=1, le=50, description="citizens a slot takes")


class HoursIn(_In):
    """The windows of a scope, replacing its rows: a kiosk or none (every kiosk), a service or
    none (every service). No windows: the scope falls back on the less specific one."""

    kiosk_id: KioskId | None = None
    service: ServiceCode | None = None
    windows: list[WindowIn] = Field(max_length=42)


class WindowOut(BaseModel):
    day_kind: str
    starts: str
    ends: str
    after_hours: bool
    capacity: int


class HoursOut(BaseModel):
    kiosk_id: int | None
    service: str | None
    windows: list[WindowOut]


class OpenWindowOut(BaseModel):
    starts: str
    ends: str
    after_hours: bool


class HoursDayOut(BaseModel):
    date: date
    day_kind: str
    holiday: str | None
    assumed: bool = Field(description="the calendar does not know the day: weekday rule")
    windows: list[OpenWindowOut]


class KioskHoursOut(BaseModel):
    kiosk_id: int
    service: str | None
    days: list[HoursDayOut]
