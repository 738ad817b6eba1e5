"""Routes of the force on duty: brigades and officers, shift patterns and cover demands, leave
and requests, rosters solved and published, the cars' crews and swaps, attendance, and an
officer's own next shifts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.models import Kiosk
from jiaoxun.db import MAX_ID
from jiaoxun.duty import attendance, crews, rosters, solver
from jiaoxun.duty.models import (
    Absence,
    AbsenceKind,
    Brigade,
    CoverDemand,
    DutyShift,
    Roster,
    ShiftPatternRow,
)
from jiaoxun.duty.patterns import Pattern
from jiaoxun.duty.schemas import (
    AbsenceIn,
    AbsenceOut,
    BrigadeOut,
    CalendarOut,
    CrewOut,
    DemandOut,
    DemandsIn,
    DutyShiftOut,
    FlagOut,
    Month,
    OfficerChange,
    OfficerOut,
    PatternIn,
    PatternOut,
    PublishIn,
    RosterOut,
    SolveIn,
    SwapIn,
)
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.tracking.models import Device
from jiaoxun.units.models import Officer, Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import CurrentUser, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["duty"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Manager = Annotated[User, Depends(requires(Permission.MANAGE_DUTY))]
Assigner = Annotated[User, Depends(requires(Permission.ASSIGN_CREWS))]
KioskQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such officer, pattern, roster, unit or absence"},
    409: {"description": "a stale version, or a state that does not allow the step"},
    422: {"description": "a field breaks a rule, named in the message"},
}


def _officer_out(officer: Officer) -> OfficerOut:
    return OfficerOut.model_validate(officer, from_attributes=True)


@router.get("/api/duty/brigades")
def list_brigades(session: SessionDep, _user: Reader) -> list[BrigadeOut]:
    """The brigades of the merged force."""
    rows = session.scalars(select(Brigade).order_by(Brigade.code))
    return [BrigadeOut.model_validate(b, from_attributes=True) for b in rows]


@router.get("/api/duty/officers")
def list_officers(
    session: SessionDep, _user: Reader, kiosk_id: KioskQuery = None
) -> list[OfficerOut]:
    """The officers by badge (of one kiosk with `kiosk_id`)."""
    query = select(Officer).order_by(Officer.badge)
    if kiosk_id is not None:
        query = query.where(Officer.kiosk_id == kiosk_id)
    return [_officer_out(o) for o in session.scalars(query)]


@router.patch("/api/duty/officers/{officer_id}", responses=_ERRORS)
def change_officer(
    officer_id: RowId, body: OfficerChange, session: SessionDep, now: Now, user: Manager
) -> OfficerOut:
    """Change an officer's rank, kiosk, team, skills, licence or whether he is active."""
    officer = session.get(Officer, officer_id, with_for_update=True)
    if officer is None:
        raise NotFound(f"officer {officer_id} does not exist")
    change = body.model_dump(exclude_unset=True)
    empty = sorted(k for k, v in change.items() if v is None and k not in {"kiosk_id", "team"})
    if empty:
        raise InvalidInput(f"{', '.join(empty)} may be changed but not emptied (null)")
    if change.get("kiosk_id") is not None and session.get(Kiosk, change["kiosk_id"]) is None:
        raise NotFound(f"kiosk {change['kiosk_id']} does not exist")
    before = {k: getattr(officer, k) for k in change}
    for key, value in change.items():
        setattr(officer, key, value)
    session.flush()
    record(
        session,
        by=user.username,
        action="update",
        entity="officer",
        entity_id=officer.id,
        detail={"before": before, "after": change},
        at=now,
    )
    return _officer_out(officer)


# --- patterns and demands ---


@router.get("/api/duty/patterns")
def list_patterns(session: SessionDep, _user: Reader) -> list[PatternOut]:
    """The shift patterns: the built-in ones and the command's own."""
    rows = session.scalars(select(ShiftPatternRow).order_by(ShiftPatternRow.code))
    return [PatternOut.model_validate(p, from_attributes=True) for p in rows]


