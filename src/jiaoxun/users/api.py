"""Routes of logging in: a user name and password for a bearer token."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from jiaoxun.audit.service import record
from jiaoxun.users.schemas import LoginIn, TokenOut
from jiaoxun.users.service import authenticate, issue_token
from jiaoxun.web.deps import Now, StateDep, read_session

router = APIRouter(prefix="/api/auth", tags=["auth"])


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
