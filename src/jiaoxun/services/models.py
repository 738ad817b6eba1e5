"""Tables of the kiosks' citizen services.

A *slot* is one appointment window of one service at one kiosk (20 minutes, 2 places); its
`taken` counter is raised by one guarded UPDATE, so two citizens racing for the last place
cannot both get it on SQLite or PostgreSQL. A *booking* holds a place from the hold (while the
citizen fills in the form) to the visit. A *ticket* is a place in the counter's queue, for a
walk-in or a booked citizen who checked in. A *service record* is a service done: the kiosk's
count and the travel it saved come from these and nothing else.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime, str_enum


class ServiceKind(enum.StrEnum):
    TRAFFIC = "traffic"  # 交管
    HOUSEHOLD = "household"  # 户政
    ONLINE = "online"  # 互联网+公安


class DayKind(enum.StrEnum):
    WORKDAY = "workday"  # 工作日, make-up working days (调休) included
    RESTDAY = "restday"  # 周末 that is not a working day
    HOLIDAY = "holiday"  # 法定节假日


class ServiceItem(Base):
    """One item of the catalogue: what it is, who may use it, what to bring, what it costs, how
    long it takes, where it can be done and how much travel doing it at a kiosk saves."""

    __tablename__ = "service_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind, length=10))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    eligible: Mapped[str] = mapped_column(Text, default="")  # 办理对象
    excluded: Mapped[str] = mapped_column(Text, default="")  # 不予受理情形
    #: [{"name_zh", "name_en", "form": original|copy|original_and_copy, "validity"}]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fee_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    fee_note: Mapped[str] = mapped_column(String(200), default="")
    #: 办结时限 in working days; 0 is done on the spot (即办)
    time_limit_days: Mapped[int] = mapped_column(Integer, default=0)
    #: where it can be done: kiosk (窗口), machine (自助机), online (网上办, postal return)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the citizen's round trip to the central office avoided, in yuan
    travel_saved_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    #: minutes at the counter, the length of its appointment slot
    minutes: Mapped[int] = mapped_column(Integer, default=20)
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class OpeningHours(Base):
    """One window in which a kiosk serves, by kind of day. A row names a kiosk or none (every
    kiosk) and a service or none (every service); the most specific rows of a day's kind win."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk.id", ondelete="CASCADE"))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_item.id", ondelete="CASCADE")
    )
    day_kind: Mapped[DayKind] = mapped_column(str_enum(DayKind, length=10))
    starts: Mapped[str] = mapped_column(String(5))  # local HH:MM
    ends: Mapped[str] = mapped_column(String(5))
    #: outside the 8 working hours (延时服务, 节假日预约): shown as such to citizens
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    #: citizens one slot of this window takes (counters open)
    capacity: Mapped[int] = mapped_column(Integer, default=2)


class Slot(Base):
    """An appointment window of one service at one kiosk, made when first booked."""

    __tablename__ = "service_slot"
    __table_args__ = (UniqueConstraint("kiosk_id", "service_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service_item.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class BookingState(enum.StrEnum):
    HELD = "held"  # a place kept while the citizen fills in the form, or offered from the list
    BOOKED = "booked"
    CHECKED_IN = "checked_in"  # at the kiosk, with a ticket in the queue
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # a hold or an offer not confirmed in time


#: the states that keep a place in their slot
ACTIVE_BOOKING = (BookingState.HELD, BookingState.BOOKED, BookingState.CHECKED_IN)


class Booking(Base):
    """An appointment. The citizen proves it is his with its code (shown once; only its hash is
    kept); his ID number is kept as a keyed hash and a masked form, his phone only while the
    booking is open."""

    __tablename__ = "booking"
    __table_args__ = (
        Index(
            "uq_booking_active_citizen",
            "service_id",
            "citizen_sha256",
            unique=True,
            sqlite_where=text("state IN ('held', 'booked', 'checked_in')"),
            postgresql_where=text("state IN ('held', 'booked', 'checked_in')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("service_slot.id"), index=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    state: Mapped[BookingState] = mapped_column(str_enum(BookingState, length=12))
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: a hash of the client address that asked for a hold: a few open holds per address
    holder_sha256: Mapped[str | None] = mapped_column(String(64))
    citizen_sha256: Mapped[str | None] = mapped_column(String(64))
    name_masked: Mapped[str] = mapped_column(String(40), default="")
    id_masked: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    hold_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    booked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the waiting-list entry it was offered to
    waitlist_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entry.id"))


class WaitState(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a freed place is held for him
    BOOKED = "booked"
    LEFT = "left"  # he left the list, or his day passed


class WaitlistEntry(Base):
    """A citizen waiting for a place of a service at a kiosk on a day; a freed place is held
    for the first one waiting and offered to him."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[WaitState] = mapped_column(str_enum(WaitState, length=10))
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_sha256: Mapped[str] = mapped_column(String(64))
    name_masked: Mapped[str] = mapped_column(String(40), default="")
    id_masked: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"  # sent on to another service: a new ticket carries on


class Ticket(Base):
    """A place in a kiosk's queue: a walk-in's (normal or priority) or a booked citizen's who
    checked in; numbered per kiosk and day (A001, P001 for priority, B001 for bookings)."""

    __tablename__ = "queue_ticket"
    __table_args__ = (UniqueConstraint("kiosk_id", "day", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    day: Mapped[date] = mapped_column(Date)  # the kiosk's local day
    number: Mapped[str] = mapped_column(String(8))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    #: a booked citizen's slot: from then on he goes ahead of walk-ins
    slot_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    state: Mapped[TicketState] = mapped_column(str_enum(TicketState, length=12))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    serving_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    clerk: Mapped[str] = mapped_column(String(50), default="")
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id"))


class ServiceRecord(Base):
    """One service done at a kiosk: which item, when, by which clerk, booked or walk-in, the
    time waited and served, and the fee and travel saved as the catalogue gave them then."""

    __tablename__ = "service_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    booked: Mapped[bool] = mapped_column(Boolean)
    clerk: Mapped[str] = mapped_column(String(50))
    done_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    waited_s: Mapped[float] = mapped_column(Float)
    served_s: Mapped[float] = mapped_column(Float)
    fee_yuan: Mapped[float] = mapped_column(Float)
    travel_saved_yuan: Mapped[float] = mapped_column(Float)


class CounterSession(Base):
    """A clerk at a kiosk's counter, from opening to closing: a kiosk is staffed while one is
    open."""

    __tablename__ = "counter_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk.id"), index=True)
    clerk: Mapped[str] = mapped_column(String(50))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Notification(Base):
    """A message to a citizen in the outbox: sent by its channel when due (the log, the citizen
    page, an SMS gateway). The page finds a citizen's messages by his code's hash."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # booked, reminder, offer, changed, cancelled
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    waitlist_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entry.id"))
    recipient_sha256: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
