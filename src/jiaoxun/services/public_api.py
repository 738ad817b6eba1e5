"""The citizens' routes (no login, limited per client address): the nearest kiosk by road,
free slots, holds, bookings and their changes, the waiting list, the violations lookup.

No secret or personal datum travels in a URL: codes, ID numbers, phones and positions are in
JSON bodies. A reply shows a citizen only what is his (masked) and nothing internal."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from typing import Annotated

import numpy as np
import segno
from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.models import Kiosk
from jiaoxun.city.service import gazetteer_for
from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.services import booking, schemas, waitlist
from jiaoxun.services.booking import Seen
from jiaoxun.services.citizens import Citizen
from jiaoxun.services.codes import normal_code
from jiaoxun.services.hours import SlotTime
from jiaoxun.services.identity import identity_key_of
from jiaoxun.services.models import ServiceItem
from jiaoxun.services.notify import messages_of
from jiaoxun.services.slots import BookingRules, bookable_service, kiosk_of, open_days
from jiaoxun.traffic.plates import check_plate
from jiaoxun.traffic.violations import public_violations
from jiaoxun.web.deps import AppState, Now, PublicClient, SessionDep, StateDep
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/public", tags=["citizens"], route_class=Route)


def _rules(state: AppState) -> BookingRules:
    return BookingRules.from_settings(state.settings)


def _citizen(state: AppState, body: schemas.CitizenIn, *, today: date) -> Citizen:
    key = state.identity_key.get(lambda: identity_key_of(state.settings))
    return Citizen.of(
        name=body.name, id_number=body.id_number, phone=body.phone, key=key, today=today
    )


def _slot_out(slot: SlotTime, free: int) -> schemas.SlotOut:
    return schemas.SlotOut(
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        local_time=slot.local_time,
        after_hours=slot.after_hours,
        capacity=slot.capacity,
        free=free,
    )


def _booking_out(session: Session, seen: Seen, *, now: Now) -> schemas.BookingOut:
    b = seen.booking
    return schemas.BookingOut(
        kiosk_id=seen.kiosk.id,
        kiosk_name=seen.kiosk.name,
        service=seen.service.code,
        service_name_zh=seen.service.name_zh,
        service_name_en=seen.service.name_en,
        starts_at=seen.slot.starts_at,
        ends_at=seen.slot.ends_at,
        state=b.state.value,
        hold_expires_at=b.hold_expires_at,
        name_masked=b.name_masked,
        id_masked=b.id_masked,
        phone_masked=b.phone_masked,
        messages=[
            schemas.MessageOut(kind=m.kind, text_zh=m.text_zh, text_en=m.text_en, at=m.due_at)
            for m in messages_of(session, b.code_sha256, now=now)
        ],
    )


@router.post("/kiosks/nearest")
def nearest_kiosks(
    body: schemas.NearestIn, session: SessionDep, state: StateDep, _client: PublicClient
) -> schemas.NearestOut:
    """The kiosks by road travel time from a position or an address of the city."""
    if body.lon is not None and body.lat is not None:
        origin = schemas.OriginOut(lon=body.lon, lat=body.lat, label="")
    elif body.address is not None:
        gazetteer = state.gazetteer.get(
            lambda: gazetteer_for(session, state.settings, state.city.travel_times)
        )
        found = gazetteer.search(body.address, limit=1)
        if not found:
            raise NotFound(f"no street or place of the city is called {body.address!r}")
        origin = schemas.OriginOut(lon=found[0].lon, lat=found[0].lat, label=found[0].name)
    else:
        raise InvalidInput("give a position (lon and lat) or an address")
    kiosks = list(session.scalars(select(Kiosk).order_by(Kiosk.id)))
    if not kiosks:
        return schemas.NearestOut(origin=origin, kiosks=[])
    travel = state.city.travel_times
    start = travel.snap(origin.lon, origin.lat)
    targets = travel.snap_many(np.array([k.lon for k in kiosks]), np.array([k.lat for k in kiosks]))
    times = travel.times_from(start, targets)
    near = []
    for i, kiosk in enumerate(kiosks):
        if not np.isfinite(times[i]):
            continue
        route = travel.route(start, targets[i])
        near.append(
            schemas.NearKioskOut(
                id=kiosk.id,
                name=kiosk.name,
                landmark=kiosk.landmark,
                lon=kiosk.lon,
                lat=kiosk.lat,
                travel_time_s=round(float(times[i]), 1),
                distance_m=round(route.distance_m, 1),
            )
        )
    near.sort(key=lambda k: k.travel_time_s)
    return schemas.NearestOut(origin=origin, kiosks=near)


@router.get("/slots")
def free_slots(
    session: SessionDep,
    state: StateDep,
    now: Now,
    _client: PublicClient,
    kiosk_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
    service: Annotated[str, Query(min_length=1, max_length=20)],
    start: Annotated[date | None, Query(description="first day (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> schemas.SlotsOut:
    """The slots of a service at a kiosk, day by day, with their free places."""
    rules = _rules(state)
    first = start or rules.today(now)
    if not rules.today(now) <= first <= rules.last_day(now):
        raise InvalidInput(
            f"slots are shown from today ({rules.today(now)}) to {rules.last_day(now)}, "
            f"not from {first}"
        )
    last = min(first + timedelta(days=days - 1), rules.last_day(now))
    wanted = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    kiosk = kiosk_of(session, kiosk_id)
    item = bookable_service(session, service)
    found = open_days(session, kiosk=kiosk, service=item, days=wanted, now=now, rules=rules)
    assumed = [d.day.day.isoformat() for d in found if d.day.assumed]
    return schemas.SlotsOut(
        kiosk_id=kiosk.id,
        service=item.code,
        calendar_note=(
            f"the statutory calendar does not know {', '.join(assumed)}: Monday to Friday are "
            "taken as working days until the year's holidays are entered"
            if assumed
            else ""
        ),
        days=[
            schemas.DayOut(
                date=d.day.day,
                day_kind=d.kind.value,
                holiday=d.day.holiday,
                assumed=d.day.assumed,
                slots=[_slot_out(slot, free) for slot, free in d.slots],
            )
            for d in found
        ],
    )


@router.post("/holds", status_code=201)
def hold_place(
    body: schemas.HoldIn, session: SessionDep, state: StateDep, now: Now, client: PublicClient
) -> schemas.HoldOut:
    """A place kept while the citizen fills in the form (`services_hold_min`); one address
    keeps a few at once (`services_holds_per_address`)."""
    code, held = booking.hold(
        session,
        holder=hashlib.sha256(client.encode()).hexdigest(),
        kiosk_id=body.kiosk_id,
        service_code=body.service,
        starts_at=body.starts_at,
        now=now,
        rules=_rules(state),
    )
    slot = booking.find(session, code=code).slot
    assert held.hold_expires_at is not None
    local = slot.starts_at.astimezone(_rules(state).tz)
    return schemas.HoldOut(
        code=code,
        expires_at=held.hold_expires_at,
        slot=schemas.SlotOut(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            local_time=f"{local:%H:%M}",
            after_hours=False,
            capacity=slot.capacity,
            free=slot.capacity - slot.taken,
        ),
    )


@router.post("/bookings", status_code=201)
def book_slot(
    body: schemas.BookingIn, session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> schemas.BookedOut:
    """Book a slot (the place held by `code`, or a free one) with the citizen's details."""
    rules = _rules(state)
    citizen = _citizen(state, body, today=rules.today(now))
    code, seen = booking.book(
        session,
        kiosk_id=body.kiosk_id,
        service_code=body.service,
        starts_at=body.starts_at,
        citizen=citizen,
        code=body.code,
        now=now,
        rules=rules,
    )
    return schemas.BookedOut(code=normal_code(code), booking=_booking_out(session, seen, now=now))


