"""A kiosk's counter: the clerk at it (a counter session; a kiosk is staffed while one is
open), the day's rules, and what the counter, the command center and the citizens see of it
(the day's bookings and queue, the figures, every kiosk's status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from jiaoxun.audit import service as audit
from jiaoxun.city.models import Kiosk
from jiaoxun.duty.models import DutyShift, Post, Roster, RosterState
from jiaoxun.errors import Conflict
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
from jiaoxun.units.models import Unit
from jiaoxun.units.service import crew_sizes
from jiaoxun.units.status import FREE, UnitStatus

#: a counter opened longer ago than this and never closed no longer staffs its kiosk
STAFFED_FOR = timedelta(hours=16)
#: appointments this far ahead are flagged at a kiosk with no one at the counter
STAFFING_AHEAD = timedelta(hours=2)
#: unit statuses of a car out on an order
ON_ORDER = frozenset({UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE})


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
    hand = on_hand(session, now=now).get(kiosk_id)
    return hand is not None and hand.staffed


@dataclass(frozen=True)
class OnHand:
    """Who is at a kiosk now, and its cars: its counter is staffed while a clerk has it open,
    an officer is rostered at it, or a crewed car stands by at the kiosk; a kiosk whose cars
    are all sent out and has no one at the counter is empty."""

    clerks: int
    counter_officers: int  # the published roster's counter post now
    cars: int
    crewed: int
    free: int  # crewed and free for an order
    standing_by: int  # crewed and standing by at the kiosk
    out: int  # on an order

    @property
    def staffed(self) -> bool:
        return self.clerks + self.counter_officers + self.standing_by > 0


def on_hand(session: Session, *, now: datetime) -> dict[int, OnHand]:
    """Per kiosk id: who is at it now and where its cars are."""
    clerks = clerks_at(session, now=now)
    counter = dict(
        session.execute(
            select(DutyShift.kiosk_id, func.count())
            .join(Roster, Roster.id == DutyShift.roster_id)
            .where(
                Roster.state == RosterState.PUBLISHED,
                DutyShift.post == Post.COUNTER,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
            )
            .group_by(DutyShift.kiosk_id)
        ).all()
    )
    crews = crew_sizes(session)
    cars: dict[int, list[Unit]] = {}
    rows = session.execute(select(Kiosk.id, Unit).join(Unit, Unit.zone_id == Kiosk.zone_id))
    for kiosk_id, unit in rows:
        cars.setdefault(kiosk_id, []).append(unit)
    hands = {}
    for kiosk_id in session.scalars(select(Kiosk.id)):
        own = cars.get(kiosk_id, [])
        crewed = [u for u in own if crews.get(u.id)]
        hands[kiosk_id] = OnHand(
            clerks=clerks.get(kiosk_id, 0),
            counter_officers=int(counter.get(kiosk_id, 0)),
            cars=len(own),
            crewed=len(crewed),
            free=sum(u.status in FREE for u in crewed),
            standing_by=sum(u.status is UnitStatus.AT_KIOSK for u in crewed),
            out=sum(u.status in ON_ORDER for u in own),
        )
    return hands


def bookings_due(session: Session, *, now: datetime, within: timedelta) -> dict[int, int]:
    """Per kiosk id: booked appointments whose slot starts from now to `within` ahead."""
    rows = session.execute(
        select(Booking.kiosk_id, func.count())
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.state == BookingState.BOOKED,
            Slot.starts_at >= now,
            Slot.starts_at < now + within,
        )
        .group_by(Booking.kiosk_id)
    )
    return {kiosk_id: int(n) for kiosk_id, n in rows}


def clerks_at(session: Session, *, now: datetime) -> dict[int, int]:
    """The clerks at an open counter, per kiosk."""
    rows = session.execute(
        select(CounterSession.kiosk_id, func.count(func.distinct(CounterSession.clerk)))
        .where(CounterSession.closed_at.is_(None), CounterSession.opened_at >= staffed_since(now))
        .group_by(CounterSession.kiosk_id)
    ).all()
    return {kiosk_id: int(count) for kiosk_id, count in rows}


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
    hand: OnHand
    bookings: list[tuple[Booking, datetime, str]]
    tickets: list[tuple[Ticket, str]]
    stats: Stats

    @property
    def staffed(self) -> bool:
        return self.hand.staffed

    def flagged(self, booking: Booking, starts_at: datetime, *, now: datetime) -> bool:
        """A booked appointment due soon at a kiosk with no one at the counter."""
        soon = now <= starts_at < now + STAFFING_AHEAD
        return not self.staffed and booking.state is BookingState.BOOKED and soon


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
    # late in the evening the clerk also sees the bookings due soon after midnight: the ones that
    # may be flagged to rebook
    end = max(end, now + STAFFING_AHEAD)
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
        hand=on_hand(session, now=now)[counter.kiosk.id],
        bookings=[(b, s, c) for b, s, c in bookings],
        tickets=[(t, c) for t, c in tickets],
        stats=stats_of(session, counter, now=now),
    )


@dataclass(frozen=True)
class KioskStatus:
    kiosk: Kiosk
    zone_code: str | None
    hand: OnHand
    waiting: int
    serving: int
    booked_today: int
    served_today: int
    #: booked appointments soon (`STAFFING_AHEAD`) at a kiosk with no one at the counter
    flagged: int

    @property
    def staffed(self) -> bool:
        return self.hand.staffed

    @property
    def clerks(self) -> int:
        return self.hand.clerks


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
    hands = on_hand(session, now=now)
    due = bookings_due(session, now=now, within=STAFFING_AHEAD)
    kiosks = session.scalars(
        select(Kiosk).options(selectinload(Kiosk.zone)).order_by(Kiosk.id)
    ).all()
    return [
        KioskStatus(
            kiosk=kiosk,
            zone_code=kiosk.zone.code if kiosk.zone is not None else None,
            hand=hands[kiosk.id],
            waiting=waiting.get(kiosk.id, 0),
            serving=serving.get(kiosk.id, 0),
            booked_today=booked.get(kiosk.id, 0),
            served_today=served.get(kiosk.id, 0),
            flagged=0 if hands[kiosk.id].staffed else due.get(kiosk.id, 0),
        )
        for kiosk in kiosks
    ]
