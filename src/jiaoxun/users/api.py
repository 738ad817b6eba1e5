"""Routes of logging in: a user name and password for a bearer token."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from jiaoxun.audit.service import record
from jiaoxun.users.schemas import LoginIn, TokenOut
from jiaoxun.users.service import issue_token
from jiaoxun.web.deps import Now, SessionDep, StateDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", responses={401: {"description": "wrong user name or password"}})
def login(body: LoginIn, session: SessionDep, state: StateDep, now: Now) -> TokenOut:
    """Trade a user name and password for a bearer token."""
    ttl = timedelta(hours=state.settings.token_ttl_hours)
    token, row = issue_token(session, username=body.username, password=body.password, ttl=ttl)
    record(
        session, by=row.user.username, action="login", entity="user", entity_id=row.user.id, at=now
    )
    return TokenOut(
        access_token=token,
        expires_at=row.expires_at,
        username=row.user.username,
        role=row.user.role,
        unit_id=row.user.unit_id,
    )
