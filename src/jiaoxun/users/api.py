"""Routes of users: logging in for a bearer token, and the user's own page (`/api/me`): his
unit, its open orders, and the registration of his phone as a GPS device."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from jiaoxun.audit.service import record
from jiaoxun.incidents.api import incident_out, order_out
from jiaoxun.incidents.dispatch import open_orders_of
from jiaoxun.tracking.devices import phone_of
from jiaoxun.units.api import unit_out
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import GRANTS, Permission
from jiaoxun.users.schemas import LoginIn, MeOut, MyOrderOut, OrderIncidentOut, TokenOut
from jiaoxun.users.service import authenticate, issue_token
from jiaoxun.web.deps import CurrentUser, Now, SessionDep, StateDep, read_session, requires

router = APIRouter(prefix="/api/auth", tags=["auth"])
me_router = APIRouter(prefix="/api/me", tags=["me"])
Manager = Annotated[User, Depends(requires(Permission.MANAGE_UNITS))]


@router.post("/token", responses={401: {"description": "wrong user name or password"}})
def login(body: LoginIn, state: StateDep, now: Now) -> TokenOut:
    """Trade a user name and password for a bearer token."""
    with read_session(state) as session:
        user = authenticate(session, username=body.username, password=body.password)
    with state.sessions() as session, session.begin():
        token, row = issue_token(
            session, user=user, ttl=timedelta(hours=state.settings.token_ttl_hours)
        )
        record(session, by=user.username, action="login", entity="user", entity_id=user.id, at=now)
    return TokenOut(
        access_token=token,
        expires_at=row.expires_at,
        username=user.username,
        role=user.role,
        unit_id=user.unit_id,
    )


@me_router.get("")
def me(user: CurrentUser, session: SessionDep, state: StateDep, now: Now) -> MeOut:
    """Who is logged in, what he may do, his unit with its open orders, his phone."""
    unit = session.get(Unit, user.unit_id) if user.unit_id is not None else None
    orders = open_orders_of(session, unit.id) if unit is not None else []
    phone = phone_of(session, user)
    return MeOut(
        username=user.username,
        role=user.role,
        permissions=sorted(GRANTS[user.role]),
        unit=unit_out(unit, state, now) if unit is not None else None,
        orders=[
            MyOrderOut(
                **order_out(o, state, now).model_dump(),
                incident=OrderIncidentOut.model_validate(
                    incident_out(o.incident, session, state).model_dump()
                ),
            )
            for o in orders
        ],
        phone_device_id=phone.device_id if phone is not None else None,
    )