@router.post("/bookings/find")
def find_booking(
    body: schemas.CodeIn, session: SessionDep, now: Now, _client: PublicClient
) -> schemas.BookingOut:
    """A booking and its messages, by its code."""
    return _booking_out(session, booking.find(session, code=body.code), now=now)


@router.post("/bookings/confirm")
def confirm_offer(
    body: schemas.CodeIn, session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> schemas.BookingOut:
    """Book the place offered from the waiting list."""
    seen = booking.confirm(session, code=body.code, now=now, rules=_rules(state))
    return _booking_out(session, seen, now=now)


@router.post("/bookings/change")
def change_booking(
    body: schemas.ChangeIn, session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> schemas.BookingOut:
    """Move a booking to another slot of its service at its kiosk."""
    seen = booking.change(
        session, code=body.code, starts_at=body.starts_at, now=now, rules=_rules(state)
    )
    return _booking_out(session, seen, now=now)


@router.post("/bookings/cancel")
def cancel_booking(
    body: schemas.CodeIn, session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> schemas.BookingOut:
    seen = booking.cancel(session, code=body.code, now=now, rules=_rules(state))
    return _booking_out(session, seen, now=now)


@router.post(
    "/bookings/qr", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}
)
def booking_qr(body: schemas.CodeIn, session: SessionDep, _client: PublicClient) -> Response:
    """The QR code of a booking's code (SVG), to show at the counter."""
    booking.find(session, code=body.code)  # a code of no booking: 404
    buffer = io.BytesIO()
    segno.make(normal_code(body.code), error="m").save(buffer, kind="svg", scale=8, border=2)
    return Response(buffer.getvalue(), media_type="image/svg+xml")


@router.post("/waitlist", status_code=201)
def join_waitlist(
    body: schemas.WaitlistIn, session: SessionDep, state: StateDep, now: Now, _client: PublicClient
) -> schemas.WaitingOut:
    """On the waiting list of a full day: a freed place is offered to the first one waiting."""
    rules = _rules(state)
    code, entry = waitlist.join(
        session,
        kiosk_id=body.kiosk_id,
        service_code=body.service,
        day=body.day,
        citizen=_citizen(state, body, today=rules.today(now)),
        now=now,
        rules=rules,
    )
    return schemas.WaitingOut(
        code=code, kiosk_id=entry.kiosk_id, service=body.service, day=entry.day, state=entry.state
    )


@router.post("/waitlist/leave")
def leave_waitlist(
    body: schemas.CodeIn, session: SessionDep, now: Now, _client: PublicClient
) -> schemas.WaitingOut:
    entry = waitlist.leave(session, code=body.code, now=now)
    service = session.get(ServiceItem, entry.service_id)
    return schemas.WaitingOut(
        code=normal_code(body.code),
        kiosk_id=entry.kiosk_id,
        service=service.code if service else "",
        day=entry.day,
        state=entry.state,
    )


@router.post("/violations/lookup")
def look_up_violations(
    body: schemas.ViolationLookupIn, session: SessionDep, state: StateDep, _client: PublicClient
) -> schemas.ViolationLookupOut:
    """A vehicle's violations by plate and the engine number's last 6 characters (as the
    national traffic app asks). A wrong tail finds nothing, exactly as a plate without
    violations does; what was recorded without the registration card is found at a counter."""
    plate = check_plate(body.plate).plate
    key = state.identity_key.get(lambda: identity_key_of(state.settings))
    rows = public_violations(session, plate=plate, engine_tail=body.engine_tail, key=key)
    return schemas.ViolationLookupOut(
        available=True,
        message_zh="违法记录按号牌和发动机号后6位查询；现场未出示行驶证而记录的违法，请到警务室窗口查询。",
        message_en="violations are found by plate and the engine number's last 6; those recorded "
        "without the registration card are found at a kiosk's counter.",
        violations=[
            schemas.PublicViolationOut(
                number=v.number,
                at=v.at,
                place=v.place,
                code=v.code,
                name_zh=v.name_zh,
                name_en=v.name_en,
                points=v.points,
                fine_yuan=v.fine_yuan,
                state=v.state.value,
            )
            for v in rows
        ],
    )
