"""Routes of field activities: an officer records what he handled on initiative; the center
lists them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status

from jiaoxun.activities import service
from jiaoxun.activities.models import ActivityKind
from jiaoxun.activities.schemas import ActivityIn, ActivityOut, KindsOut
from jiaoxun.db import MAX_ID
from jiaoxun.incidents.access import scope_of
from jiaoxun.inputs import Instant
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import Now, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/activities", tags=["activities"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Crew = Annotated[User, Depends(requires(Permission.ACT_ON_ORDERS))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "an officer records only for his own unit"},
    404: {"description": "no such unit"},
    422: {"description": "a field breaks a rule"},
}


@router.post("", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def create_activity(
    body: Annotated[ActivityIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Crew,
) -> ActivityOut:
    """Record a violation dealt with, help given, or a stop and check (盘查)."""
    activity = service.record_activity(session, body, user=user, city=state.city, now=now)
    return ActivityOut.model_validate(service.activity_data(activity, state.city))


@router.get("")
def list_activities(
    session: SessionDep,
    state: StateDep,
    user: Reader,
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: ActivityKind | None = None,
    since: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ActivityOut]:
    """Activities newest first, optionally of one unit, of one kind, from a time on; an
    officer reads only his own unit's (they name people, plates and ID numbers)."""
    scope = scope_of(session, user)
    if scope.limited:
        scope.check_unit(unit_id or scope.unit_id or 0)
        unit_id = scope.unit_id
    rows = service.list_activities(session, unit_id=unit_id, kind=kind, since=since, limit=limit)
    return [ActivityOut.model_validate(service.activity_data(a, state.city)) for a in rows]


@router.get("/kinds")
def kinds(_user: Reader) -> KindsOut:
    """The codes of violations, assistance and stop-check results, with zh and en labels."""
    return KindsOut.model_validate(service.labels())
