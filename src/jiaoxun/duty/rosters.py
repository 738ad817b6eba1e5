"""Use cases of the rosters: a month's problem read from the database (officers, cars, cover
demands by kind of day of the statutory calendar, leave and requests, the ledger, the last
shifts of the month before), solved by CP-SAT, stored as a draft, published.

The solver runs outside any transaction: `solve_month` reads, closes, solves and writes in a
new one, so a minute of solving holds no lock and no connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.analytics.calendar import StatutoryCalendar
from jiaoxun.audit.service import record
from jiaoxun.city.models import Kiosk
from jiaoxun.duty import solver
from jiaoxun.duty.models import (
    Absence,
    AbsenceKind,
    CoverDemand,
    DutyShift,
    LedgerEntry,
    Post,
    Roster,
    RosterState,
    ShiftPatternRow,
)
from jiaoxun.duty.patterns import Pattern
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.events import emit
from jiaoxun.services.hours import day_kind_of
from jiaoxun.services.models import DayKind
from jiaoxun.units.models import Officer, Unit

#: the longest a roster may be solved for, in seconds
MAX_TIME_LIMIT_S = 120.0
#: the solver's statuses that give a roster
SOLVED = frozenset({"optimal", "feasible"})


def month_of(text: str) -> date:
    """The first day of the month "YYYY-MM"."""
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InvalidInput(f"a roster's month is YYYY-MM, got {text!r}") from None
    if not 2000 <= first.year <= 2100:
        raise InvalidInput(f"a roster's month lies in 2000-2100, got {text!r}")
    return first


def days_of(month: date) -> tuple[date, ...]:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return tuple(month + timedelta(days=n) for n in range((following - month).days))


def pattern_of(session: Session, code: str) -> Pattern:
    row = session.scalar(select(ShiftPatternRow).where(ShiftPatternRow.code == code))
    if row is None:
        raise NotFound(f"shift pattern {code!r} does not exist")
    return Pattern.from_dict(row.body)


def problem_of(
    session: Session,
    *,
    month: date,
    pattern: Pattern,
    tz: ZoneInfo,
    rules: solver.Rules,
    anchor: date | None = None,
) -> solver.Problem:
    """The month's roster problem for every active officer placed at a kiosk."""
    days = days_of(month)
    calendar = StatutoryCalendar.load(session)
    kinds = {d: day_kind_of(calendar.day_or_weekday(d)) for d in days}
    officers = list(
        session.scalars(
            select(Officer)
            .where(Officer.active.is_(True), Officer.kiosk_id.is_not(None))
            .order_by(Officer.id)
        )
    )
    # an officer's team is his place in a rotation: in a pattern of fewer teams, its remainder
    people = tuple(
        solver.Person(
            o.id,
            o.kiosk_id or 0,
            bool(o.licence),
            o.accident,
            None if o.team is None else o.team % pattern.teams,
        )
        for o in officers
    )
    cars: dict[int, list[int]] = {}
    rows = session.execute(
        select(Kiosk.id, Unit.id).join(Unit, Unit.zone_id == Kiosk.zone_id).order_by(Unit.call_sign)
    )
    for kiosk_id, unit_id in rows:
        cars.setdefault(kiosk_id, []).append(unit_id)
    demands = list(
        session.scalars(select(CoverDemand).where(CoverDemand.pattern_code == pattern.code))
    )
    if not demands:
        raise InvalidInput(
            f"pattern {pattern.code} has no cover demands: set what each kiosk needs per shift "
            "(PUT /api/duty/demands) before solving"
        )
    codes = {s.code for s in pattern.shifts}
    wanted = {(d.kiosk_id, d.shift, d.day_kind): d for d in demands if d.shift in codes}
    covers = tuple(
        solver.Cover(k, day, s, d.cars, d.crew, d.counter, d.patrol)
        for day in days
        for k in sorted(cars)
        for s in sorted(codes)
        if (d := wanted.get((k, s, kinds[day]))) is not None
    )
    first, last = days[0], days[-1]
    absences = session.scalars(
        select(Absence).where(
            Absence.officer_id.in_([o.id for o in officers]),
            Absence.first_day <= last,
            Absence.last_day >= first,
        )
    ).all()
    leave, requests = set(), []
    for absence in absences:
        for day in days:
            if not absence.first_day <= day <= absence.last_day:
                continue
            if absence.kind is AbsenceKind.LEAVE:
                leave.add((absence.officer_id, day))
            else:
                requests.append(solver.Request(absence.officer_id, day, absence.shift))
    ledger = {
        officer_id: solver.Ledger(int(nights), int(holidays))
        for officer_id, nights, holidays in session.execute(
            select(
                LedgerEntry.officer_id, func.sum(LedgerEntry.nights), func.sum(LedgerEntry.holidays)
            )
            .where(LedgerEntry.month < month)
            .group_by(LedgerEntry.officer_id)
        )
    }
    eve = first - timedelta(days=1)
    previous = dict(
        session.execute(
            select(DutyShift.officer_id, DutyShift.shift)
            .join(Roster, Roster.id == DutyShift.roster_id)
            .where(Roster.state == RosterState.PUBLISHED, DutyShift.day == eve)
        ).all()
    )
    if anchor is None:
        anchor = session.scalar(
            select(Roster.anchor)
            .where(Roster.state == RosterState.PUBLISHED, Roster.pattern_code == pattern.code)
            .order_by(Roster.month.desc())
            .limit(1)
        )
    return solver.Problem(
        days=days,
        tz=tz,
        pattern=pattern,
        anchor=anchor or first,
        people=people,
        cars={k: tuple(v) for k, v in cars.items()},
        covers=covers,
        rules=rules,
        leave=frozenset(leave),
        requests=tuple(requests),
        ledger=ledger,
        holidays=frozenset(d for d, kind in kinds.items() if kind is DayKind.HOLIDAY),
        previous=previous,
    )


