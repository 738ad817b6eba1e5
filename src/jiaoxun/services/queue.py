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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from jiaoxun.audit import service as audit
from jiaoxun.city.models import Kiosk
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.services.codes import code_sha256
from jiaoxun.services.models import (
    Booking,
    BookingState,
    CounterSession,
    ServiceItem,
    ServiceRecord,
    Slot,
    Ticket,
    TicketState,
)

#: a counter opened longer ago than this and never closed no longer staffs its kiosk
STAFFED_FOR = timedelta(hours=16)
#: the earliest a booked citizen may check in before his slot
CHECK_IN_EARLY = timedelta(minutes=60)
#: tries at a ticket number or at the next ticket before giving up
TRIES = 20
HOUSEKEEPING = "housekeeping"  # the audit log's name for the server's own rounds


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


# --- the day and the kiosk ---


@dataclass(frozen=True)
class Counter:
    """Where and by whom the counter's work is done, and the rules of the day."""

    kiosk: Kiosk
    clerk: str
    tz: ZoneInfo
    no_show_after: timedelta

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The local day as a UTC half-open interval [start, end)."""
        start = datetime.combine(day, time(), tzinfo=self.tz)
        return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=self.tz)


def kiosk_of(session: Session, kiosk_id: int) -> Kiosk:
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound(f"there is no kiosk {kiosk_id}")
    return kiosk


def service_of(session: Session, code: str) -> ServiceItem:
    service = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if service is None or not service.active:
        raise NotFound(f"there is no service {code!r} in the catalogue")
    return service


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- the counter's session ---


def staffed_since(now: datetime) -> datetime:
    return now - STAFFED_FOR


def open_counter(session: Session, counter: Counter, *, now: datetime) -> CounterSession:
    """The clerk's counter at the kiosk opened (the one already open, if any)."""
    opened = session.scalar(
        select(CounterSession).where(
            CounterSession.kiosk_id == counter.kiosk.id,
            CounterSession.clerk == counter.clerk,
            CounterSession.closed_at.is_(None),
            CounterSession.opened_at >= staffed_since(now),
        )
    )
    if opened is not None:
        return opened
    opened = CounterSession(kiosk_id=counter.kiosk.id, clerk=counter.clerk, opened_at=now)
    session.add(opened)
    session.flush()
    audit.record(
        session,
        by=counter.clerk,
        action="open",
        entity="counter",
        entity_id=opened.id,
        to_state="open",
        detail={"kiosk_id": counter.kiosk.id},
        at=now,
    )
    return opened


def close_counter(session: Session, counter: Counter, *, now: datetime) -> int:
    """Every counter of the clerk at the kiosk closed; how many were open."""
    sessions = session.scalars(
        select(CounterSession).where(
            CounterSession.kiosk_id == counter.kiosk.id,
            CounterSession.clerk == counter.clerk,
            CounterSession.closed_at.is_(None),
        )
    ).all()
    if not sessions:
        raise Conflict(f"{counter.clerk} has no open counter at kiosk {counter.kiosk.id} to close")
    for opened in sessions:
        opened.closed_at = now
        audit.record(
            session,
            by=counter.clerk,
            action="close",
            entity="counter",
            entity_id=opened.id,
            from_state="open",
            to_state="closed",
            detail={"kiosk_id": counter.kiosk.id},
            at=now,
        )
    session.flush()
    return len(sessions)


def is_staffed(session: Session, kiosk_id: int, *, now: datetime) -> bool:
    return bool(clerks_at(session, now=now).get(kiosk_id))


def clerks_at(session: Session, *, now: datetime) -> dict[int, int]:
    """The clerks at an open counter, per kiosk."""
    rows = session.execute(
        select(CounterSession.kiosk_id, func.count(func.distinct(CounterSession.clerk)))
        .where(CounterSession.closed_at.is_(None), CounterSession.opened_at >= staffed_since(now))
        .group_by(CounterSession.kiosk_id)
    ).all()
    return {kiosk_id: int(count) for kiosk_id, count in rows}


# --- tickets issued ---


