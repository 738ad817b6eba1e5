"""Routes of a kiosk's counter (its clerk; commanders and admins name the kiosk), the command
center's view of every kiosk, and the citizens' list of kiosks."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from jiaoxun.db import MAX_ID
from jiaoxun.errors import InvalidInput, NotAllowed
from jiaoxun.services import checkin, queue, schemas
from jiaoxun.services import counter as counters
from jiaoxun.services.models import ServiceItem, Ticket
from jiaoxun.services.slots import kiosk_of
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, Role
from jiaoxun.web.deps import Now, PublicClient, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["kiosk counter"], route_class=Route)
Clerk = Annotated[User, Depends(requires(Permission.SERVE_CITIZENS))]
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]


def counter_of(
    session: SessionDep,
    state: StateDep,
    user: Clerk,
    kiosk_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="the kiosk (commanders and admins; a clerk's own)"),
    ] = None,
) -> counters.Counter:
    """The counter the user works at: a clerk's own kiosk, or the one a commander names."""
    if user.role == Role.KIOSK_CLERK:
        if user.kiosk_id is None:
            raise NotAllowed(
                f"a kiosk clerk works at his own kiosk only; {user.username} has no kiosk"
            )
        if kiosk_id is not None and kiosk_id != user.kiosk_id:
            raise NotAllowed(
                f"a kiosk clerk works at his own kiosk {user.kiosk_id} only; "
                f"kiosk {kiosk_id} is not his"
            )
        kiosk_id = user.kiosk_id
    elif kiosk_id is None:
        raise InvalidInput(f"role {user.role.value} names the kiosk it works at: ?kiosk_id=")
    return counters.Counter(
        kiosk=kiosk_of(session, kiosk_id),
        clerk=user.username,
        tz=state.settings.tz,
        no_show_after=timedelta(minutes=state.settings.services_no_show_min),
    )


CounterDep = Annotated[counters.Counter, Depends(counter_of)]


def ticket_out(ticket: Ticket, service: str) -> schemas.TicketOut:
    return schemas.TicketOut(
        id=ticket.id,
        number=ticket.number,
        service=service,
        priority=ticket.priority,
        booked=ticket.booking_id is not None,
        state=ticket.state.value,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        serving_at=ticket.serving_at,
        recalls=ticket.recalls,
        slot_starts_at=ticket.slot_starts_at,
        transferred_from_id=ticket.transferred_from_id,
    )


def _out(session: SessionDep, ticket: Ticket) -> schemas.TicketOut:
    service = session.get(ServiceItem, ticket.service_id)
    return ticket_out(ticket, service.code if service else "")


def _counter_out(session: SessionDep, counter: counters.Counter, *, now: Now) -> schemas.CounterOut:
    return schemas.CounterOut(
        kiosk=schemas.CounterKioskOut(id=counter.kiosk.id, name=counter.kiosk.name),
        staffed=counters.is_staffed(session, counter.kiosk.id, now=now),
        clerk=counter.clerk,
    )


def _hand_out(hand: counters.OnHand) -> schemas.OnHandOut:
    return schemas.OnHandOut(**dataclasses.asdict(hand))


@router.post("/api/counter/open")
def open_counter(session: SessionDep, counter: CounterDep, now: Now) -> schemas.CounterOut:
    """The clerk at his counter: the kiosk is staffed (for at most 16 hours unless closed)."""
    counters.open_counter(session, counter, now=now)
    return _counter_out(session, counter, now=now)


@router.post("/api/counter/close")
def close_counter(session: SessionDep, counter: CounterDep, now: Now) -> schemas.CounterOut:
    """The clerk's counter closed."""
    counters.close_counter(session, counter, now=now)
    return _counter_out(session, counter, now=now)


@router.get("/api/counter/today")
def today(session: SessionDep, counter: CounterDep, now: Now) -> schemas.TodayOut:
    """The kiosk's day: bookings (masked), tickets and figures."""
    day = counters.today_of(session, counter, now=now)
    s = day.stats
    return schemas.TodayOut(
        kiosk=schemas.CounterKioskOut(id=day.kiosk.id, name=day.kiosk.name),
        staffed=day.staffed,
        on_hand=_hand_out(day.hand),
        bookings=[
            schemas.CounterBookingOut(
                id=b.id,
                service=code,
                starts_at=starts_at,
                state=b.state.value,
                name_masked=b.name_masked,
                id_masked=b.id_masked,
                phone_masked=b.phone_masked,
                flagged=day.flagged(b, starts_at, now=now),
            )
            for b, starts_at, code in day.bookings
        ],
        tickets=[ticket_out(t, code) for t, code in day.tickets],
        stats=schemas.CounterStatsOut(
            served_today=s.served_today,
            booked_served=s.booked_served,
            walk_in_served=s.walk_in_served,
            mean_wait_s=s.mean_wait_s,
            travel_saved_yuan=s.travel_saved_yuan,
            served_total=s.served_total,
            travel_saved_total_yuan=s.travel_saved_total_yuan,
        ),
    )


