"""What the kiosk services' API takes and gives: bookings (the citizen page), the catalogue and
opening hours, the counter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
    plate: str = Field(min_length=1, max_length=12)
    engine_tail: str = Field(min_length=6, max_length=6, description="the engine number's last 6")


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


class ViolationLookupOut(BaseModel):
    available: bool
    message_zh: str
    message_en: str


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


class CounterStatsOut(BaseModel):
    served_today: int
    booked_served: int
    walk_in_served: int
    mean_wait_s: float | None = Field(description="per ticket served today; none when none was")
    travel_saved_yuan: float
    served_total: int
    travel_saved_total_yuan: float


class TodayOut(BaseModel):
    kiosk: CounterKioskOut
    staffed: bool
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
    waiting: int
    serving: int = Field(description="tickets called or at the counter")
    booked_today: int
    served_today: int


class PublicKioskOut(BaseModel):
    id: int
    name: str
    landmark: str
    lon: float
    lat: float
    zone_code: str | None
    staffed: bool
    waiting: int
