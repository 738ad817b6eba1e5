"""Routes of traffic violations: the code table, violations recorded, handled and looked up by
plate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from jiaoxun.db import MAX_ID
from jiaoxun.errors import NotAllowed
from jiaoxun.incidents.access import scope_of
from jiaoxun.inputs import Instant
from jiaoxun.services.identity import identity_key_of
from jiaoxun.traffic import codes, violations
from jiaoxun.traffic.models import ViolationCode, ViolationState
from jiaoxun.traffic.plates import check_plate
from jiaoxun.traffic.violation_schemas import (
    CodeChange,
    CodeIn,
    CodeOut,
    DecideIn,
    LookupOut,
    PayIn,
    PlateIn,
    PlateOut,
    ViolationIn,
    ViolationOut,
)
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, may
from jiaoxun.web.deps import AppState, CurrentUser, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/traffic", tags=["traffic"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Traffic = Annotated[User, Depends(requires(Permission.HANDLE_TRAFFIC))]
Configurer = Annotated[User, Depends(requires(Permission.CONFIGURE))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "an officer handles only his own unit's violations"},
    404: {"description": "no such violation, code, unit or accident"},
    409: {"description": "a stale version, or a state that does not allow the step"},
    422: {"description": "a field breaks a rule (a plate names the GA 36 rule)"},
}


def _either(*permissions: Permission) -> Any:
    async def check(user: CurrentUser) -> User:
        if not any(may(user.role, p) for p in permissions):
            names = " or ".join(p.value.replace("_", " ") for p in permissions)
            raise NotAllowed(f"role {user.role.value} may not {names}")
        return user

    return check


Counter = Annotated[User, Depends(_either(Permission.HANDLE_TRAFFIC, Permission.SERVE_CITIZENS))]
CodeReader = Annotated[
    User, Depends(_either(Permission.READ_OPERATIONS, Permission.SERVE_CITIZENS))
]
CodePath = Annotated[str, Path(pattern=r"^[0-9A-Z]{4,10}$")]


def _key(state: AppState) -> bytes:
    return state.identity_key.get(lambda: identity_key_of(state.settings))


def _code_out(row: ViolationCode) -> CodeOut:
    return CodeOut.model_validate(row, from_attributes=True)


def _out(session: SessionDep, state: AppState, row: Any) -> ViolationOut:
    return ViolationOut.model_validate(violations.violation_data(session, row, state.city))


@router.get("/codes")
def list_codes(session: SessionDep, _user: CodeReader, active: bool = False) -> list[CodeOut]:
    """The violation code table by code (with `active`, only the codes in use)."""
    return [_code_out(c) for c in codes.list_codes(session, active_only=active)]


@router.post("/codes", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def add_code(body: CodeIn, session: SessionDep, user: Configurer) -> CodeOut:
    """A new code of the table."""
    return _code_out(codes.add_code(session, code=body, by=user.username))


@router.put("/codes/{code}", responses=_ERRORS)
def update_code(code: CodePath, body: CodeChange, session: SessionDep, user: Configurer) -> CodeOut:
    """Change a code (its version given); violations recorded keep the code as it stood."""
    return _code_out(codes.update_code(session, code=code, change=body, by=user.username))


@router.post("/plates/check", responses=_ERRORS)
def check(body: PlateIn, _user: Counter) -> PlateOut:
    """A plate as written, normalised, with its kind; or 422 naming the rule it breaks."""
    plate = check_plate(body.plate)
    return PlateOut(plate=plate.plate, kind=plate.kind.value, zh=plate.kind.zh, en=plate.kind.en)


@router.post("/violations", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def record_violation(
    body: ViolationIn, session: SessionDep, state: StateDep, now: Now, user: Traffic
) -> ViolationOut:
    """Record a violation on the street: plate, code, place on the map, time."""
    row = violations.record_violation(
        session, body, user=user, city=state.city, key=_key(state), now=now
    )
    return _out(session, state, row)


@router.get("/violations")
def list_violations(
    session: SessionDep,
    state: StateDep,
    user: Reader,
    violation_state: Annotated[ViolationState | None, Query(alias="state")] = None,
    since: Instant | None = None,
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ViolationOut]:
    """Violations newest first; an officer reads only his own unit's."""
    scope = scope_of(session, user)
    if scope.limited:
        scope.check_unit(unit_id or scope.unit_id or 0)
        unit_id = scope.unit_id
    rows = violations.list_violations(
        session, unit_id=unit_id, state=violation_state, since=since, limit=limit
    )
    return [_out(session, state, r) for r in rows]


@router.post("/violations/lookup", responses=_ERRORS)
def look_up(body: PlateIn, session: SessionDep, state: StateDep, user: Counter) -> LookupOut:
    """A plate's violations at the counter (the plate in the body, never in the URL); an
    officer sees his own unit's only."""
    plate = check_plate(body.plate).plate
    scope = scope_of(session, user)
    rows = violations.list_violations(
        session, plate=plate, unit_id=scope.unit_id if scope.limited else None
    )
    return LookupOut(plate=plate, violations=[_out(session, state, r) for r in rows])


def _own_unit(session: SessionDep, user: User, violation_id: int) -> None:
    scope = scope_of(session, user)
    if scope.limited:
        row = violations.violation_of(session, violation_id)
        scope.check_unit(row.unit_id or 0)


@router.post("/violations/{violation_id}/decide", responses=_ERRORS)
def decide(
    violation_id: RowId,
    body: DecideIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Counter,
) -> ViolationOut:
    """The penalty decision: pending -> decided, with its number (given or made)."""
    _own_unit(session, user, violation_id)
    row = violations.decide(
        session,
        violation_id=violation_id,
        version=body.version,
        decision_number=body.decision_number,
        user=user,
        city=state.city,
        now=now,
    )
    return _out(session, state, row)


@router.post("/violations/{violation_id}/pay", responses=_ERRORS)
def pay(
    violation_id: RowId, body: PayIn, session: SessionDep, state: StateDep, now: Now, user: Counter
) -> ViolationOut:
    """The fine paid: decided -> paid."""
    _own_unit(session, user, violation_id)
    row = violations.pay(
        session,
        violation_id=violation_id,
        version=body.version,
        user=user,
        city=state.city,
        now=now,
    )
    return _out(session, state, row)
