"""The live event stream (`WS /api/events`), opened with a one-time ticket and filtered by
what the viewer may know.

A browser cannot put a header on a WebSocket, and a bearer token in a URL ends up in access
logs. So a page first asks for a ticket with its token (`POST /api/events/ticket`), a
one-time pass good for a few seconds, like a cloakroom ticket: it proves nothing once used.
The socket then checks the token behind it again and again: a logout, a disabled user or an
expired token closes it. Officers see their own zone's units and incidents and their own
orders; a role that may not read operations gets no stream at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.db import MAX_ID
from jiaoxun.errors import JiaoxunError, NotAllowed, NotAuthenticated
from jiaoxun.events import Event, Subscription
from jiaoxun.units.models import Unit
from jiaoxun.users.models import ApiToken, StreamTicket
from jiaoxun.users.roles import Permission, Role, may
from jiaoxun.web.deps import AppState, CurrentUser, Now, StateDep, read_session
from jiaoxun.web.routing import Route

router = APIRouter(tags=["events"], route_class=Route)
TTL = timedelta(seconds=30)
RECHECK_S = 5.0  # how soon a revoked or expired token's socket closes
_POLICY_VIOLATION = 1008
_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/auth/token")


class TicketOut(BaseModel):
    ticket: str
    expires_at: datetime


@dataclass(frozen=True)
class Viewer:
    """Who watches the stream, and so which events reach him."""

    token_id: int
    role: Role
    unit_id: int | None
    zone_id: int | None
    zone_units: frozenset[int]

    def sees(self, event: Event) -> bool:
        if self.role is not Role.OFFICER:
            return True
        data = event.data
        if event.kind == "incident":
            return data.get("zone_id") is not None and data.get("zone_id") == self.zone_id
        if event.kind == "order":
            return data.get("unit_id") == self.unit_id
        unit = data.get("unit_id", data.get("id") if event.kind == "unit" else None)
        return unit in self.zone_units


@router.post("/api/events/ticket", status_code=201)
def ticket(
    user: CurrentUser,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    state: StateDep,
    now: Now,
) -> TicketOut:
    """A one-time ticket for opening `WS /api/events?ticket=…` within 30 seconds."""
    if not may(user.role, Permission.READ_OPERATIONS):
        raise NotAllowed(f"role {user.role.value} may not read operations")
    assert credentials is not None  # CurrentUser has checked it
    value = secrets.token_urlsafe(24)
    with state.sessions() as session, session.begin():
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_sha256 == _sha256(credentials.credentials))
        )
        if token is None:
            raise NotAuthenticated("the bearer token is not valid")
        row = StreamTicket(ticket_sha256=_sha256(value), token_id=token.id, expires_at=now + TTL)
        session.add(row)
    return TicketOut(ticket=value, expires_at=now + TTL)


@router.websocket("/api/events")
async def events(
    websocket: WebSocket,
    ticket: Annotated[str, Query(max_length=100)] = "",
    moves_of: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> None:
    """Every incident, order, unit, zone and check-in change the viewer may know, as JSON.
    `?ticket=` from `POST /api/events/ticket`; `?moves_of=<unit id>` keeps only that unit's
    positions (an officer's phone needs no fleet's worth of them)."""
    state: AppState = websocket.app.state.jiaoxun
    try:
        viewer = await anyio.to_thread.run_sync(_admit, state, ticket)
    except JiaoxunError as exc:
        await websocket.close(code=_POLICY_VIOLATION, reason=str(exc)[:120])
        return
    # subscribed before the handshake ends: what a page loads once the socket is open,
    # and every change after it, reach it
    with state.bus.subscribe() as subscription:
        await websocket.accept()
        await _stream(websocket, subscription, state, viewer, moves_of=moves_of)


def _admit(state: AppState, ticket: str) -> Viewer:
    """Spend the ticket (once) and say who it admits."""
    if not ticket:
        raise NotAuthenticated("a ?ticket= from POST /api/events/ticket is needed")
    now = datetime.now(UTC)
    with state.sessions() as session, session.begin():
        spent = session.execute(
            update(StreamTicket)
            .where(
                StreamTicket.ticket_sha256 == _sha256(ticket),
                StreamTicket.used_at.is_(None),
                StreamTicket.expires_at > now,
            )
            .values(used_at=now)
            .returning(StreamTicket.token_id)
        ).scalar()
        if spent is None:
            raise NotAuthenticated("the ticket is unknown, used or expired")
        return _viewer(session, spent, now=now)


def _viewer(session: Session, token_id: int, *, now: datetime) -> Viewer:
    token = session.get(ApiToken, token_id)
    reason = _dead(token, now=now)
    if reason or token is None:
        raise NotAuthenticated(reason or "the token is gone")
    user = token.user
    if not may(user.role, Permission.READ_OPERATIONS):
        raise NotAllowed(f"role {user.role.value} may not read operations")
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    zone_id = unit.zone_id if unit else None
    mates: list[int] = []
    if unit is not None:
        mates = list(session.scalars(select(Unit.id).where(Unit.zone_id == zone_id)))
    return Viewer(token.id, user.role, user.unit_id, zone_id, frozenset(mates))


def _dead(token: ApiToken | None, *, now: datetime) -> str | None:
    """Why a token no longer admits to the stream, or None."""
    if token is None:
        return "the token is gone"
    if token.revoked_at is not None:
        return "the token was revoked"
    if token.expires_at.replace(tzinfo=token.expires_at.tzinfo or UTC) <= now:
        return "the token expired"
    if not token.user.active:
        return f"user {token.user.username!r} is disabled"
    if token.user.must_change_password:
        return "the password must be changed first"
    return None


async def _stream(
    websocket: WebSocket,
    events: Subscription,
    state: AppState,
    viewer: Viewer,
    *,
    moves_of: int | None,
) -> None:
    """Send what `viewer` may see of `events` until the client leaves, the server stops
    (which closes the socket: reading it is what notices, even while no event flows), or the
    token behind the ticket dies."""
    async with anyio.create_task_group() as tasks:

        async def send() -> None:
            try:
                async for event in events:
                    if viewer.sees(event) and not (moves_of and _moves_of_another(event, moves_of)):
                        await websocket.send_text(event.text)
            except (WebSocketDisconnect, OSError):
                pass  # gone while an event was on its way
            tasks.cancel_scope.cancel()

        async def closed() -> None:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # the stream is one way: what a client sends is ignored
            tasks.cancel_scope.cancel()

        async def recheck() -> None:
            while True:
                await anyio.sleep(RECHECK_S)
                reason = await anyio.to_thread.run_sync(_still_good, state, viewer.token_id)
                if reason:
                    await websocket.close(code=_POLICY_VIOLATION, reason=reason)
                    tasks.cancel_scope.cancel()

        tasks.start_soon(send)
        tasks.start_soon(closed)
        tasks.start_soon(recheck)


def _still_good(state: AppState, token_id: int) -> str | None:
    with read_session(state) as session:
        return _dead(session.get(ApiToken, token_id), now=datetime.now(UTC))


def _moves_of_another(event: Event, unit_id: int) -> bool:
    data = event.data
    return (event.kind, event.action) == ("unit", "moved") and (
        data.get("unit_id", data.get("id")) != unit_id
    )


def purge_tickets(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Delete the tickets that can admit no one any more; how many."""
    with sessions() as session, session.begin():
        gone = session.execute(
            delete(StreamTicket).where(StreamTicket.expires_at < now).returning(StreamTicket.id)
        )
        return len(gone.all())


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
