"""The cars' crews: at each shift start the published roster's car posts become the crews
(applied once per shift start, whichever process gets there first), and swaps during a shift
move one officer, audited. An officer's phone and account follow him to his car."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.duty.models import DutyShift, Post, Roster, RosterState, ShiftChange
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.events import emit
from jiaoxun.tracking.models import Device
from jiaoxun.units.models import Officer, Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role


def on_duty(session: Session, *, now: datetime) -> list[DutyShift]:
    """The published roster's shifts under way at `now`."""
    return list(
        session.scalars(
            select(DutyShift)
            .join(Roster, DutyShift.roster_id == Roster.id)
            .where(
                Roster.state == RosterState.PUBLISHED,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
            )
        )
    )


def apply_shift_change(session: Session, *, now: datetime) -> ShiftChange | None:
    """Make the crews of the shift under way the cars' crews, once per shift start: None when
    no published roster covers `now` or this shift start is applied already."""
    shifts = on_duty(session, now=now)
    if not shifts:
        return None
    start = max(s.starts_at for s in shifts)
    roster_id = max(s.roster_id for s in shifts)
    done = select(ShiftChange.id).where(
        ShiftChange.starts_at == start, ShiftChange.roster_id == roster_id
    )
    if session.scalar(done):
        return None
    crews: dict[int, int] = {
        s.officer_id: s.unit_id for s in shifts if s.post is Post.CAR and s.unit_id
    }
    rosters = {s.roster_id for s in shifts}
    kiosks = set(
        session.scalars(
            select(DutyShift.kiosk_id).distinct().where(DutyShift.roster_id.in_(rosters))
        )
    )
    change = ShiftChange(
        starts_at=start, roster_id=roster_id, applied_at=now, crews=len(set(crews.values()))
    )
    try:
        with session.begin_nested():
            session.add(change)
            session.flush()
    except IntegrityError:  # another process applied it a moment ago
        return None
    rostered = session.scalars(
        select(Officer).where((Officer.kiosk_id.in_(kiosks)) | (Officer.id.in_(crews)))
    )
    before: dict[int, list[str]] = defaultdict(list)
    after: dict[int, list[str]] = defaultdict(list)
    for officer in rostered:
        if officer.unit_id is not None:
            before[officer.unit_id].append(officer.badge)
        target = crews.get(officer.id)
        if target is not None:
            after[target].append(officer.badge)
        if officer.unit_id != target:
            move(session, officer, target)
    for unit_id in sorted(set(before) | set(after)):
        if sorted(before[unit_id]) == sorted(after[unit_id]):
            continue
        _announce(
            session,
            unit_id,
            by="system",
            reason=f"shift change at {start.isoformat()}",
            before=before[unit_id],
            after=after[unit_id],
            now=now,
        )
    session.flush()
    return change


def swap(
    session: Session,
    unit_id: int,
    *,
    leaves: int | None,
    joins: int | None,
    by: str,
    reason: str,
    now: datetime,
) -> Unit:
    """During a shift: officer `leaves` off the car, officer `joins` on it (either may be None).
    The officer joining leaves the car he was on."""
    if not reason.strip():
        raise InvalidInput("a crew swap needs a reason")
    if leaves is None and joins is None:
        raise InvalidInput("a crew swap names the officer who leaves, who joins, or both")
    unit = session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    before = [o.badge for o in _crew(session, unit.id)]
    if leaves is not None:
        out = _officer(session, leaves)
        if out.unit_id != unit.id:
            raise Conflict(f"officer {out.badge} is not on {unit.call_sign}'s crew")
        move(session, out, None)
    if joins is not None:
        officer = _officer(session, joins)
        if not officer.active:
            raise Conflict(f"officer {officer.badge} is not active")
        if officer.unit_id == unit.id:
            raise Conflict(f"officer {officer.badge} is on {unit.call_sign}'s crew already")
        if officer.unit_id is not None:
            left = [o.badge for o in _crew(session, officer.unit_id) if o.id != officer.id]
            _announce(
                session,
                officer.unit_id,
                by=by,
                reason=f"{reason} (moved to {unit.call_sign})",
                before=[*left, officer.badge],
                after=left,
                now=now,
            )
        move(session, officer, unit.id)
    session.flush()
    after = [o.badge for o in _crew(session, unit.id)]
    _announce(session, unit.id, by=by, reason=reason, before=before, after=after, now=now)
    return unit


def move(session: Session, officer: Officer, unit_id: int | None) -> None:
    """Put `officer` on car `unit_id` (None: on no car); his phone and account go with him."""
    officer.unit_id = unit_id
    for device in session.scalars(select(Device).where(Device.officer_id == officer.id)):
        device.unit_id = unit_id
    for user in session.scalars(
        select(User).where(User.officer_id == officer.id, User.role == Role.OFFICER)
    ):
        user.unit_id = unit_id


def _crew(session: Session, unit_id: int) -> list[Officer]:
    return list(
        session.scalars(select(Officer).where(Officer.unit_id == unit_id).order_by(Officer.id))
    )


def _officer(session: Session, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id} does not exist")
    return officer


def _announce(
    session: Session,
    unit_id: int,
    *,
    by: str,
    reason: str,
    before: list[str],
    after: list[str],
    now: datetime,
) -> None:
    record(
        session,
        by=by,
        action="crew",
        entity="unit",
        entity_id=unit_id,
        reason=reason,
        detail={"before": sorted(before), "after": sorted(after)},
        at=now,
    )
    emit(session, "unit", "crew", {"unit_id": unit_id, "crew": sorted(after)})