@router.put("/api/duty/patterns/{code}", responses=_ERRORS)
def put_pattern(
    code: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,20}$")],
    body: PatternIn,
    session: SessionDep,
    now: Now,
    user: Manager,
) -> PatternOut:
    """Create a pattern (version 0) or change one (its version given)."""
    pattern = Pattern.from_dict(body.body)  # InvalidInput naming the rule
    if pattern.code != code:
        raise InvalidInput(f"the pattern's code {pattern.code!r} is not the path's {code!r}")
    row = session.scalar(
        select(ShiftPatternRow).where(ShiftPatternRow.code == code).with_for_update()
    )
    if row is None:
        if body.version != 0:
            raise NotFound(f"shift pattern {code!r} does not exist: create it with version 0")
        row = ShiftPatternRow(code=code, body=pattern.as_dict(), updated_by=user.username)
        row.updated_at = now
        session.add(row)
    else:
        if body.version != row.version:
            raise Conflict(f"pattern {code} is at version {row.version}, not {body.version}")
        row.body, row.version = pattern.as_dict(), row.version + 1
        row.updated_by, row.updated_at = user.username, now
    session.flush()
    record(
        session,
        by=user.username,
        action="update" if row.version > 1 else "create",
        entity="shift_pattern",
        entity_id=row.id,
        detail={"code": code, "version": row.version},
        at=now,
    )
    return PatternOut.model_validate(row, from_attributes=True)


@router.get("/api/duty/demands")
def list_demands(
    session: SessionDep,
    _user: Reader,
    pattern: Annotated[str, Query(pattern=r"^[a-z0-9_-]{1,20}$")],
) -> list[DemandOut]:
    """What each kiosk needs per shift of `pattern`, by kind of day."""
    rows = session.scalars(
        select(CoverDemand)
        .where(CoverDemand.pattern_code == pattern)
        .order_by(CoverDemand.kiosk_id, CoverDemand.day_kind, CoverDemand.shift)
    )
    return [DemandOut.model_validate(d, from_attributes=True) for d in rows]


