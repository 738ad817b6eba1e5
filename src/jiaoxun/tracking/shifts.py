"""Use cases of patrol duty: the compliance report of a shift from the stored duties, and the
officer's manual check-in, proved by the unit's own track. Services flush, never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.city.models import PatrolPoint
from jiaoxun.db import insert_new
from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.events import emit
from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.compliance import CheckInRecord, ReportRules, ShiftReport, compliance
from jiaoxun.tracking.duty import UnitDuty
from jiaoxun.tracking.duty_rules import mandatory_lines, mandatory_points, zone_code
from jiaoxun.tracking.lines import Alongside, alongside
from jiaoxun.tracking.models import CheckInRow, PatrolState, TrackPoint
from jiaoxun.tracking.patrol import MandatoryPoint, manual_check_in, proved_stay
from jiaoxun.units.models import Unit


def shift_report(
    session: Session,
    city: CityContext,
    *,
    clock: ShiftClock,
    at: datetime,
    now: datetime,
    beside: Alongside | None = None,
) -> ShiftReport:
    """The compliance report of the shift that `at` falls in, judged at `now`: per unit and
    zone, from the duties stored as the fixes came in. `beside` are the stretches alongside
    the lines' (`tracking.lines.alongside`; found here when not given)."""
    if at.tzinfo is None:
        raise InvalidInput("the shift's time must carry a time zone offset")
    start, end = clock.shift_at(at)
    units = {u.id: (u.call_sign, zone_code(city, u.zone_id)) for u in session.scalars(select(Unit))}
    duties = {
        row.unit_id: UnitDuty.from_json(
            row.unit_id, row.shift_start, row.shift_end, row.state, row.portions
        )
        for row in session.scalars(select(PatrolState).where(PatrolState.shift_start == start))
    }
    check_ins = [
        CheckInRecord(c.point_id, c.unit_id, c.arrived_at, c.checked_in_at, c.manual, c.proved)
        for c in session.scalars(
            select(CheckInRow).where(
                CheckInRow.checked_in_at >= start,
                CheckInRow.checked_in_at < end,
                CheckInRow.unit_id.is_not(None),
            )
        )
        if c.unit_id is not None
    ]
    lines = mandatory_lines(session, city)
    network = city.travel_times.network
    rules = ReportRules(
        network=network,
        points=mandatory_points(session, city),
        lines=lines,
        tz=clock.tz,
        beside=alongside(network, lines, city.travel_times.snapper) if beside is None else beside,
    )
    return compliance(
        rules, start=start, end=end, now=now, units=units, duties=duties, check_ins=check_ins
    )


def check_in_by_hand(
    session: Session,
    point_id: int,
    *,
    unit_id: int,
    lon: float,
    lat: float,
    at: datetime,
    by: str,
) -> CheckInRow:
    """An officer checks in at a patrol point: refused farther than its radius from where he
    says he stands; stored as proved only when the unit's own track stayed within the radius
    for the dwell around `at` (then dated from the start of that stay, so that pressing again
    during it is the same check-in), else stored unproved, shown, never counted."""
    point = session.get(PatrolPoint, point_id)
    if point is None:
        raise NotFound(f"patrol point {point_id} does not exist")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    mandatory = MandatoryPoint(point.id, point.lon, point.lat, point.radius_m, point.dwell_min)
    manual_check_in(mandatory, lon, lat, at, unit=unit.call_sign)
    dwell = timedelta(minutes=point.dwell_min)
    track = session.execute(
        select(TrackPoint.at, TrackPoint.lon, TrackPoint.lat)
        .where(
            TrackPoint.unit_id == unit.id,
            TrackPoint.at >= at - dwell - timedelta(minutes=5),
            TrackPoint.at <= at + timedelta(minutes=1),
        )
        .order_by(TrackPoint.at)
    ).all()
    stay = proved_stay(mandatory, [(t, x, y) for t, x, y in track], at)
    arrived = stay if stay is not None else at
    insert_new(
        session,
        CheckInRow,
        [
            {
                "point_id": point.id,
                "unit_id": unit.id,
                "arrived_at": arrived,
                "checked_in_at": at,
                "manual": True,
                "proved": stay is not None,
                "by": by,
            }
        ],
    )
    row = session.scalars(
        select(CheckInRow).where(
            CheckInRow.point_id == point.id,
            CheckInRow.unit_id == unit.id,
            CheckInRow.arrived_at == arrived,
            CheckInRow.manual,
        )
    ).one()
    record(
        session,
        by=by,
        action="create",
        entity="check_in",
        entity_id=row.id,
        detail={
            "point": point.name,
            "unit": unit.call_sign,
            "manual": True,
            "proved": row.proved,
        },
    )
    emit(
        session,
        "check_in",
        "created",
        {
            "point_id": point.id,
            "unit_id": unit.id,
            "checked_in_at": row.checked_in_at.isoformat(),
            "manual": True,
            "proved": row.proved,
        },
    )
    return row