@router.post("/api/counter/check-in", status_code=201)
def check_in(
    session: SessionDep, counter: CounterDep, now: Now, body: schemas.CodeIn
) -> schemas.TicketOut:
    """A booked citizen at his kiosk on his day: his B ticket."""
    return _out(session, checkin.check_in(session, counter, code=body.code, now=now))


@router.post("/api/counter/tickets", status_code=201)
def walk_in(
    session: SessionDep, counter: CounterDep, now: Now, body: schemas.WalkInIn
) -> schemas.TicketOut:
    """A walk-in's ticket (A, or P with priority)."""
    ticket = queue.issue_walk_in(
        session, counter, service_code=body.service, priority=body.priority, now=now
    )
    return _out(session, ticket)


@router.post("/api/counter/call-next")
def call_next(
    session: SessionDep, counter: CounterDep, now: Now, body: schemas.CallNextIn | None = None
) -> schemas.TicketOut:
    """The next citizen called to the clerk (of the services named, or any)."""
    codes = body.services if body is not None else []
    return _out(session, queue.call_next(session, counter, now=now, service_codes=codes))


@router.post("/api/counter/tickets/{ticket_id}/recall")
def recall(
    session: SessionDep, counter: CounterDep, now: Now, ticket_id: RowId
) -> schemas.TicketOut:
    """A called citizen called again."""
    return _out(session, queue.recall(session, counter, ticket_id, now=now))


@router.post("/api/counter/tickets/{ticket_id}/no-show")
def no_show(
    session: SessionDep, counter: CounterDep, now: Now, ticket_id: RowId
) -> schemas.TicketOut:
    """A called citizen who did not come (his booking too)."""
    return _out(session, queue.no_show(session, counter, ticket_id, now=now))


@router.post("/api/counter/tickets/{ticket_id}/serve")
def serve(
    session: SessionDep, counter: CounterDep, now: Now, ticket_id: RowId
) -> schemas.TicketOut:
    """A called citizen at the counter."""
    return _out(session, queue.serve(session, counter, ticket_id, now=now))


@router.post("/api/counter/tickets/{ticket_id}/transfer", status_code=201)
def transfer(
    session: SessionDep, counter: CounterDep, now: Now, ticket_id: RowId, body: schemas.TransferIn
) -> schemas.TicketOut:
    """The citizen sent on to another service: his new ticket, in the same place."""
    ticket = queue.transfer(session, counter, ticket_id, service_code=body.service, now=now)
    return _out(session, ticket)


@router.post("/api/counter/tickets/{ticket_id}/done")
def done(
    session: SessionDep, counter: CounterDep, now: Now, ticket_id: RowId, body: schemas.DoneIn
) -> schemas.DoneOut:
    """The citizen served: one service record per service done."""
    records = queue.done(session, counter, ticket_id, service_codes=body.services, now=now)
    ticket = queue.ticket_at(session, counter, ticket_id)
    return schemas.DoneOut(
        ticket=_out(session, ticket),
        records=[
            schemas.ServiceRecordOut(
                id=r.id,
                service=code,
                booked=r.booked,
                waited_s=r.waited_s,
                served_s=r.served_s,
                fee_yuan=r.fee_yuan,
                travel_saved_yuan=r.travel_saved_yuan,
            )
            for r, code in zip(records, body.services, strict=True)
        ],
    )


@router.get("/api/kiosks/status")
def kiosks_status(
    session: SessionDep, state: StateDep, now: Now, _user: Reader
) -> list[schemas.KioskStatusOut]:
    """Every kiosk's counter now, for the command center."""
    return [
        schemas.KioskStatusOut(
            kiosk_id=s.kiosk.id,
            name=s.kiosk.name,
            staffed=s.staffed,
            clerks=s.clerks,
            on_hand=_hand_out(s.hand),
            flagged=s.flagged,
            waiting=s.waiting,
            serving=s.serving,
            booked_today=s.booked_today,
            served_today=s.served_today,
        )
        for s in counters.status_of_kiosks(session, now=now, tz=state.settings.tz)
    ]


@router.get("/api/public/kiosks")
def public_kiosks(
    session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> list[schemas.PublicKioskOut]:
    """The kiosks for citizens: where they are, whether a clerk is in, how many wait."""
    return [
        schemas.PublicKioskOut(
            id=s.kiosk.id,
            name=s.kiosk.name,
            landmark=s.kiosk.landmark,
            lon=s.kiosk.lon,
            lat=s.kiosk.lat,
            zone_code=s.zone_code,
            staffed=s.staffed,
            waiting=s.waiting,
        )
        for s in counters.status_of_kiosks(session, now=now, tz=state.settings.tz)
    ]
