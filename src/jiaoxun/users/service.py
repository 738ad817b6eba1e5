"""Users: creation, password checks, bearer tokens, an officer's phone. Services flush, never
commit."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from jiaoxun.units.models import Unit
from jiaoxun.users.models import ApiToken, User
from jiaoxun.users.roles import Role

_hasher = PasswordHasher()
_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,50}")
MIN_PASSWORD = 8


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A random first-login password."""
    return secrets.token_urlsafe(9)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    unit_call_sign: str | None = None,
    by: str = "system",
) -> User:
    """Add a user; an officer may be tied to his unit by its call sign."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(f"user name {username!r} must be 2-50 letters, digits, '_', '.' or '-'")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters, got {len(password)}"
        )
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} exists already")
    unit_id = None
    if unit_call_sign is not None:
        unit = session.scalar(select(Unit).where(Unit.call_sign == unit_call_sign))
        if unit is None:
            raise NotFound(f"unit {unit_call_sign!r} does not exist")
        unit_id = unit.id
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        unit_id=unit_id,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    record(
        session,
        by=by,
        action="create",
        entity="user",
        entity_id=user.id,
        to_state=role.value,
        detail={"username": username, "unit_id": unit_id},
    )
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    """The active user with this name and password; `NotAuthenticated` otherwise. Reads only:
    the deliberately slow hash check must not hold a write lock."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.active:
            raise VerificationError
        _hasher.verify(user.password_hash, password)
    except VerificationError:
        raise NotAuthenticated("wrong user name or password") from None
    return user


def issue_token(session: Session, *, user: User, ttl: timedelta) -> tuple[str, ApiToken]:
    """A new bearer token for `user`, valid for `ttl` (stored hashed)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = ApiToken(
        token_sha256=_sha256(token), user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_token(session: Session, token: str) -> User:
    """The active user a bearer token belongs to; `NotAuthenticated` when none or expired."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token)))
    if row is None:
        raise NotAuthenticated("the bearer token is not valid")
    if row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC) <= datetime.now(UTC):
        raise NotAuthenticated(f"the bearer token expired at {row.expires_at.isoformat()}")
    if not row.user.active:
        raise NotAuthenticated(f"user {row.user.username!r} is disabled")
    return row.user


def seed_users(session: Session) -> dict[str, tuple[Role, str]]:
    """One user per role when there are no users yet: {name: (role, first-login password)}.
    The officer is tied to the first unit."""
    if session.scalar(select(User).limit(1)) is not None:
        return {}
    first_unit = session.scalar(select(Unit).order_by(Unit.call_sign).limit(1))
    created = {}
    for role in Role:
        password = new_password()
        unit = first_unit.call_sign if role is Role.OFFICER and first_unit else None
        create_user(session, username=role.value, password=password, role=role, unit_call_sign=unit)
        created[role.value] = (role, password)
    return created
