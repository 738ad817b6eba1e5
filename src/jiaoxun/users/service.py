"""Users: accounts (creation, disabling, password resets) and their bearer tokens. Services
flush, never commit. Checking a password is `login`'s work, the password rule and hashing
`passwords`': a service here is handed a hash, never hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from jiaoxun.audit.service import record
from jiaoxun.city.models import Kiosk
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound
from jiaoxun.units.models import Unit
from jiaoxun.users.models import ApiToken, User
from jiaoxun.users.passwords import hash_password, new_password
from jiaoxun.users.roles import Role

_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,50}")
PASSWORD_DUE = (
    "password must be changed before anything else:"
    " POST /api/auth/password with the current and a new password"
)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password_hash: str,
    unit_id: int | None = None,
    kiosk_id: int | None = None,
    must_change_password: bool = True,
    by: str = "system",
    now: datetime | None = None,
) -> User:
    """Add a user: an officer with his unit, a kiosk clerk with his kiosk. A password someone
    gave him must be changed at his first login (`must_change_password`)."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(f"user name {username!r} must be 2-50 letters, digits, '_', '.' or '-'")
    _check_placement(session, role=role, unit_id=unit_id, kiosk_id=kiosk_id)
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} exists already")
    now = now or datetime.now(UTC)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        unit_id=unit_id,
        kiosk_id=kiosk_id,
        active=True,
        created_at=now,
        must_change_password=must_change_password,
        failed_logins=0,
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
        detail={"username": username, "unit_id": unit_id, "kiosk_id": kiosk_id},
        at=now,
    )
    return user


def _check_placement(
    session: Session, *, role: Role, unit_id: int | None, kiosk_id: int | None
) -> None:
    for kind, wanted, given, table in (
        ("unit", Role.OFFICER, unit_id, Unit),
        ("kiosk", Role.KIOSK_CLERK, kiosk_id, Kiosk),
    ):
        if role is wanted and given is None:
            raise InvalidInput(f"a {role.value} needs his {kind} ({kind}_id)")
        if role is not wanted and given is not None:
            raise InvalidInput(f"only a {wanted.value} has a {kind}, not a {role.value}")
        if given is not None and session.get(table, given) is None:
            raise NotFound(f"{kind} {given} does not exist")


def unit_id_of(session: Session, call_sign: str) -> int:
    unit_id = session.scalar(select(Unit.id).where(Unit.call_sign == call_sign))
    if unit_id is None:
        raise NotFound(f"unit {call_sign!r} does not exist")
    return unit_id


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def set_active(session: Session, *, user: User, active: bool, by: str, now: datetime) -> User:
    """Disable a user (his tokens are revoked at once, he cannot log in) or enable him again
    (which also lifts a login lock)."""
    if user.username == by and not active:
        raise Conflict(f"user {by!r} cannot disable himself")
    before = "active" if user.active else "disabled"
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    session.flush()
    revoked = 0 if active else revoke_tokens(session, user_id=user.id, now=now)
    after = "active" if active else "disabled"
    _audit(session, user, by=by, now=now, revoked=revoked, from_state=before, to_state=after)
    return user


def reset_password(
    session: Session, *, user: User, password_hash: str, by: str, now: datetime
) -> User:
    """An administrator's new password for `user`: it must be changed at his next login; his
    tokens are revoked and a login lock is lifted."""
    revoked = set_password_hash(
        session, user_id=user.id, password_hash=password_hash, now=now, must_change=True
    )
    session.refresh(user)
    _audit(session, user, by=by, now=now, revoked=revoked, reason="password reset")
    return user


def revoke_user_tokens(session: Session, *, user: User, by: str, now: datetime) -> int:
    """Revoke every live token of `user`; returns how many."""
    revoked = revoke_tokens(session, user_id=user.id, now=now)
    _audit(session, user, by=by, now=now, revoked=revoked, reason="tokens revoked")
    return revoked


def _audit(
    session: Session,
    user: User,
    *,
    by: str,
    now: datetime,
    revoked: int,
    reason: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    """An administrator's change of `user` in the audit log."""
    record(
        session,
        by=by,
        action="update",
        entity="user",
        entity_id=user.id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        detail={"username": user.username, "tokens_revoked": revoked},
        at=now,
    )


def set_password_hash(
    session: Session,
    *,
    user_id: int,
    password_hash: str,
    now: datetime,
    must_change: bool = False,
    keep_token_id: int | None = None,
) -> int:
    """Store a new password hash and lift a login lock; revoke the user's tokens but
    `keep_token_id`. Returns how many were revoked."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            password_hash=password_hash,
            must_change_password=must_change,
            password_changed_at=now,
            failed_logins=0,
            locked_until=None,
        )
    )
    return revoke_tokens(session, user_id=user_id, now=now, keep_token_id=keep_token_id)


def issue_token(
    session: Session, *, user: User, ttl: timedelta, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new bearer token for `user`, valid for `ttl` (stored hashed)."""
    token = secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    row = ApiToken(
        token_sha256=_sha256(token), user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(row)
    session.flush()
    return token, row


def revoke_tokens(
    session: Session, *, user_id: int, now: datetime, keep_token_id: int | None = None
) -> int:
    """Revoke the user's live tokens (but `keep_token_id`); returns how many."""
    query = (
        update(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
        .values(revoked_at=now)
    )
    if keep_token_id is not None:
        query = query.where(ApiToken.id != keep_token_id)
    return session.execute(query).rowcount  # type: ignore[attr-defined, no-any-return]


def revoke_token(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def token_of(session: Session, token: str, *, now: datetime | None = None) -> ApiToken:
    """The live token row of a bearer token, with its active user; `NotAuthenticated` when
    the token is unknown, expired or revoked, or its user disabled."""
    now = now or datetime.now(UTC)
    row = session.scalar(  # the token and its user in one query: every request asks
        select(ApiToken)
        .where(ApiToken.token_sha256 == _sha256(token))
        .options(joinedload(ApiToken.user))
    )
    if row is None:
        raise NotAuthenticated("the bearer token is not valid")
    if row.revoked_at is not None:
        raise NotAuthenticated(f"the bearer token was revoked at {row.revoked_at.isoformat()}")
    if row.expires_at <= now:
        raise NotAuthenticated(f"the bearer token expired at {row.expires_at.isoformat()}")
    if not row.user.active:
        raise NotAuthenticated(f"user {row.user.username!r} is disabled")
    return row


def user_for_token(session: Session, token: str, *, password_due_ok: bool = False) -> User:
    """The user of a live bearer token (`token_of`); `NotAllowed` while his password must be
    changed, unless `password_due_ok`."""
    user = token_of(session, token).user
    if user.must_change_password and not password_due_ok:
        raise NotAllowed(PASSWORD_DUE)
    return user


def seed_users(session: Session) -> dict[str, tuple[Role, str]]:
    """One user per role when there are no users yet: {name: (role, first-login password)}.
    The officer is tied to the first unit, the kiosk clerk to the first kiosk; each must change
    his password at his first login."""
    if session.scalar(select(User).limit(1)) is not None:
        return {}
    first_unit = session.scalar(select(Unit.id).order_by(Unit.call_sign).limit(1))
    first_kiosk = session.scalar(select(Kiosk.id).order_by(Kiosk.id).limit(1))
    created = {}
    for role in Role:
        password = new_password()
        create_user(
            session,
            username=role.value,
            role=role,
            password_hash=hash_password(password),
            unit_id=first_unit if role is Role.OFFICER else None,
            kiosk_id=first_kiosk if role is Role.KIOSK_CLERK else None,
        )
        created[role.value] = (role, password)
    return created
