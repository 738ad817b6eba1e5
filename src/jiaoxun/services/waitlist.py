"""The waiting list of a service at a kiosk on a day: a freed place is held for the first one
waiting and offered to him for a while (`BookingRules.offer`); not confirmed in time, it goes to
the next. A citizen may join only a day whose places are all taken."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit import service as audit
from jiaoxun.city.models import Kiosk
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.services import notify
from jiaoxun.services.citizens import Citizen
from jiaoxun.services.codes import code_sha256, new_code
from jiaoxun.services.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingState,
    ServiceItem,
    Slot,
    WaitlistEntry,
    WaitState,
)
from jiaoxun.services.slots import BookingRules, bookable_service, kiosk_of, open_days, take_place

CITIZEN = "citizen"


def join(
    session: Session,
    *,
    kiosk_id: int,
    service_code: str,
    day: date,
    citizen: Citizen,
    now: datetime,
    rules: BookingRules,
) -> tuple[str, WaitlistEntry]:
    """Put a citizen on the list of a full day; returns his code."""
    kiosk = kiosk_of(session, kiosk_id)
    service = bookable_service(session, service_code)
    if not rules.today(now) <= day <= rules.last_day(now):
        raise InvalidInput(
            f"the waiting list takes days from {rules.today(now)} to {rules.last_day(now)}, "
            f"not {day.isoformat()}"
        )
    (open_day,) = open_days(session, kiosk=kiosk, service=service, days=[day], now=now, rules=rules)
    if not open_day.slots:
        raise InvalidInput(f"{kiosk.name} offers no slot of {service.code} on {day.isoformat()}")
    if any(free > 0 for _, free in open_day.slots):
        raise Conflict(f"places of {service.code} are free on {day.isoformat()}: book one")
    if session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.kiosk_id == kiosk.id,
            WaitlistEntry.service_id == service.id,
            WaitlistEntry.day == day,
            WaitlistEntry.citizen_sha256 == citizen.citizen_sha256,
            WaitlistEntry.state.in_((WaitState.WAITING, WaitState.OFFERED)),
        )
    ):
        raise Conflict(f"you are on the waiting list of {service.code} for {day.isoformat()}")
    code = new_code()
    entry = WaitlistEntry(
        kiosk_id=kiosk.id,
        service_id=service.id,
        day=day,
        state=WaitState.WAITING,
        code_sha256=code_sha256(code),
        citizen_sha256=citizen.citizen_sha256,
        name_masked=citizen.name_masked,
        id_masked=citizen.id_masked,
        phone=citizen.phone,
        phone_masked=citizen.phone_masked,
        joined_at=now,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        by=CITIZEN,
        action="waitlist.join",
        entity="waitlist_entry",
        entity_id=entry.id,
        to_state=entry.state.value,
        detail={"kiosk_id": kiosk.id, "service": service.code, "day": day.isoformat()},
        at=now,
    )
    notify.enqueue(
        session,
        kind="waiting",
        recipient_sha256=entry.code_sha256,
        waitlist_id=entry.id,
        phone=entry.phone,
        text_zh=f"已登记候补：{kiosk.name}，{service.name_zh}，{day.isoformat()}。有空位时将通知您。",
        text_en=f"On the waiting list: {service.name_en} at {kiosk.name}, {day.isoformat()}. "
        "You will be told when a place is free.",
        due_at=now,
    )
    return code, entry


def leave(session: Session, *, code: str, now: datetime) -> WaitlistEntry:
    entry = session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.code_sha256 == code_sha256(code))
    )
    if entry is None:
        raise NotFound("no waiting-list entry has this code")
    if entry.state is not WaitState.WAITING:
        raise Conflict(f"the entry is {entry.state.value}, not waiting")
    entry.state, entry.phone = WaitState.LEFT, None
    audit.record(
        session,
        by=CITIZEN,
        action="waitlist.leave",
        entity="waitlist_entry",
        entity_id=entry.id,
        from_state=WaitState.WAITING.value,
        to_state=WaitState.LEFT.value,
        at=now,
    )
    return entry


def offer_freed(
    session: Session, *, slot: Slot, now: datetime, rules: BookingRules
) -> Booking | None:
    """The freed place of `slot` held for the first one waiting for its day, if any."""
    if slot.starts_at < now + rules.min_notice:
        return None
    day = slot.starts_at.astimezone(rules.tz).date()
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.kiosk_id == slot.kiosk_id,
            WaitlistEntry.service_id == slot.service_id,
            WaitlistEntry.day == day,
            WaitlistEntry.state == WaitState.WAITING,
        )
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    for entry in waiting:
        has_one = session.scalar(
            select(Booking.id).where(
                Booking.service_id == slot.service_id,
                Booking.citizen_sha256 == entry.citizen_sha256,
                Booking.state.in_(ACTIVE_BOOKING),
            )
        )
        if has_one is not None:
            continue
        return _offer(session, entry=entry, slot=slot, now=now, rules=rules)
    return None


def _offer(
    session: Session, *, entry: WaitlistEntry, slot: Slot, now: datetime, rules: BookingRules
) -> Booking:
    kiosk = session.get(Kiosk, slot.kiosk_id)
    service = session.get(ServiceItem, slot.service_id)
    assert kiosk is not None
    assert service is not None
    take_place(session, slot, what=f"the freed place of slot {slot.id}")
    booking = Booking(
        slot_id=slot.id,
        kiosk_id=slot.kiosk_id,
        service_id=slot.service_id,
        state=BookingState.HELD,
        code_sha256=entry.code_sha256,
        citizen_sha256=entry.citizen_sha256,
        name_masked=entry.name_masked,
        id_masked=entry.id_masked,
        phone=entry.phone,
        phone_masked=entry.phone_masked,
        created_at=now,
        hold_expires_at=now + rules.offer,
        waitlist_id=entry.id,
    )
    session.add(booking)
    entry.state = WaitState.OFFERED
    session.flush()
    audit.record(
        session,
        by="system",
        action="waitlist.offer",
        entity="waitlist_entry",
        entity_id=entry.id,
        from_state=WaitState.WAITING.value,
        to_state=WaitState.OFFERED.value,
        detail={"booking_id": booking.id, "starts_at": slot.starts_at.isoformat()},
        at=now,
    )
    local = slot.starts_at.astimezone(rules.tz)
    until = booking.hold_expires_at.astimezone(rules.tz) if booking.hold_expires_at else local
    notify.tell(
        session,
        booking,
        kind="offer",
        zh=f"候补到位：{kiosk.name}，{service.name_zh}，{local:%Y-%m-%d %H:%M}。"
        f"请在 {until:%H:%M} 前用候补码确认。",
        en=f"A place is free: {service.name_en} at {kiosk.name}, {local:%Y-%m-%d %H:%M}. "
        f"Confirm with your code before {until:%H:%M}.",
        due_at=now,
    )
    return booking


def offer_expired(
    session: Session, *, booking: Booking, now: datetime, rules: BookingRules
) -> None:
    """An offer not confirmed in time: the entry leaves the list, the place goes on."""
    entry = session.get(WaitlistEntry, booking.waitlist_id)
    if entry is not None and entry.state is WaitState.OFFERED:
        entry.state, entry.phone = WaitState.LEFT, None
    slot = session.get(Slot, booking.slot_id, populate_existing=True)
    if slot is not None:
        offer_freed(session, slot=slot, now=now, rules=rules)


def entry_booked(session: Session, entry_id: int) -> None:
    entry = session.get(WaitlistEntry, entry_id)
    if entry is not None:
        entry.state, entry.phone = WaitState.BOOKED, None
