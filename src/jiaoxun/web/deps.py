"""Dependencies of the routes, as types: the session of the request, the user, the city."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.city.context import CityContext
from jiaoxun.db import MAX_ID, REQUEST_SESSIONS
from jiaoxun.errors import NotAllowed, NotAuthenticated, TooManyRequests
from jiaoxun.events import EventBus
from jiaoxun.geo.gazetteer import Gazetteer
from jiaoxun.settings import Settings
from jiaoxun.throttle import TokenBuckets
from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.service import Ingestor
from jiaoxun.users.login import LoginGate
from jiaoxun.users.models import ApiToken, User
from jiaoxun.users.roles import Permission, may
from jiaoxun.users.service import PASSWORD_DUE, token_of

T = TypeVar("T")


class Once(Generic[T]):
    """A value built on first use, once, however many requests ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self, build: Callable[[], T]) -> T:
        with self._lock:
            if self._value is None:
                self._value = build()
            return self._value


@dataclass
class AppState:
    settings: Settings
    sessions: sessionmaker[Session]
    city: CityContext
    bus: EventBus
    ingestor: Ingestor
    gateway: Gateway
    mqtt: Counter[str]
    #: the city map reply (JSON) and the place search, built on first use: static per city
    city_map: Once[bytes] = field(default_factory=Once)
    gazetteer: Once[Gazetteer] = field(default_factory=Once)
    #: the key of the citizens' keyed ID hashes, read (or made) on first use
    identity_key: Once[bytes] = field(default_factory=Once)
    #: the limits of checking passwords: throttles, hashes at once
    logins: LoginGate = field(init=False)
    #: how often one client address may use the public (citizen) API
    public: TokenBuckets = field(init=False)

    def __post_init__(self) -> None:
        self.logins = LoginGate.from_settings(self.settings)
        per_min = self.settings.public_requests_per_min
        self.public = TokenBuckets(rate_per_s=per_min / 60, burst=per_min)


async def app_state(request: Request) -> AppState:
    """The app's state. Async, as is every dependency that neither reads nor waits: a sync one
    costs each request a hop to a worker thread and back."""
    state: AppState = request.app.state.jiaoxun
    return state


def request_session(
    request: Request, state: Annotated[AppState, Depends(app_state)]
) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent; a GET only reads."""
    with state.sessions() as session, session.begin():
        if request.method in {"GET", "HEAD"}:
            session.connection(execution_options={"read_only": True})
        yield session


_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/auth/token")

StateDep = Annotated[AppState, Depends(app_state)]
SessionDep = Annotated[
    Session, Depends(request_session, scope="function", max_concurrency=REQUEST_SESSIONS)
]


@contextmanager
def read_session(state: AppState) -> Iterator[Session]:
    """A short session that only reads, outside the request's own transaction."""
    with state.sessions() as session:
        session.connection(execution_options={"read_only": True})
        yield session


def current_token(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The live token (with its user) of the request, read outside the request's transaction,
    so that the transaction (and on SQLite its write lock) starts only when the route needs it.
    Its user's password may be due: only the routes that let him change it take this."""
    if credentials is None:
        raise NotAuthenticated("this API needs a bearer token: POST /api/auth/token first")
    with read_session(state) as session:
        return token_of(session, credentials.credentials)


SignedIn = Annotated[ApiToken, Depends(current_token)]


async def current_user(token: SignedIn) -> User:
    """The user of the bearer token, once his password is his own (not a first-login or reset
    one)."""
    if token.user.must_change_password:
        raise NotAllowed(PASSWORD_DUE)
    return token.user


CurrentUser = Annotated[User, Depends(current_user)]


def requires(permission: Permission) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users whose role grants `permission`."""

    async def check(user: CurrentUser) -> User:
        if not may(user.role, permission):
            raise NotAllowed(f"role {user.role.value} may not {permission.value.replace('_', ' ')}")
        return user

    return check


async def public_client(request: Request, state: StateDep) -> str:
    """The client address of a request to the public API, within its limit per minute."""
    address = request.client.host if request.client else "unknown"
    wait_s = state.public.take(address)
    if wait_s > 0:
        raise TooManyRequests(
            f"at most {state.settings.public_requests_per_min} requests a minute from one "
            f"address to the public API; try again in {wait_s:.0f} s",
            retry_after_s=wait_s,
        )
    return address


#: a route citizens use without logging in: limited per client address
PublicClient = Annotated[str, Depends(public_client)]


RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="row id")]


async def now() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(now)]