def solve_month(
    sessions: sessionmaker[Session],
    *,
    month: date,
    pattern_code: str,
    tz: ZoneInfo,
    rules: solver.Rules,
    time_limit_s: float,
    by: str,
    now: datetime,
    progress: Callable[[float, float | None, float | None], None] | None = None,
) -> int:
    """Solve the month's roster and store it as a draft (also when no roster was found: its
    status and `why` say so). Returns the roster's id."""
    if not 0 < time_limit_s <= MAX_TIME_LIMIT_S:
        raise InvalidInput(
            f"a roster is solved for 0 to {MAX_TIME_LIMIT_S:.0f} s, got {time_limit_s}"
        )
    with sessions() as session:
        pattern = pattern_of(session, pattern_code)
        problem = problem_of(session, month=month, pattern=pattern, tz=tz, rules=rules)
    solution = solver.solve(problem, time_limit_s=time_limit_s, progress=progress)
    with sessions() as session, session.begin():
        roster = Roster(
            month=month,
            pattern_code=pattern.code,
            pattern=pattern.as_dict(),
            anchor=problem.anchor,
            state=RosterState.DRAFT,
            status=solution.status,
            objective=solution.objective,
            bound=solution.bound,
            wall_s=round(solution.wall_s, 3),
            why=list(solution.why),
            rules=asdict(rules),
            created_by=by,
            created_at=now,
        )
        session.add(roster)
        session.flush()
        session.add_all(_shifts_of(roster.id, solution, pattern, tz))
        record(
            session,
            by=by,
            action="create",
            entity="roster",
            entity_id=roster.id,
            to_state=roster.state.value,
            reason=f"solved: {solution.status}",
            detail={
                "month": month.isoformat(),
                "pattern": pattern.code,
                "objective": solution.objective,
                "bound": solution.bound,
                "shifts": len(solution.posts),
            },
            at=now,
        )
        return roster.id


