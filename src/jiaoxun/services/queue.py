"""The counter's queue at a kiosk: tickets issued, checked in, called, served and recorded.

Like the paper numbers of a bank's counter: a walk-in takes A001 (P001 when he has priority), a
booked citizen who checks in takes B001, and the clerk calls the next. Booked citizens whose
slot has begun go first (as in bcgov's TheQ and NovoSGA), then priority walk-ins, then the
rest, each in the order they came. Two clerks calling at once never get the same ticket: the
call is an UPDATE guarded by the ticket's state. A service done is a *service record*, the
only source of the kiosk's count and of the travel it saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiaoxun.audit import service as audit
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.services.counter import Counter, is_staffed
from jiaoxun.services.models import (
    Booking,
    BookingState,
    ServiceItem,
    ServiceRecord,
    Ticket,
    TicketState,
)

#: tries at a ticket number or at the next ticket before giving up
TRIES = 20


# --- the order of the queue (pure) ---


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the order of the queue sees it."""

    id: int
    issued_at: datetime
    priority: bool = False
    slot_starts_at: datetime | None = None  # a booked citizen's slot


def next_ticket(waiting: Iterable[Waiting], *, now: datetime) -> Waiting | None:
    """The ticket to call next: booked citizens whose slot has begun by slot start, then
    priority walk-ins by issue time, then the rest by issue time; None when no one waits."""

    def rank(ticket: Waiting) -> tuple[int, datetime, datetime, int]:
        if ticket.slot_starts_at is not None and ticket.slot_starts_at <= now:
            return (0, ticket.slot_starts_at, ticket.issued_at, ticket.id)
        return (1 if ticket.priority else 2, ticket.issued_at, ticket.issued_at, ticket.id)

    return min(waiting, key=rank, default=None)


def service_of(session: Session, code: str) -> ServiceItem:
    service = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if service is None or not service.active:
        raise NotFound(f"there is no service {code!r} in the catalogue")
    return service


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- tickets issued ---


