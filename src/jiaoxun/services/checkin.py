"""Booked citizens at the counter: checked in on their day (a B ticket in the queue, ahead of
walk-ins once their slot began), or marked no-shows by the housekeeping round."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit import service as audit
from jiaoxun.city.models import Kiosk
from jiaoxun.errors import Conflict, NotFound
from jiaoxun.services.codes import code_sha256
from jiaoxun.services.counter import Counter
from jiaoxun.services.models import (
    Booking,
    BookingState,
    ServiceItem,
    Slot,
    Ticket,
)
from jiaoxun.services.queue import issue_ticket

#: the earliest a booked citizen may check in before his slot
CHECK_IN_EARLY = timedelta(minutes=60)
HOUSEKEEPING = "housekeeping"  # the audit log's name for the server's own rounds


def check_in(session: Session, counter: Counter, *, code: str, now: datetime) -> Ticket:
    """A booked citizen at his kiosk on his day, from an hour before his slot to the no-show
    limit after it began: his booking is checked in and he gets a B ticket."""
    booking = session.scalar(select(Booking).where(Booking.code_sha256 == code_sha256(code)))
    if booking is None:
        raise NotFound("there is no booking with this code")
    if booking.kiosk_id != counter.kiosk.id:
        kiosk = session.get(Kiosk, booking.kiosk_id)
        raise Conflict(
            f"this booking is for kiosk {booking.kiosk_id} ({kiosk.name if kiosk else '?'}), "
            f"not for kiosk {counter.kiosk.id} ({counter.kiosk.name})"
        )
    if booking.state != BookingState.BOOKED:
        raise Conflict(
            f"a booking is checked in only when booked; this one is {booking.state.value}"
        )
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    slot_day = counter.today(slot.starts_at)
    if slot_day != counter.today(now):
        raise Conflict(
            f"this booking is for {slot_day.isoformat()}, "
            f"not for today {counter.today(now).isoformat()}"
        )
    local = slot.starts_at.astimezone(counter.tz)
    if now < slot.starts_at - CHECK_IN_EARLY:
        raise Conflict(
            f"check-in opens {CHECK_IN_EARLY.seconds // 60} minutes before the slot "
            f"{local:%H:%M}: come back then"
        )
    if now > slot.starts_at + counter.no_show_after:
        minutes = counter.no_show_after.total_seconds() / 60
        raise Conflict(
            f"check-in closes {minutes:.0f} minutes after the slot {local:%H:%M} began: "
            "take a walk-in ticket"
        )
    booking.state = BookingState.CHECKED_IN
    booking.checked_in_at = now
    audit.record(
        session,
        by=counter.clerk,
        action="check_in",
        entity="booking",
        entity_id=booking.id,
        from_state=BookingState.BOOKED.value,
        to_state=BookingState.CHECKED_IN.value,
        detail={"kiosk_id": counter.kiosk.id},
        at=now,
    )
    service = session.get(ServiceItem, booking.service_id)
    assert service is not None
    return issue_ticket(
        session,
        counter,
        prefix="B",
        now=now,
        issued_at=now,
        service=service,
        booking=booking,
        slot_starts_at=slot.starts_at,
    )


def mark_no_shows(session: Session, *, now: datetime, after: timedelta) -> int:
    """Booked citizens whose slot began more than `after` ago and who never checked in are
    no-shows; how many were marked."""
    late = session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.state == BookingState.BOOKED, Slot.starts_at < now - after)
    ).all()
    for booking in late:
        booking.state = BookingState.NO_SHOW
        booking.ended_at = now
        booking.phone = None  # kept while the booking is open, no longer
        audit.record(
            session,
            by=HOUSEKEEPING,
            action="no_show",
            entity="booking",
            entity_id=booking.id,
            from_state=BookingState.BOOKED.value,
            to_state=BookingState.NO_SHOW.value,
            detail={"kiosk_id": booking.kiosk_id, "after_min": after.total_seconds() / 60},
            at=now,
        )
    session.flush()
    return len(late)
