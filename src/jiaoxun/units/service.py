"""Use cases of the units: list them, set a status by hand, record a position fix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.incidents.lifecycle import ACTIVE_ORDER_STATES
from jiaoxun.incidents.models import DispatchOrder
from jiaoxun.incidents.transitions import set_unit_status
from jiaoxun.units.models import Officer, OfficerKind, Unit
from jiaoxun.units.status import UnitStatus

#: statuses a user may set by hand; the others follow the unit's orders
MANUAL = frozenset({UnitStatus.AVAILABLE, UnitStatus.AT_KIOSK, UnitStatus.OFF_DUTY})


def list_units(session: Session) -> Sequence[Unit]:
    return session.scalars(
        select(Unit).order_by(Unit.call_sign).options(selectinload(Unit.crew))
    ).all()


def crew_sizes(session: Session) -> dict[int, int]:
    """Officers on each car now."""
    rows = session.execute(
        select(Officer.unit_id, func.count())
        .where(Officer.unit_id.is_not(None))
        .group_by(Officer.unit_id)
    )
    return {unit_id: int(n) for unit_id, n in rows if unit_id is not None}


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    return unit


def change_status(
    session: Session, unit_id: int, status: UnitStatus, *, by: str, reason: str, now: datetime
) -> Unit:
    """Set available, at kiosk or off duty by hand; never while the unit holds an order."""
    if status not in MANUAL:
        raise InvalidInput(
            f"status {status.value} follows the unit's orders; by hand only "
            f"{', '.join(sorted(s.value for s in MANUAL))}"
        )
    unit = get_unit(session, unit_id)
    busy = session.scalar(
        select(DispatchOrder).where(
            DispatchOrder.unit_id == unit.id, DispatchOrder.state.in_(ACTIVE_ORDER_STATES)
        )
    )
    if busy is not None:
        raise Conflict(
            f"unit {unit.call_sign} holds order {busy.id} ({busy.state.value}): finish or "
            "return it first"
        )
    set_unit_status(session, unit, status, by=by, reason=reason or "set by hand", now=now)
    return unit


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发"


def officer_name(number: int) -> str:
    """A demo officer's name, the same for the same number."""
    return _SURNAMES[number % len(_SURNAMES)] + _GIVEN[(7 * number) % len(_GIVEN)]


def seed_crews(session: Session, *, now: datetime) -> int:
    """Give every unit without a crew one officer (民警) and one auxiliary (辅警), and put units
    that have never had a status at their kiosk. Returns the officers added."""
    added = 0
    badges = set(session.scalars(select(Officer.badge)))
    number = len(badges)
    for unit in list_units(session):
        if unit.crew:
            continue
        for kind in (OfficerKind.OFFICER, OfficerKind.AUXILIARY):
            while (badge := f"220800{number + 1:04d}") in badges:
                number += 1
            unit.crew.append(Officer(name=officer_name(number), badge=badge, kind=kind))
            badges.add(badge)
            added += 1
        if unit.status_at is None:
            unit.status, unit.status_at = UnitStatus.AT_KIOSK, now
    session.flush()
    return added
