"""Routes of users: logging in for a bearer token, logging out, changing one's password, and the
user's own page (`/api/me`): his unit and its open orders."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from jiaoxun.audit.service import record
from jiaoxun.incidents.api import incident_out, order_out
from jiaoxun.incidents.dispatch import open_orders_of
from jiaoxun.tracking.devices import phone_of
from jiaoxun.units.api import unit_out
from jiaoxun.units.models import Unit
from jiaoxun.users.login import change_password, log_in
from jiaoxun.users.roles import GRANTS
from jiaoxun.users.schemas import (
    LoginIn,
    MeOut,
    MyOrderOut,
    OrderIncidentOut,
    PasswordChangeIn,
    TokenOut,
)
from jiaoxun.users.service import revoke_token
from jiaoxun.web.deps import Now, SessionDep, SignedIn, StateDep
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=Route)
me_router = APIRouter(prefix="/api/me", tags=["me"], route_class=Route)
_THROTTLED = {"description": "too many wrong passwords (the account or the address waits)"}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/token",
    responses={401: {"description": "wrong user name or password"}, 429: _THROTTLED},
)
async def login(body: LoginIn, request: Request, state: StateDep, now: Now) -> TokenOut:
    """Trade a user name and password for a bearer token. A token of a first-login or reset
    password (`must_change_password`) takes only the password change, `/api/me` and logout."""
    token, row, user = await log_in(
        state.logins,
        state.sessions,
        username=body.username,
        password=body.password,
        address=client_address(request),
        now=now,
        ttl=timedelta(hours=state.settings.token_ttl_hours),
    )
    return TokenOut(
        access_token=token,
        expires_at=row.expires_at,
        username=user.username,
        role=user.role,
        unit_id=user.unit_id,
        must_change_password=user.must_change_password,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(token: SignedIn, session: SessionDep, request: Request, now: Now) -> Response:
    """Revoke the bearer token of this request: it is refused from now on."""
    revoke_token(session, token_id=token.id, now=now)
    user = token.user
    record(
        session,
        by=user.username,
        action="logout",
        entity="user",
        entity_id=user.id,
        detail={"address": client_address(request)},
        at=now,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        403: {"description": "the current password is wrong"},
        422: {"description": "the new password breaks the rule (named)"},
        429: _THROTTLED,
    },
)
async def password(
    body: PasswordChangeIn, token: SignedIn, request: Request, state: StateDep, now: Now
) -> Response:
    """Change one's password (at least 12 characters, not the user name, not a common one);
    every other token of the user is revoked, this one stays."""
    await change_password(
        state.logins,
        state.sessions,
        token=token,
        current_password=body.current_password,
        new_password=body.new_password,
        address=client_address(request),
        now=now,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("")
def me(token: SignedIn, session: SessionDep, state: StateDep, now: Now) -> MeOut:
    """Who is logged in, what he may do, his unit with its open orders, his phone; only who he
    is while his password must be changed."""
    user = token.user
    if user.must_change_password:
        return MeOut(
            username=user.username,
            role=user.role,
            permissions=sorted(GRANTS[user.role]),
            unit=None,
            orders=[],
            phone_device_id=None,
            must_change_password=True,
        )
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