def _issue(
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
    """A walk-in's ticket: A001, or P001 with priority."""
    service = service_of(session, service_code)
    if "kiosk" not in (service.channels or ["kiosk"]):
        raise InvalidInput(
            f"service {service.code} is not done at a kiosk's counter "
            f"(its channels: {', '.join(service.channels)})"
        )
    prefix = "P" if priority else "A"
    return _issue(
        session,
        counter,
        prefix=prefix,
        now=now,
        issued_at=now,
        service=service,
        priority=priority,
    )


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
    return _issue(
        session,
        counter,
        prefix="B",
        now=now,
        issued_at=now,
        service=service,
        booking=booking,
        slot_starts_at=slot.starts_at,
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
    return _issue(
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


# --- what the counter, the center and the citizens see ---


@dataclass(frozen=True)
class Stats:
    served_today: int
    booked_served: int
    walk_in_served: int
    mean_wait_s: float | None
    travel_saved_yuan: float
    served_total: int
    travel_saved_total_yuan: float


@dataclass(frozen=True)
class Today:
    """The clerk's day at his kiosk: its bookings (with slot start and service code), its
    tickets (with service code) and figures."""

    kiosk: Kiosk
    staffed: bool
    bookings: list[tuple[Booking, datetime, str]]
    tickets: list[tuple[Ticket, str]]
    stats: Stats


def stats_of(session: Session, counter: Counter, *, now: datetime) -> Stats:
    start, end = counter.day_bounds(counter.today(now))
    at_kiosk = ServiceRecord.kiosk_id == counter.kiosk.id
    today = (at_kiosk, ServiceRecord.done_at >= start, ServiceRecord.done_at < end)
    booked, walk_in, travel = session.execute(
        select(
            func.count().filter(ServiceRecord.booked.is_(True)),
            func.count().filter(ServiceRecord.booked.is_(False)),
            func.coalesce(func.sum(ServiceRecord.travel_saved_yuan), 0.0),
        ).where(*today)
    ).one()
    # a wait is the citizen's, not his services': one per ticket
    waits = session.scalars(
        select(func.max(ServiceRecord.waited_s)).where(*today).group_by(ServiceRecord.ticket_id)
    ).all()
    total, travel_total = session.execute(
        select(func.count(), func.coalesce(func.sum(ServiceRecord.travel_saved_yuan), 0.0)).where(
            at_kiosk
        )
    ).one()
    return Stats(
        served_today=int(booked) + int(walk_in),
        booked_served=int(booked),
        walk_in_served=int(walk_in),
        mean_wait_s=sum(waits) / len(waits) if waits else None,
        travel_saved_yuan=round(float(travel), 2),
        served_total=int(total),
        travel_saved_total_yuan=round(float(travel_total), 2),
    )


def today_of(session: Session, counter: Counter, *, now: datetime) -> Today:
    day = counter.today(now)
    start, end = counter.day_bounds(day)
    bookings = session.execute(
        select(Booking, Slot.starts_at, ServiceItem.code)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ServiceItem, ServiceItem.id == Booking.service_id)
        .where(
            Booking.kiosk_id == counter.kiosk.id,
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Booking.state.not_in([BookingState.HELD, BookingState.EXPIRED]),
        )
        .order_by(Slot.starts_at, Booking.id)
    ).all()
    tickets = session.execute(
        select(Ticket, ServiceItem.code)
        .join(ServiceItem, ServiceItem.id == Ticket.service_id)
        .where(Ticket.kiosk_id == counter.kiosk.id, Ticket.day == day)
        .order_by(Ticket.issued_at, Ticket.id)
    ).all()
    return Today(
        kiosk=counter.kiosk,
        staffed=is_staffed(session, counter.kiosk.id, now=now),
        bookings=[(b, s, c) for b, s, c in bookings],
        tickets=[(t, c) for t, c in tickets],
        stats=stats_of(session, counter, now=now),
    )


@dataclass(frozen=True)
class KioskStatus:
    kiosk: Kiosk
    zone_code: str | None
    clerks: int
    waiting: int
    serving: int
    booked_today: int
    served_today: int

    @property
    def staffed(self) -> bool:
        return self.clerks > 0


def status_of_kiosks(session: Session, *, now: datetime, tz: ZoneInfo) -> list[KioskStatus]:
    """Every kiosk's counter now: clerks at it, tickets waiting and at the counter, today's
    bookings (not held, expired or cancelled) and services done."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    tickets = session.execute(
        select(Ticket.kiosk_id, Ticket.state, func.count())
        .where(
            Ticket.day == day,
            Ticket.state.in_([TicketState.WAITING, TicketState.CALLED, TicketState.SERVING]),
        )
        .group_by(Ticket.kiosk_id, Ticket.state)
    ).all()
    waiting: dict[int, int] = {}
    serving: dict[int, int] = {}
    for kiosk_id, state, count in tickets:
        into = waiting if state == TicketState.WAITING else serving
        into[kiosk_id] = into.get(kiosk_id, 0) + count
    booked = dict(
        session.execute(
            select(Booking.kiosk_id, func.count())
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Slot.starts_at >= start,
                Slot.starts_at < end,
                Booking.state.in_(
                    [
                        BookingState.BOOKED,
                        BookingState.CHECKED_IN,
                        BookingState.SERVED,
                        BookingState.NO_SHOW,
                    ]
                ),
            )
            .group_by(Booking.kiosk_id)
        ).all()
    )
    served = dict(
        session.execute(
            select(ServiceRecord.kiosk_id, func.count())
            .where(ServiceRecord.done_at >= start, ServiceRecord.done_at < end)
            .group_by(ServiceRecord.kiosk_id)
        ).all()
    )
    clerks = clerks_at(session, now=now)
    kiosks = session.scalars(
        select(Kiosk).options(selectinload(Kiosk.zone)).order_by(Kiosk.id)
    ).all()
    return [
        KioskStatus(
            kiosk=kiosk,
            zone_code=kiosk.zone.code if kiosk.zone is not None else None,
            clerks=clerks.get(kiosk.id, 0),
            waiting=waiting.get(kiosk.id, 0),
            serving=serving.get(kiosk.id, 0),
            booked_today=booked.get(kiosk.id, 0),
            served_today=served.get(kiosk.id, 0),
        )
        for kiosk in kiosks
    ]
