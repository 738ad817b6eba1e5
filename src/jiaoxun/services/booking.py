"""Appointments at a kiosk: hold a place, book it, confirm an offer, change, cancel.

A citizen may hold a place while he fills in the form (`hold`), then book it with his name, ID
number and phone (`book`, with the hold's code), or book in one step. The code is his key to the
booking: shown once, kept only as a hash. One citizen (his keyed ID hash) holds at most one open
booking of a service, enforced by a unique partial index. Every change is in the audit log and
tells the citizen through the notification outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiaoxun.audit import service as audit
from jiaoxun.city.models import Kiosk
from jiaoxun.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from jiaoxun.services import notify, waitlist
from jiaoxun.services.citizens import Citizen
from jiaoxun.services.codes import code_sha256, new_code
from jiaoxun.services.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingState,
    Notification,
    ServiceItem,
    Slot,
)
from jiaoxun.services.slots import (
    BookingRules,
    bookable_service,
    give_back_place,
    kiosk_of,
    slot_at,
    slot_row,
    take_place,
)

CITIZEN = "citizen"  # the audit log's name for whoever uses the public page


@dataclass(frozen=True)
class Seen:
    """A booking as its owner sees it."""

    booking: Booking
    kiosk: Kiosk
    service: ServiceItem
    slot: Slot


def _what(kiosk: Kiosk, service: ServiceItem, starts_at: datetime, rules: BookingRules) -> str:
    local = starts_at.astimezone(rules.tz)
    return f"the slot {local:%Y-%m-%d %H:%M} of {service.code} at {kiosk.name}"


def hold(
    session: Session,
    *,
    kiosk_id: int,
    service_code: str,
    starts_at: datetime,
    now: datetime,
    rules: BookingRules,
    holder: str | None = None,
) -> tuple[str, Booking]:
    """A place kept for `rules.hold` while the citizen fills in the form; returns its code.
    `holder` (a hash of the client address) may keep `rules.holds_per_address` open at once."""
    if holder is not None:
        _within_holds(session, holder=holder, now=now, rules=rules)
    kiosk = kiosk_of(session, kiosk_id)
    service = bookable_service(session, service_code)
    slot = slot_row(
        session,
        kiosk=kiosk,
        service=service,
        slot=slot_at(
            session, kiosk=kiosk, service=service, starts_at=starts_at, now=now, rules=rules
        ),
    )
    expire_holds(session, now=now, rules=rules, slot_id=slot.id)
    take_place(session, slot, what=_what(kiosk, service, starts_at, rules))
    code = new_code()
    booking = Booking(
        slot_id=slot.id,
        kiosk_id=kiosk.id,
        service_id=service.id,
        state=BookingState.HELD,
        code_sha256=code_sha256(code),
        holder_sha256=holder,
        created_at=now,
        hold_expires_at=now + rules.hold,
    )
    session.add(booking)
    session.flush()
    return code, booking


def _within_holds(session: Session, *, holder: str, now: datetime, rules: BookingRules) -> None:
    ends = session.scalars(
        select(Booking.hold_expires_at).where(
            Booking.holder_sha256 == holder,
            Booking.state == BookingState.HELD,
            Booking.citizen_sha256.is_(None),
            Booking.hold_expires_at > now,
        )
    ).all()
    if len(ends) >= rules.holds_per_address:
        first = min(e for e in ends if e is not None)
        raise TooManyRequests(
            f"at most {rules.holds_per_address} places may be held at once from one address: "
            "book or let one go first",
            retry_after_s=(first - now).total_seconds(),
        )


def book(
    session: Session,
    *,
    kiosk_id: int,
    service_code: str,
    starts_at: datetime,
    citizen: Citizen,
    now: datetime,
    rules: BookingRules,
    code: str | None = None,
) -> tuple[str, Seen]:
    """Book a slot for `citizen`: the place he holds (`code`) or, without one, a free place."""
    if code is None:
        code, booking = hold(
            session,
            kiosk_id=kiosk_id,
            service_code=service_code,
            starts_at=starts_at,
            now=now,
            rules=rules,
        )
    else:
        seen = find(session, code=code)
        booking = seen.booking
        if (seen.kiosk.id, seen.service.code, seen.slot.starts_at) != (
            kiosk_id,
            service_code,
            starts_at,
        ):
            raise InvalidInput("the code holds another slot: book that one, or hold this one")
        _still_held(booking, now=now)
    _one_open_booking(session, booking=booking, citizen=citizen)
    booking.citizen_sha256 = citizen.citizen_sha256
    booking.name_masked = citizen.name_masked
    booking.id_masked = citizen.id_masked
    booking.phone = citizen.phone
    booking.phone_masked = citizen.phone_masked
    _mark_booked(session, booking, now=now, rules=rules)
    return code, find(session, code=code)


def confirm(session: Session, *, code: str, now: datetime, rules: BookingRules) -> Seen:
    """Book the place a waiting citizen was offered."""
    seen = find(session, code=code)
    if seen.booking.citizen_sha256 is None:
        raise InvalidInput("this code holds a place without a citizen: book it with your details")
    _still_held(seen.booking, now=now)
    _mark_booked(session, seen.booking, now=now, rules=rules)
    if seen.booking.waitlist_id is not None:
        waitlist.entry_booked(session, seen.booking.waitlist_id)
    return seen


def _still_held(booking: Booking, *, now: datetime) -> None:
    lapsed = booking.state is BookingState.EXPIRED or (
        booking.state is BookingState.HELD
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    )
    if lapsed:
        raise Conflict("the hold ended and its place was freed: choose a slot again")
    if booking.state is not BookingState.HELD:
        raise Conflict(f"this code's booking is {booking.state.value}, not held")


def _one_open_booking(session: Session, *, booking: Booking, citizen: Citizen) -> None:
    other = session.scalar(
        select(Booking.id).where(
            Booking.service_id == booking.service_id,
            Booking.citizen_sha256 == citizen.citizen_sha256,
            Booking.state.in_(ACTIVE_BOOKING),
            Booking.id != booking.id,
        )
    )
    if other is not None:
        raise Conflict(
            "one open booking per citizen and service: you have one for this service already; "
            "change or cancel it with its code"
        )


def _mark_booked(session: Session, booking: Booking, *, now: datetime, rules: BookingRules) -> None:
    booking.state = BookingState.BOOKED
    booking.booked_at = now
    booking.hold_expires_at = None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "one open booking per citizen and service: you have one for this service already"
        ) from None
    kiosk, service, slot = _parts(session, booking)
    audit.record(
        session,
        by=CITIZEN,
        action="booking.book",
        entity="booking",
        entity_id=booking.id,
        from_state=BookingState.HELD.value,
        to_state=BookingState.BOOKED.value,
        detail={
            "kiosk_id": kiosk.id,
            "service": service.code,
            "starts_at": slot.starts_at.isoformat(),
            "citizen": booking.id_masked,
        },
        at=now,
    )
    local = slot.starts_at.astimezone(rules.tz)
    notify.tell(
        session,
        booking,
        kind="booked",
        zh=f"预约成功：{kiosk.name}，{service.name_zh}，{local:%Y-%m-%d %H:%M}。"
        "请携带所需材料按时到达并出示预约码。",
        en=f"Booked: {service.name_en} at {kiosk.name}, {local:%Y-%m-%d %H:%M}. "
        "Bring the documents and show your code.",
        due_at=now,
    )
    _remind(session, booking, kiosk=kiosk, service=service, slot=slot, now=now, rules=rules)


def find(session: Session, *, code: str) -> Seen:
    """The booking of a code, whatever its state."""
    booking = session.scalar(select(Booking).where(Booking.code_sha256 == code_sha256(code)))
    if booking is None:
        raise NotFound("no booking has this code")
    return Seen(booking, *_parts(session, booking))


def _parts(session: Session, booking: Booking) -> tuple[Kiosk, ServiceItem, Slot]:
    kiosk = session.get(Kiosk, booking.kiosk_id)
    service = session.get(ServiceItem, booking.service_id)
    slot = session.get(Slot, booking.slot_id)
    assert kiosk is not None
    assert service is not None
    assert slot is not None
    return kiosk, service, slot


def cancel(session: Session, *, code: str, now: datetime, rules: BookingRules) -> Seen:
    """Cancel a held or booked appointment; its place goes to the first one waiting."""
    seen = find(session, code=code)
    booking = seen.booking
    if booking.state not in (BookingState.HELD, BookingState.BOOKED):
        raise Conflict(f"a {booking.state.value} booking cannot be cancelled")
    before = booking.state
    _end(booking, BookingState.CANCELLED, now=now)
    give_back_place(session, booking.slot_id)
    audit.record(
        session,
        by=CITIZEN,
        action="booking.cancel",
        entity="booking",
        entity_id=booking.id,
        from_state=before.value,
        to_state=booking.state.value,
        at=now,
    )
    if booking.citizen_sha256 is not None:
        local = seen.slot.starts_at.astimezone(rules.tz)
        notify.tell(
            session,
            booking,
            kind="cancelled",
            zh=f"已取消：{seen.kiosk.name}，{seen.service.name_zh}，{local:%Y-%m-%d %H:%M}。",
            en=f"Cancelled: {seen.service.name_en} at {seen.kiosk.name}, {local:%Y-%m-%d %H:%M}.",
            due_at=now,
        )
    _unremind(session, booking)
    waitlist.offer_freed(session, slot=seen.slot, now=now, rules=rules)
    return seen


def change(
    session: Session, *, code: str, starts_at: datetime, now: datetime, rules: BookingRules
) -> Seen:
    """Move a booking to another slot of its service at its kiosk, keeping its code."""
    seen = find(session, code=code)
    booking = seen.booking
    if booking.state is not BookingState.BOOKED:
        raise Conflict(f"a {booking.state.value} booking cannot be changed")
    if starts_at == seen.slot.starts_at:
        raise InvalidInput("the booking is already for that slot")
    new = slot_row(
        session,
        kiosk=seen.kiosk,
        service=seen.service,
        slot=slot_at(
            session,
            kiosk=seen.kiosk,
            service=seen.service,
            starts_at=starts_at,
            now=now,
            rules=rules,
        ),
    )
    expire_holds(session, now=now, rules=rules, slot_id=new.id)
    take_place(session, new, what=_what(seen.kiosk, seen.service, starts_at, rules))
    old = seen.slot
    give_back_place(session, old.id)
    booking.slot_id = new.id
    session.flush()
    audit.record(
        session,
        by=CITIZEN,
        action="booking.change",
        entity="booking",
        entity_id=booking.id,
        detail={"from": old.starts_at.isoformat(), "to": new.starts_at.isoformat()},
        at=now,
    )
    _unremind(session, booking)
    local = new.starts_at.astimezone(rules.tz)
    notify.tell(
        session,
        booking,
        kind="changed",
        zh=f"已改约：{seen.kiosk.name}，{seen.service.name_zh}，改为 {local:%Y-%m-%d %H:%M}。",
        en=f"Changed: {seen.service.name_en} at {seen.kiosk.name}, now {local:%Y-%m-%d %H:%M}.",
        due_at=now,
    )
    _remind(
        session, booking, kiosk=seen.kiosk, service=seen.service, slot=new, now=now, rules=rules
    )
    waitlist.offer_freed(session, slot=old, now=now, rules=rules)
    return find(session, code=code)


def expire_holds(
    session: Session, *, now: datetime, rules: BookingRules, slot_id: int | None = None
) -> int:
    """Holds and offers past their time end and give back their places (an offer's goes to
    the next one waiting); returns how many ended."""
    query = select(Booking).where(
        Booking.state == BookingState.HELD, Booking.hold_expires_at <= now
    )
    if slot_id is not None:
        query = query.where(Booking.slot_id == slot_id)
    ended = 0
    for booking in session.scalars(query).all():
        # guarded: two rounds expiring the same hold give its place back once
        result = session.execute(
            update(Booking)
            .where(Booking.id == booking.id, Booking.state == BookingState.HELD)
            .values(state=BookingState.EXPIRED, ended_at=now, phone=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue
        session.refresh(booking)
        give_back_place(session, booking.slot_id)
        ended += 1
        if booking.waitlist_id is not None:
            waitlist.offer_expired(session, booking=booking, now=now, rules=rules)
    return ended


def _end(booking: Booking, state: BookingState, *, now: datetime) -> None:
    booking.state = state
    booking.ended_at = now
    booking.hold_expires_at = None
    booking.phone = None  # a phone is kept while the booking is open, no longer


def _remind(
    session: Session,
    booking: Booking,
    *,
    kiosk: Kiosk,
    service: ServiceItem,
    slot: Slot,
    now: datetime,
    rules: BookingRules,
) -> None:
    """A reminder the day before the slot (none for a booking made later than that)."""
    remind_at = slot.starts_at - timedelta(days=1)
    if remind_at <= now:
        return
    local = slot.starts_at.astimezone(rules.tz)
    notify.tell(
        session,
        booking,
        kind="reminder",
        zh=f"提醒：明天 {local:%H:%M} 在{kiosk.name}办理{service.name_zh}。",
        en=f"Reminder: {service.name_en} at {kiosk.name} tomorrow at {local:%H:%M}.",
        due_at=remind_at,
    )


def _unremind(session: Session, booking: Booking) -> None:
    for reminder in session.scalars(
        select(Notification).where(
            Notification.booking_id == booking.id,
            Notification.kind == "reminder",
            Notification.sent_at.is_(None),
        )
    ):
        session.delete(reminder)