def _shifts_of(
    roster_id: int, solution: solver.Solution, pattern: Pattern, tz: ZoneInfo
) -> list[DutyShift]:
    shifts = []
    for post in solution.posts:
        starts_at, ends_at = pattern.shift(post.shift).bounds(post.day, tz)
        shifts.append(
            DutyShift(
                roster_id=roster_id,
                officer_id=post.person,
                day=post.day,
                shift=post.shift,
                starts_at=starts_at,
                ends_at=ends_at,
                kiosk_id=post.kiosk,
                post=Post(post.post),
                unit_id=post.unit,
                role=post.role,
            )
        )
    return shifts


def get_roster(session: Session, roster_id: int, *, for_update: bool = False) -> Roster:
    roster = session.get(Roster, roster_id, with_for_update=for_update)
    if roster is None:
        raise NotFound(f"roster {roster_id} does not exist")
    return roster


def publish(session: Session, roster_id: int, *, version: int, by: str, now: datetime) -> Roster:
    """Put a solved draft in force: the month's roster in force before is withdrawn, and the
    nights and holiday shifts of this one enter each officer's ledger."""
    roster = get_roster(session, roster_id, for_update=True)
    if roster.state is not RosterState.DRAFT:
        raise Conflict(f"roster {roster.id} is {roster.state.value}: only a draft is published")
    if roster.status not in SOLVED:
        raise Conflict(f"roster {roster.id} was not solved ({roster.status}): nothing to publish")
    taken = session.execute(
        update(Roster)
        .where(Roster.id == roster.id, Roster.version == version, Roster.state == RosterState.DRAFT)
        .values(state=RosterState.PUBLISHED, published_by=by, published_at=now, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(f"roster {roster.id} changed since version {version}: reload it")
    session.refresh(roster)
    for earlier in session.scalars(
        select(Roster).where(
            Roster.month == roster.month,
            Roster.state == RosterState.PUBLISHED,
            Roster.id != roster.id,
        )
    ):
        earlier.state = RosterState.WITHDRAWN
        earlier.version += 1
        record(
            session,
            by=by,
            action="withdraw",
            entity="roster",
            entity_id=earlier.id,
            from_state="published",
            to_state="withdrawn",
            reason=f"replaced by roster {roster.id}",
            at=now,
        )
    _enter_ledger(session, roster)
    record(
        session,
        by=by,
        action="publish",
        entity="roster",
        entity_id=roster.id,
        from_state="draft",
        to_state="published",
        detail={"month": roster.month.isoformat(), "pattern": roster.pattern_code},
        at=now,
    )
    emit(session, "roster", "published", {"roster_id": roster.id, "month": str(roster.month)})
    session.flush()
    return roster


def _enter_ledger(session: Session, roster: Roster) -> None:
    pattern = Pattern.from_dict(roster.pattern)
    nights = {s.code for s in pattern.shifts if s.night}
    calendar = StatutoryCalendar.load(session)
    counts: dict[int, list[int]] = {}
    for officer_id, day, shift in session.execute(
        select(DutyShift.officer_id, DutyShift.day, DutyShift.shift).where(
            DutyShift.roster_id == roster.id
        )
    ):
        tally = counts.setdefault(officer_id, [0, 0])
        tally[0] += shift in nights
        tally[1] += day_kind_of(calendar.day_or_weekday(day)) is DayKind.HOLIDAY
    session.execute(delete(LedgerEntry).where(LedgerEntry.month == roster.month))
    session.add_all(
        LedgerEntry(
            officer_id=officer_id,
            month=roster.month,
            roster_id=roster.id,
            nights=n,
            holidays=h,
        )
        for officer_id, (n, h) in counts.items()
    )


def shifts_of_officer(
    session: Session, officer_id: int, *, now: datetime, limit: int = 14
) -> list[DutyShift]:
    """The officer's shifts in force from now on (the one under way first)."""
    return list(
        session.scalars(
            select(DutyShift)
            .join(Roster, Roster.id == DutyShift.roster_id)
            .where(
                Roster.state == RosterState.PUBLISHED,
                DutyShift.officer_id == officer_id,
                DutyShift.ends_at > now,
            )
            .order_by(DutyShift.starts_at)
            .limit(limit)
        )
    )
