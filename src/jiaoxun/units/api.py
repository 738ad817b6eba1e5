"""Routes of the units: the fleet list, a status set by hand, a position fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from jiaoxun.errors import NotAllowed
from jiaoxun.units import service
from jiaoxun.units.models import Unit
from jiaoxun.units.schemas import OfficerOut, UnitOut, UnitStatusIn
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, Role
from jiaoxun.web.deps import Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/units", tags=["units"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Manager = Annotated[User, Depends(requires(Permission.MANAGE_UNITS))]


def unit_out(unit: Unit, state: StateDep, now: Now) -> UnitOut:
    zone = state.city.zone_by_id(unit.zone_id)
    fix_at = unit.last_fix_at
    return UnitOut(
        id=unit.id,
        call_sign=unit.call_sign,
        zone=zone.code if zone else None,
        device_id=unit.device_id,
        status=unit.status,
        status_at=unit.status_at,
        lon=unit.last_lon,
        lat=unit.last_lat,
        fix_at=fix_at,
        fix_age_s=(now - fix_at).total_seconds() if fix_at else None,
        crew=[OfficerOut.model_validate(o) for o in unit.crew],
    )


def _own_unit_only(user: User, unit_id: int) -> None:
    if user.role is Role.OFFICER and user.unit_id != unit_id:
        raise NotAllowed(
            f"officer {user.username} may change only his own unit, not unit {unit_id}"
        )


@router.get("")
def units(session: SessionDep, state: StateDep, now: Now, _user: Reader) -> list[UnitOut]:
    """Every unit with its status, last fix and the fix's age."""
    return [unit_out(u, state, now) for u in service.list_units(session)]


@router.post("/{unit_id}/status")
def unit_status(
    unit_id: RowId,
    body: UnitStatusIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Manager,
) -> UnitOut:
    """Set a unit available, at its kiosk or off duty."""
    _own_unit_only(user, unit_id)
    unit = service.change_status(
        session, unit_id, body.status, by=user.username, reason=body.reason, now=now
    )
    return unit_out(unit, state, now)
