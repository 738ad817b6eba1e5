"""Where the places of the appointment slots are counted.

A slot's row is made on its first booking (INSERT ... ON CONFLICT DO NOTHING, so two first
bookings make one row) and its `taken` is raised by one guarded UPDATE (`taken < capacity`):
SQLite runs writers one at a time and PostgreSQL re-checks the condition on the locked row, so
however many citizens race for the last place, exactly one gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from jiaoxun.analytics.calendar import Day, StatutoryCalendar
from jiaoxun.city.models import Kiosk
from jiaoxun.db import insert_new
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.services.hours import (
    Rule,
    SlotTime,
    clock_time,
    day_kind_of,
    slots_of,
    windows_for,
)
from jiaoxun.services.models import DayKind, OpeningHours, ServiceItem, Slot
from jiaoxun.settings import Settings


@dataclass(frozen=True)
class BookingRules:
    """The settings that bound bookings, with the city's time zone."""

    tz: ZoneInfo
    hold: timedelta
    offer: timedelta
    min_notice: timedelta
    horizon_days: int
    holds_per_address: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        return cls(
            tz=ZoneInfo(settings.timezone),
            hold=timedelta(minutes=settings.services_hold_min),
            offer=timedelta(minutes=settings.services_offer_min),
            min_notice=timedelta(minutes=settings.services_min_notice_min),
            horizon_days=settings.services_horizon_days,
            holds_per_address=settings.services_holds_per_address,
        )

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def last_day(self, now: datetime) -> date:
        return self.today(now) + timedelta(days=self.horizon_days)


@dataclass(frozen=True)
class OpenDay:
    """A day's slots of a service at a kiosk with their free places (those that may still be
    booked: not within the minimum notice)."""

    day: Day
    kind: DayKind
    slots: list[tuple[SlotTime, int]]


def kiosk_of(session: Session, kiosk_id: int) -> Kiosk:
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound(f"there is no kiosk {kiosk_id}")
    return kiosk


def bookable_service(session: Session, code: str) -> ServiceItem:
    service = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if service is None or not service.active:
        raise NotFound(f"there is no service {code!r} in the catalogue")
    if not service.bookable:
        raise InvalidInput(f"service {code} ({service.name_en}) is not booked: come to the counter")
    return service


def rules_of(session: Session, *, kiosk_id: int, service_id: int) -> list[Rule]:
    rows = session.scalars(
        select(OpeningHours).where(
            or_(OpeningHours.kiosk_id.is_(None), OpeningHours.kiosk_id == kiosk_id),
            or_(OpeningHours.service_id.is_(None), OpeningHours.service_id == service_id),
        )
    )
    return [
        Rule(
            r.kiosk_id,
            r.service_id,
            r.day_kind,
            clock_time(r.starts),
            clock_time(r.ends),
            r.after_hours,
            r.capacity,
        )
        for r in rows
    ]


def open_days(
    session: Session,
    *,
    kiosk: Kiosk,
    service: ServiceItem,
    days: Sequence[date],
    now: datetime,
    rules: BookingRules,
) -> list[OpenDay]:
    """Each day's slots with their free places, read in one query of the stored slots."""
    calendar = StatutoryCalendar.load(session)
    hours = rules_of(session, kiosk_id=kiosk.id, service_id=service.id)
    planned = []
    for when in days:
        day = calendar.day_or_weekday(when)
        kind = day_kind_of(day)
        windows = windows_for(hours, kiosk_id=kiosk.id, service_id=service.id, day_kind=kind)
        planned.append(
            (day, kind, slots_of(windows, day=when, minutes=service.minutes, tz=rules.tz))
        )
    starts = [s.starts_at for _, _, slots in planned for s in slots]
    stored: dict[datetime, tuple[int, int]] = {}
    if starts:
        rows = session.execute(
            select(Slot.starts_at, Slot.capacity, Slot.taken).where(
                Slot.kiosk_id == kiosk.id,
                Slot.service_id == service.id,
                Slot.starts_at >= min(starts),
                Slot.starts_at <= max(starts),
            )
        )
        stored = {at: (capacity, taken) for at, capacity, taken in rows}
    earliest = now + rules.min_notice
    result = []
    for day, kind, slots in planned:
        offered = []
        for slot in slots:
            if slot.starts_at < earliest:
                continue
            capacity, taken = stored.get(slot.starts_at, (slot.capacity, 0))
            offered.append((slot, max(0, capacity - taken)))
        result.append(OpenDay(day, kind, offered))
    return result


def slot_at(
    session: Session,
    *,
    kiosk: Kiosk,
    service: ServiceItem,
    starts_at: datetime,
    now: datetime,
    rules: BookingRules,
) -> SlotTime:
    """The slot of the opening hours that starts at `starts_at`, if it may be booked now.

    Raises
    ------
    InvalidInput
        For a time that starts no slot, or one too soon or beyond the booking horizon.
    """
    # compared in UTC first: a time at the end of the calendar has no local time
    if starts_at > now + timedelta(days=rules.horizon_days + 1) or (
        starts_at.astimezone(rules.tz).date() > rules.last_day(now)
    ):
        raise InvalidInput(
            f"bookings open {rules.horizon_days} days ahead at most: {starts_at:%Y-%m-%d} is "
            f"after {rules.last_day(now).isoformat()}"
        )
    local = starts_at.astimezone(rules.tz)
    if starts_at < now + rules.min_notice:
        minutes = rules.min_notice.total_seconds() / 60
        raise InvalidInput(
            f"a slot may be booked until {minutes:.0f} minutes before it starts: "
            f"{local:%Y-%m-%d %H:%M} is too soon"
        )
    (day,) = open_days(
        session, kiosk=kiosk, service=service, days=[local.date()], now=now, rules=rules
    )
    for slot, _free in day.slots:
        if slot.starts_at == starts_at:
            return slot
    raise InvalidInput(
        f"no slot of {service.code} at kiosk {kiosk.id} starts at {local:%Y-%m-%d %H:%M} "
        f"(a {day.kind.value}: see the opening hours)"
    )


def slot_row(session: Session, *, kiosk: Kiosk, service: ServiceItem, slot: SlotTime) -> Slot:
    """The stored row of `slot`, made now if this is its first booking."""
    insert_new(
        session,
        Slot,
        [
            {
                "kiosk_id": kiosk.id,
                "service_id": service.id,
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "capacity": slot.capacity,
                "taken": 0,
            }
        ],
    )
    row = session.scalar(
        select(Slot)
        .where(
            Slot.kiosk_id == kiosk.id,
            Slot.service_id == service.id,
            Slot.starts_at == slot.starts_at,
        )
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def take_place(session: Session, slot: Slot, *, what: str) -> None:
    """One place of `slot` taken, or `Conflict` when none is left."""
    result = session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.taken < Slot.capacity)
        .values(taken=Slot.taken + 1)
        .execution_options(synchronize_session=False)
    )
    if _count(result) != 1:
        raise Conflict(
            f"{what} is full (all {slot.capacity} places are booked): choose another time "
            "or join the waiting list for the day"
        )


def give_back_place(session: Session, slot_id: int) -> None:
    session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.taken > 0)
        .values(taken=Slot.taken - 1)
        .execution_options(synchronize_session=False)
    )


def _count(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
