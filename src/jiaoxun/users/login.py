"""Checking a password — logging in, changing one's password — as an attacker finds it.

Like the door of a bank vault: whoever is wrong too often waits outside, and the door answers a
stranger as slowly as a customer.

- Per client address, in memory: after `failures_per_address` failed logins within a minute,
  every login from that address waits (429, Retry-After) until the oldest is a minute old.
- Per account, in the database (`failed_logins`, `locked_until`): after `lock_after` wrong
  passwords in a row the account is locked for 1 minute, then 2, 4, 8, at most 15 minutes at
  each further one; the right password resets the count.
- An unknown user name (or a disabled user) costs the same password hash as a known one, so
  that the time of the answer does not tell which names exist.
- At most `hashes_at_once` password hashes run at once, each in a worker thread, with its
  database work (never a transaction open across a hash); the logins waiting for a slot wait in
  the event loop, holding neither a thread nor the 64 MiB a hash takes.

Every failed login is in the audit log with the name as typed and the client address.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.audit.service import record
from jiaoxun.errors import NotAllowed, NotAuthenticated, TooManyRequests
from jiaoxun.settings import Settings
from jiaoxun.users.models import ApiToken, User
from jiaoxun.users.passwords import check_password, hash_password, verify_password
from jiaoxun.users.service import issue_token, set_password_hash

T = TypeVar("T")

#: the longest an account stays locked after wrong passwords
MAX_LOCK = timedelta(minutes=15)
WRONG = "wrong user name or password"


def lock_for(failures: int, *, lock_after: int) -> timedelta | None:
    """How long `failures` wrong passwords in a row lock an account: none below `lock_after`,
    then 1 minute, doubling with each further one, at most `MAX_LOCK`."""
    if failures < lock_after:
        return None
    return min(timedelta(minutes=2 ** min(failures - lock_after, 10)), MAX_LOCK)


class FailureWindow:
    """Failed logins per client address within the last `window_s` seconds.

    Memory is bounded: each address keeps at most its `limit` newest failures, and past
    `max_addresses` the addresses whose failures have all aged out are forgotten first.
    """

    def __init__(
        self,
        *,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 10_000,
    ) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self.max_addresses = max_addresses
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, address: str) -> float:
        """0 when `address` may try, else the seconds until its oldest failure ages out."""
        now = self.clock()
        with self._lock:
            failures = self._failures.get(address)
            if failures is None or len(failures) < self.limit:
                return 0.0
            return max(0.0, failures[0] + self.window_s - now)

    def add(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            failures = self._failures.get(address)
            if failures is None:
                if len(self._failures) >= self.max_addresses:
                    self._forget(now)
                failures = self._failures[address] = collections.deque(maxlen=self.limit)
            failures.append(now)

    def _forget(self, now: float) -> None:
        stale = [a for a, f in self._failures.items() if f[-1] + self.window_s <= now]
        for address in stale or list(self._failures)[: len(self._failures) // 2]:
            del self._failures[address]


@dataclass
class LoginGate:
    """The limits of checking passwords, one per app."""

    lock_after: int = 5
    failures: FailureWindow = field(default_factory=lambda: FailureWindow(limit=20))
    hashing: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(2))

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGate:
        return cls(
            lock_after=settings.login_lock_after,
            failures=FailureWindow(limit=settings.login_failures_per_address),
            hashing=CapacityLimiter(settings.password_hashes_at_once),
        )

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` (which hashes a password) in a worker thread once a hashing slot is free."""
        return await anyio.to_thread.run_sync(work, limiter=self.hashing)

    def check_address(self, address: str) -> None:
        wait_s = self.failures.wait_s(address)
        if wait_s > 0:
            raise TooManyRequests(
                f"{self.failures.limit} failed logins from {address} within a minute:"
                f" try again in {math.ceil(wait_s)} s",
                retry_after_s=wait_s,
            )


