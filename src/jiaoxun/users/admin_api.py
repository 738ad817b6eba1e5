"""Routes of user administration (`/api/users`): an admin creates accounts, disables and enables
them, resets passwords and revokes tokens; a commander may read the list. Every change is in
the audit log. A password an admin causes is random, shown once, and must be changed at the
next login."""

from __future__ import annotations

from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Depends, status
from sqlalchemy import select

from jiaoxun.city.models import Kiosk
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.passwords import hash_password, new_password
from jiaoxun.users.roles import Permission, Role
from jiaoxun.users.schemas import (
    Choice,
    NewPasswordOut,
    RevokedOut,
    UserIn,
    UserOptionsOut,
    UserOut,
)
from jiaoxun.users.service import (
    create_user,
    get_user,
    list_users,
    reset_password,
    revoke_user_tokens,
    set_active,
)
from jiaoxun.web.deps import AppState, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/users", tags=["users"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_USERS))]
Admin = Annotated[User, Depends(requires(Permission.MANAGE_USERS))]


def _hashed(state: AppState, password: str) -> str:
    # from this worker thread, a hashing slot of the login gate, like every password hash
    return anyio.from_thread.run(state.logins.run, lambda: hash_password(password))


@router.get("")
def users(_reader: Reader, session: SessionDep) -> list[UserOut]:
    """Every account with its role, unit or kiosk, and whether it is active or locked."""
    return [UserOut.model_validate(u) for u in list_users(session)]


@router.get("/options")
def options(_admin: Admin, session: SessionDep) -> UserOptionsOut:
    """What a new account may be: its role, an officer's unit, a kiosk clerk's kiosk."""
    units = session.execute(select(Unit.id, Unit.call_sign).order_by(Unit.call_sign))
    kiosks = session.execute(select(Kiosk.id, Kiosk.name).order_by(Kiosk.id))
    return UserOptionsOut(
        roles=list(Role),
        units=[Choice(id=i, name=n) for i, n in units],
        kiosks=[Choice(id=i, name=n) for i, n in kiosks],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create(
    body: UserIn, admin: Admin, session: SessionDep, state: StateDep, now: Now
) -> NewPasswordOut:
    """Add an account; its first password is shown once and must be changed at first login."""
    password = new_password()
    user = create_user(
        session,
        username=body.username,
        role=body.role,
        password_hash=_hashed(state, password),
        unit_id=body.unit_id,
        kiosk_id=body.kiosk_id,
        by=admin.username,
        now=now,
    )
    return NewPasswordOut(user=UserOut.model_validate(user), password=password)


@router.post("/{user_id}/disable")
def disable(user_id: RowId, admin: Admin, session: SessionDep, now: Now) -> UserOut:
    """He cannot log in, and his tokens are revoked at once."""
    user = get_user(session, user_id)
    return UserOut.model_validate(
        set_active(session, user=user, active=False, by=admin.username, now=now)
    )


@router.post("/{user_id}/enable")
def enable(user_id: RowId, admin: Admin, session: SessionDep, now: Now) -> UserOut:
    """He may log in again (a login lock is lifted too)."""
    user = get_user(session, user_id)
    return UserOut.model_validate(
        set_active(session, user=user, active=True, by=admin.username, now=now)
    )


@router.post("/{user_id}/password")
def reset(
    user_id: RowId, admin: Admin, session: SessionDep, state: StateDep, now: Now
) -> NewPasswordOut:
    """A new random password, shown once, to be changed at his next login; his tokens are
    revoked and a login lock is lifted."""
    password = new_password()
    password_hash = _hashed(state, password)
    user = reset_password(
        session,
        user=get_user(session, user_id),
        password_hash=password_hash,
        by=admin.username,
        now=now,
    )
    return NewPasswordOut(user=UserOut.model_validate(user), password=password)


@router.post("/{user_id}/revoke-tokens")
def revoke_tokens(user_id: RowId, admin: Admin, session: SessionDep, now: Now) -> RevokedOut:
    """Every live token of the user stops working at once (he stays able to log in)."""
    revoked = revoke_user_tokens(
        session, user=get_user(session, user_id), by=admin.username, now=now
    )
    return RevokedOut(revoked=revoked)