@router.put("/api/duty/demands", responses=_ERRORS)
def put_demands(body: DemandsIn, session: SessionDep, now: Now, user: Manager) -> list[DemandOut]:
    """Set what kiosks need per shift of a pattern (one row per kiosk, shift, kind of day;
    the rows not named stay)."""
    pattern = rosters.pattern_of(session, body.pattern)
    codes = {s.code for s in pattern.shifts}
    kiosks = set(session.scalars(select(Kiosk.id)))
    out = []
    for demand in body.demands:
        if demand.shift not in codes:
            raise InvalidInput(
                f"pattern {pattern.code} has no shift {demand.shift!r} (its shifts: "
                f"{', '.join(sorted(codes))})"
            )
        if demand.kiosk_id not in kiosks:
            raise NotFound(f"kiosk {demand.kiosk_id} does not exist")
        row = session.scalar(
            select(CoverDemand).where(
                CoverDemand.pattern_code == pattern.code,
                CoverDemand.kiosk_id == demand.kiosk_id,
                CoverDemand.shift == demand.shift,
                CoverDemand.day_kind == demand.day_kind,
            )
        )
        values = demand.model_dump()
        if row is None:
            row = CoverDemand(pattern_code=pattern.code, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.version += 1
        out.append(row)
    session.flush()
    record(
        session,
        by=user.username,
        action="update",
        entity="cover_demand",
        entity_id=pattern.code,
        detail={"pattern": pattern.code, "rows": [d.model_dump(mode="json") for d in body.demands]},
        at=now,
    )
    return [DemandOut.model_validate(d, from_attributes=True) for d in out]


# --- leave and requests ---


@router.get("/api/duty/absences")
def list_absences(session: SessionDep, _user: Manager, month: Month) -> list[AbsenceOut]:
    """Leave and requests that touch a month."""
    days = rosters.days_of(rosters.month_of(month))
    rows = session.scalars(
        select(Absence)
        .where(Absence.first_day <= days[-1], Absence.last_day >= days[0])
        .order_by(Absence.first_day, Absence.id)
    )
    return [AbsenceOut.model_validate(a, from_attributes=True) for a in rows]


@router.post("/api/duty/absences", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def add_absence(body: AbsenceIn, session: SessionDep, now: Now, user: Manager) -> AbsenceOut:
    """Leave (he does not work), a day-off request, or a shift request."""
    if session.get(Officer, body.officer_id) is None:
        raise NotFound(f"officer {body.officer_id} does not exist")
    if body.last_day < body.first_day:
        raise InvalidInput(f"leave ends ({body.last_day}) before it begins ({body.first_day})")
    if (body.last_day - body.first_day).days > 366:
        raise InvalidInput("leave or a request lasts at most a year")
    if (body.kind is AbsenceKind.SHIFT) != (body.shift is not None):
        raise InvalidInput("a shift request names its shift; leave and day-off requests do not")
    row = Absence(**body.model_dump(), created_by=user.username, created_at=now)
    session.add(row)
    session.flush()
    record(
        session,
        by=user.username,
        action="create",
        entity="absence",
        entity_id=row.id,
        detail=body.model_dump(mode="json"),
        at=now,
    )
    return AbsenceOut.model_validate(row, from_attributes=True)


@router.delete(
    "/api/duty/absences/{absence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def delete_absence(absence_id: RowId, session: SessionDep, now: Now, user: Manager) -> None:
    row = session.get(Absence, absence_id)
    if row is None:
        raise NotFound(f"absence {absence_id} does not exist")
    session.delete(row)
    record(
        session, by=user.username, action="delete", entity="absence", entity_id=absence_id, at=now
    )


# --- rosters ---


def _roster_out(session: Session, roster: Roster) -> RosterOut:
    count = session.scalar(
        select(func.count()).select_from(DutyShift).where(DutyShift.roster_id == roster.id)
    )
    gap = None
    if roster.objective is not None and roster.bound is not None:
        gap = round((roster.objective - roster.bound) / max(1.0, abs(roster.objective)), 6)
    fields = {k: getattr(roster, k) for k in RosterOut.model_fields if hasattr(roster, k)}
    return RosterOut(**{**fields, "gap": gap, "shifts": int(count or 0)})


@router.get("/api/duty/rosters")
def list_rosters(session: SessionDep, _user: Reader, month: Month | None = None) -> list[RosterOut]:
    """The rosters, newest first (of one month with `month`)."""
    query = select(Roster).order_by(Roster.month.desc(), Roster.id.desc()).limit(100)
    if month is not None:
        query = query.where(Roster.month == rosters.month_of(month))
    return [_roster_out(session, r) for r in session.scalars(query)]


@router.post("/api/duty/rosters", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def solve_roster(body: SolveIn, state: StateDep, now: Now, user: Manager) -> RosterOut:
    """Solve a month's roster by CP-SAT within `time_limit_s` and keep it as a draft; a month
    that cannot be rostered is kept too, its `why` naming the constraint."""
    rules = solver.Rules(
        min_rest_hours=body.min_rest_hours,
        max_consecutive_days=body.max_consecutive_days,
        max_hours_per_week=body.max_hours_per_week,
    )
    roster_id = rosters.solve_month(
        state.sessions,
        month=rosters.month_of(body.month),
        pattern_code=body.pattern,
        tz=state.settings.tz,
        rules=rules,
        time_limit_s=body.time_limit_s,
        by=user.username,
        now=now,
    )
    with state.sessions() as session:
        return _roster_out(session, rosters.get_roster(session, roster_id))


@router.get("/api/duty/rosters/{roster_id}", responses=_ERRORS)
def roster_calendar(
    roster_id: RowId, session: SessionDep, _user: Reader, kiosk_id: KioskQuery = None
) -> CalendarOut:
    """A roster as a calendar: days, officers, and their shifts (of one kiosk with
    `kiosk_id`)."""
    roster = rosters.get_roster(session, roster_id)
    query = select(DutyShift, Unit.call_sign).outerjoin(Unit, Unit.id == DutyShift.unit_id)
    query = query.where(DutyShift.roster_id == roster.id).order_by(DutyShift.starts_at)
    officers = select(Officer).where(Officer.kiosk_id.is_not(None)).order_by(Officer.badge)
    if kiosk_id is not None:
        query = query.where(DutyShift.kiosk_id == kiosk_id)
        officers = officers.where(Officer.kiosk_id == kiosk_id)
    shifts = [
        DutyShiftOut(
            **{k: getattr(s, k) for k in DutyShiftOut.model_fields if hasattr(s, k)},
            call_sign=call_sign,
        )
        for s, call_sign in session.execute(query)
    ]
    return CalendarOut(
        roster=_roster_out(session, roster),
        days=list(rosters.days_of(roster.month)),
        officers=[_officer_out(o) for o in session.scalars(officers)],
        shifts=shifts,
    )


@router.post("/api/duty/rosters/{roster_id}/publish", responses=_ERRORS)
def publish_roster(
    roster_id: RowId, body: PublishIn, session: SessionDep, now: Now, user: Manager
) -> RosterOut:
    """Put a solved draft in force (its version given); the crews follow it from the shift
    under way (within a few seconds) and at every shift start."""
    roster = rosters.publish(session, roster_id, version=body.version, by=user.username, now=now)
    return _roster_out(session, roster)


# --- crews and attendance ---


@router.get("/api/duty/crews")
def list_crews(session: SessionDep, _user: Reader) -> list[CrewOut]:
    """Every car with the officers on it now."""
    crew: dict[int, list[OfficerOut]] = {}
    for officer in session.scalars(
        select(Officer).where(Officer.unit_id.is_not(None)).order_by(Officer.badge)
    ):
        crew.setdefault(officer.unit_id or 0, []).append(_officer_out(officer))
    rows = session.execute(
        select(Unit, Kiosk.id)
        .outerjoin(Kiosk, Kiosk.zone_id == Unit.zone_id)
        .order_by(Unit.call_sign)
    )
    return [
        CrewOut(
            unit_id=u.id,
            call_sign=u.call_sign,
            status=u.status.value,
            kiosk_id=kiosk_id,
            crew=crew.get(u.id, []),
        )
        for u, kiosk_id in rows
    ]


@router.post("/api/duty/crews/{unit_id}/swap", responses=_ERRORS)
def swap_crew(
    unit_id: RowId, body: SwapIn, session: SessionDep, state: StateDep, now: Now, user: Assigner
) -> CrewOut:
    """During a shift: one officer off the car, one on (audited); his phone goes with him."""
    unit = crews.swap(
        session,
        unit_id,
        leaves=body.leaves,
        joins=body.joins,
        by=user.username,
        reason=body.reason,
        now=now,
    )
    moved = [i for i in (body.leaves, body.joins) if i is not None]
    for device in session.scalars(select(Device).where(Device.officer_id.in_(moved))):
        state.ingestor.know_device(device)
    kiosk_id = session.scalar(select(Kiosk.id).where(Kiosk.zone_id == unit.zone_id))
    crew = session.scalars(
        select(Officer).where(Officer.unit_id == unit.id).order_by(Officer.badge)
    )
    return CrewOut(
        unit_id=unit.id,
        call_sign=unit.call_sign,
        status=unit.status.value,
        kiosk_id=kiosk_id,
        crew=[_officer_out(o) for o in crew],
    )


@router.get("/api/duty/attendance")
def attendance_flags(
    session: SessionDep, state: StateDep, now: Now, _user: Assigner
) -> list[FlagOut]:
    """The officers on duty whose device is silent or far from their post."""
    flags = attendance.attendance(
        session,
        state.city,
        now=now,
        silent_after=timedelta(seconds=state.settings.device_offline_s),
    )
    return [
        FlagOut(
            officer_id=f.officer.id,
            badge=f.officer.badge,
            name=f.officer.name,
            shift=f.shift.shift,
            post=f.shift.post,
            unit_id=f.shift.unit_id,
            kiosk_id=f.shift.kiosk_id,
            flag=f.flag,
            detail=f.detail,
        )
        for f in flags
    ]


@router.get("/api/me/shifts")
def my_shifts(session: SessionDep, now: Now, user: CurrentUser) -> list[DutyShiftOut]:
    """My shifts in force from now on (none for an account not linked to an officer)."""
    if user.officer_id is None:
        return []
    rows = rosters.shifts_of_officer(session, user.officer_id, now=now)
    signs = dict(session.execute(select(Unit.id, Unit.call_sign)).all())
    return [
        DutyShiftOut(
            **{k: getattr(s, k) for k in DutyShiftOut.model_fields if hasattr(s, k)},
            call_sign=signs.get(s.unit_id) if s.unit_id else None,
        )
        for s in rows
    ]