async def log_in(
    gate: LoginGate,
    sessions: sessionmaker[Session],
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
    ttl: timedelta,
) -> tuple[str, ApiToken, User]:
    """A new bearer token for the user with this name and password; `NotAuthenticated` for a
    wrong one, `TooManyRequests` while the account or the address must wait."""

    def attempt() -> tuple[str, ApiToken, User] | None:
        gate.check_address(address)
        with sessions() as session:
            session.connection(execution_options={"read_only": True})
            user = session.scalar(select(User).where(User.username == username))
            _refuse_while_locked(user, now)
        right = verify_password(user.password_hash if user else None, password)
        with sessions() as session, session.begin():
            if user is None or not user.active or not right:
                reason = "unknown user" if user is None else "wrong password"
                if user is not None and not user.active:
                    reason = "user disabled"
                _failed(
                    session,
                    gate,
                    user=user,
                    typed=username,
                    reason=reason,
                    address=address,
                    now=now,
                )
                return None
            session.execute(
                update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None)
            )
            token, row = issue_token(session, user=user, ttl=ttl, now=now)
            record(
                session,
                by=user.username,
                action="login",
                entity="user",
                entity_id=user.id,
                detail={"address": address},
                at=now,
            )
            return token, row, user

    done = await gate.run(attempt)
    if done is None:
        gate.failures.add(address)
        raise NotAuthenticated(WRONG)
    return done


async def change_password(
    gate: LoginGate,
    sessions: sessionmaker[Session],
    *,
    token: ApiToken,
    current_password: str,
    new_password: str,
    address: str,
    now: datetime,
) -> None:
    """Set the token's user's password after checking his current one (throttled like a login:
    a stolen token must not guess the password); his other tokens are revoked."""
    user = token.user
    check_password(new_password, username=user.username)
    if new_password == current_password:
        raise NotAllowed("the new password must differ from the current one")

    def attempt() -> bool:
        gate.check_address(address)
        with sessions() as session:
            session.connection(execution_options={"read_only": True})
            stored = session.get(User, user.id)
            _refuse_while_locked(stored, now)
        if stored is None or not verify_password(stored.password_hash, current_password):
            with sessions() as session, session.begin():
                _failed(
                    session,
                    gate,
                    user=stored,
                    typed=user.username,
                    reason="wrong current password",
                    address=address,
                    now=now,
                )
            return False
        new_hash = hash_password(new_password)
        with sessions() as session, session.begin():
            set_password_hash(
                session, user_id=user.id, password_hash=new_hash, now=now, keep_token_id=token.id
            )
            record(
                session,
                by=user.username,
                action="update",
                entity="user",
                entity_id=user.id,
                reason="password changed",
                detail={"address": address},
                at=now,
            )
        return True

    if not await gate.run(attempt):
        gate.failures.add(address)
        raise NotAllowed("the current password is wrong")


def _refuse_while_locked(user: User | None, now: datetime) -> None:
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait_s = (user.locked_until - now).total_seconds()
        raise TooManyRequests(
            f"user {user.username!r} is locked after {user.failed_logins} wrong passwords in"
            f" a row: try again in {math.ceil(wait_s)} s",
            retry_after_s=wait_s,
        )


def _failed(
    session: Session,
    gate: LoginGate,
    *,
    user: User | None,
    typed: str,
    reason: str,
    address: str,
    now: datetime,
) -> None:
    """Count a wrong password against the account (locking it past the limit) and audit it."""
    detail: dict[str, object] = {"username": typed, "address": address}
    if user is not None and user.active:
        failures = session.scalar(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        )
        lock = lock_for(failures or 0, lock_after=gate.lock_after)
        if lock is not None:
            session.execute(update(User).where(User.id == user.id).values(locked_until=now + lock))
            detail["locked_for_s"] = int(lock.total_seconds())
        detail["failures_in_a_row"] = failures
    record(
        session,
        by=typed,
        action="login_failed",
        entity="user",
        entity_id=user.id if user is not None else typed[:40],
        reason=reason,
        detail=detail,
        at=now,
    )