def issue_ticket(
    session: Session,
    counter: Counter,
    *,
    prefix: str,
    now: datetime,
    issued_at: datetime,
    service: ServiceItem,
    priority: bool = False,
    booking: Booking | None = None,
    slot_starts_at: datetime | None = None,
    transferred_from: Ticket | None = None,
) -> Ticket:
    """A ticket numbered from the day's count of its prefix; a number another clerk took in
    the meantime (the unique constraint) is retried with the next."""
    day = counter.today(now)
    issued = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.kiosk_id == counter.kiosk.id,
            Ticket.day == day,
            Ticket.number.like(f"{prefix}%"),
        )
    )
    for sequence in range(int(issued or 0) + 1, int(issued or 0) + 1 + TRIES):
        ticket = Ticket(
            kiosk_id=counter.kiosk.id,
            service_id=service.id,
            day=day,
            number=f"{prefix}{sequence:03d}",
            priority=priority,
            booking_id=booking.id if booking else None,
            slot_starts_at=slot_starts_at,
            state=TicketState.WAITING,
            issued_at=issued_at,
            recalls=0,
            transferred_from_id=transferred_from.id if transferred_from else None,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:
            continue
        audit.record(
            session,
            by=counter.clerk,
            action="issue",
            entity="ticket",
            entity_id=ticket.id,
            to_state=TicketState.WAITING.value,
            detail={
                "kiosk_id": counter.kiosk.id,
                "number": ticket.number,
                "service": service.code,
                "priority": priority,
                "booking_id": ticket.booking_id,
                "transferred_from_id": ticket.transferred_from_id,
            },
            at=now,
        )
        return ticket
    raise Conflict(
        f"no free ticket number {prefix}NNN at kiosk {counter.kiosk.id} after {TRIES} tries"
    )


def issue_walk_in(
    session: Session, counter: Counter, *, service_code: str, priority: bool, now: datetime
) -> Ticket:
    """A walk-in's ticket: A001, or P001 with priority; none at a kiosk with no one at its
    counter (its cars all out, no clerk, no officer rostered at it)."""
    if not is_staffed(session, counter.kiosk.id, now=now):
        raise Conflict(
            f"kiosk {counter.kiosk.name} has no one at its counter (no clerk at an open counter, "
            "no officer rostered at it, no crewed car standing by): it takes no walk-ins until "
            "someone is; open the counter"
        )
    service = service_of(session, service_code)
    if "kiosk" not in (service.channels or ["kiosk"]):
        raise InvalidInput(
            f"service {service.code} is not done at a kiosk's counter "
            f"(its channels: {', '.join(service.channels)})"
        )
    prefix = "P" if priority else "A"
    return issue_ticket(
        session,
        counter,
        prefix=prefix,
        now=now,
        issued_at=now,
        service=service,
        priority=priority,
    )


# --- calling and moving tickets ---


def waiting_of(
    session: Session, counter: Counter, *, now: datetime, service_ids: Sequence[int] = ()
) -> list[Ticket]:
    query = select(Ticket).where(
        Ticket.kiosk_id == counter.kiosk.id,
        Ticket.day == counter.today(now),
        Ticket.state == TicketState.WAITING,
    )
    if service_ids:
        query = query.where(Ticket.service_id.in_(service_ids))
    return list(session.scalars(query).all())


def call_next(
    session: Session, counter: Counter, *, now: datetime, service_codes: Sequence[str] = ()
) -> Ticket:
    """The next waiting ticket (of the services named, or any) called to the clerk; a ticket
    another clerk called first is passed over."""
    services = [service_of(session, code) for code in dict.fromkeys(service_codes)]
    for _ in range(TRIES):
        tickets = {
            t.id: t
            for t in waiting_of(session, counter, now=now, service_ids=[s.id for s in services])
        }
        chosen = next_ticket(
            (Waiting(t.id, t.issued_at, t.priority, t.slot_starts_at) for t in tickets.values()),
            now=now,
        )
        if chosen is None:
            what = ", ".join(s.code for s in services) or "any service"
            raise NotFound(f"no one is waiting for {what} at kiosk {counter.kiosk.id}")
        result = session.execute(
            update(Ticket)
            .where(Ticket.id == chosen.id, Ticket.state == TicketState.WAITING)
            .values(state=TicketState.CALLED, called_at=now, clerk=counter.clerk)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) == 1:
            ticket = tickets[chosen.id]
            session.refresh(ticket)
            audit.record(
                session,
                by=counter.clerk,
                action="call",
                entity="ticket",
                entity_id=ticket.id,
                from_state=TicketState.WAITING.value,
                to_state=TicketState.CALLED.value,
                detail={"kiosk_id": counter.kiosk.id, "number": ticket.number},
                at=now,
            )
            return ticket
        session.expire_all()  # another clerk called it: look again
    raise Conflict(f"the queue of kiosk {counter.kiosk.id} changed {TRIES} times while calling")


def ticket_at(session: Session, counter: Counter, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.kiosk_id != counter.kiosk.id:
        raise NotFound(f"there is no ticket {ticket_id} at kiosk {counter.kiosk.id}")
    return ticket


def _move(
    session: Session,
    counter: Counter,
    ticket: Ticket,
    *,
    action: str,
    allowed: Sequence[TicketState],
    to: TicketState,
    now: datetime,
    **values: object,
) -> Ticket:
    """The ticket moved by one guarded UPDATE from one of `allowed` to `to`."""
    was = ticket.state
    if was not in allowed:
        raise Conflict(
            f"a ticket is {action} only when {' or '.join(s.value for s in allowed)}; "
            f"ticket {ticket.number} is {was.value}"
        )
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.state == was)
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if _rowcount(result) != 1:
        raise Conflict(f"ticket {ticket.number} is {ticket.state.value} now: not {action}")
    audit.record(
        session,
        by=counter.clerk,
        action=action.replace(" ", "_"),
        entity="ticket",
        entity_id=ticket.id,
        from_state=was.value,
        to_state=to.value,
        detail={"kiosk_id": counter.kiosk.id, "number": ticket.number},
        at=now,
    )
    return ticket


def recall(session: Session, counter: Counter, ticket_id: int, *, now: datetime) -> Ticket:
    ticket = ticket_at(session, counter, ticket_id)
    return _move(
        session,
        counter,
        ticket,
        action="recalled",
        allowed=[TicketState.CALLED],
        to=TicketState.CALLED,
        now=now,
        called_at=now,
        recalls=Ticket.recalls + 1,
    )


def serve(session: Session, counter: Counter, ticket_id: int, *, now: datetime) -> Ticket:
    ticket = ticket_at(session, counter, ticket_id)
    return _move(
        session,
        counter,
        ticket,
        action="served",
        allowed=[TicketState.CALLED],
        to=TicketState.SERVING,
        now=now,
        serving_at=now,
        clerk=counter.clerk,
    )


def no_show(session: Session, counter: Counter, ticket_id: int, *, now: datetime) -> Ticket:
    """A called citizen who did not come; a booked one's booking is a no-show too."""
    ticket = ticket_at(session, counter, ticket_id)
    _move(
        session,
        counter,
        ticket,
        action="marked a no-show",
        allowed=[TicketState.CALLED],
        to=TicketState.NO_SHOW,
        now=now,
        ended_at=now,
    )
    _end_booking(session, counter, ticket.booking_id, to=BookingState.NO_SHOW, now=now)
    return ticket


def transfer(
    session: Session, counter: Counter, ticket_id: int, *, service_code: str, now: datetime
) -> Ticket:
    """The ticket sent on to another service: a new ticket waits in its place (same issue
    time, same slot)."""
    ticket = ticket_at(session, counter, ticket_id)
    service = service_of(session, service_code)
    if service.id == ticket.service_id:
        raise InvalidInput(
            f"ticket {ticket.number} is already for {service.code}: nothing to transfer"
        )
    _move(
        session,
        counter,
        ticket,
        action="transferred",
        allowed=[TicketState.CALLED, TicketState.SERVING],
        to=TicketState.TRANSFERRED,
        now=now,
        ended_at=now,
    )
    return issue_ticket(
        session,
        counter,
        prefix=ticket.number[0],
        now=now,
        issued_at=ticket.issued_at,
        service=service,
        priority=ticket.priority,
        booking=_booking(session, ticket.booking_id),
        slot_starts_at=ticket.slot_starts_at,
        transferred_from=ticket,
    )


def done(
    session: Session,
    counter: Counter,
    ticket_id: int,
    *,
    service_codes: Sequence[str],
    now: datetime,
) -> list[ServiceRecord]:
    """The citizen served: one service record per service done, with the catalogue's fee and
    travel saved as they are now; a booking is served."""
    if not service_codes:
        raise InvalidInput("done names at least one service done")
    if len(set(service_codes)) != len(service_codes):
        raise InvalidInput(f"done names each service once; got {', '.join(service_codes)}")
    services = [service_of(session, code) for code in service_codes]
    ticket = ticket_at(session, counter, ticket_id)
    _move(
        session,
        counter,
        ticket,
        action="done",
        allowed=[TicketState.SERVING],
        to=TicketState.DONE,
        now=now,
        ended_at=now,
    )
    assert ticket.serving_at is not None
    waited_s = (first_served_at(session, ticket) - ticket.issued_at).total_seconds()
    records = [
        ServiceRecord(
            kiosk_id=counter.kiosk.id,
            service_id=service.id,
            ticket_id=ticket.id,
            booking_id=ticket.booking_id,
            booked=ticket.booking_id is not None,
            clerk=counter.clerk,
            done_at=now,
            waited_s=max(waited_s, 0.0),
            served_s=max((now - ticket.serving_at).total_seconds(), 0.0),
            fee_yuan=service.fee_yuan,
            travel_saved_yuan=service.travel_saved_yuan,
        )
        for service in services
    ]
    session.add_all(records)
    session.flush()
    for record, service in zip(records, services, strict=True):
        audit.record(
            session,
            by=counter.clerk,
            action="record",
            entity="ticket",
            entity_id=ticket.id,
            detail={
                "service_record_id": record.id,
                "service": service.code,
                "booked": record.booked,
                "fee_yuan": record.fee_yuan,
                "travel_saved_yuan": record.travel_saved_yuan,
            },
            at=now,
        )
    _end_booking(session, counter, ticket.booking_id, to=BookingState.SERVED, now=now)
    return records


def first_served_at(session: Session, ticket: Ticket) -> datetime:
    """When the citizen of a transfer chain was first served: the end of his wait."""
    served = ticket.serving_at
    link = ticket
    while link.transferred_from_id is not None:
        earlier = session.get(Ticket, link.transferred_from_id)
        if earlier is None:
            break
        link = earlier
        served = link.serving_at or served
    assert served is not None
    return served


def _booking(session: Session, booking_id: int | None) -> Booking | None:
    return session.get(Booking, booking_id) if booking_id is not None else None


def _end_booking(
    session: Session, counter: Counter, booking_id: int | None, *, to: BookingState, now: datetime
) -> None:
    booking = _booking(session, booking_id)
    if booking is None or booking.state != BookingState.CHECKED_IN:
        return
    booking.state = to
    booking.ended_at = now
    booking.phone = None  # kept while the booking is open, no longer
    audit.record(
        session,
        by=counter.clerk,
        action=to.value,
        entity="booking",
        entity_id=booking.id,
        from_state=BookingState.CHECKED_IN.value,
        to_state=to.value,
        detail={"kiosk_id": counter.kiosk.id},
        at=now,
    )
    session.flush()
