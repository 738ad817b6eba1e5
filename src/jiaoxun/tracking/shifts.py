"""Use cases of patrol duty: the compliance report of a shift from the stored tracks, and the
officer's manual check-in. Services flush, never commit."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.city.models import PatrolLine, PatrolPoint
from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.events import emit
from jiaoxun.tracking.compliance import ShiftReport, compliance
from jiaoxun.tracking.geofence import ZoneFences
from jiaoxun.tracking.models import CheckInRow, TrackPoint
from jiaoxun.tracking.patrol import CheckIn, MandatoryLine, MandatoryPoint, manual_check_in
from jiaoxun.units.models import Unit

MAX_SHIFT_HOURS = 24


def _points(session: Session, city: CityContext) -> list[MandatoryPoint]:
    return [
        MandatoryPoint(
            p.id,
            p.lon,
            p.lat,
            p.radius_m,
            p.dwell_min,
            p.visits_per_shift,
            zone=_code(city, p.zone_id),
        )
        for p in session.scalars(select(PatrolPoint).order_by(PatrolPoint.id))
    ]


def _code(city: CityContext, zone_id: int | None) -> str:
    zone = city.zone_by_id(zone_id)
    return zone.code if zone else ""


def shift_report(
    session: Session, city: CityContext, *, start: datetime, end: datetime
) -> ShiftReport:
    """Patrol km and time, points visited, lines driven, time out of zone: per unit and zone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("shift start and end must carry a time zone offset")
    if not end > start or (end - start).total_seconds() > MAX_SHIFT_HOURS * 3600:
        raise InvalidInput(
            f"a shift must end after it starts and last at most {MAX_SHIFT_HOURS} h, "
            f"got {start.isoformat()} to {end.isoformat()}"
        )
    units = session.scalars(select(Unit).order_by(Unit.call_sign)).all()
    sign = {u.id: u.call_sign for u in units}
    fixes: dict[str, list[TrackPoint]] = defaultdict(list)
    rows = session.scalars(
        select(TrackPoint)
        .where(TrackPoint.unit_id.in_(sign), TrackPoint.at >= start, TrackPoint.at < end)
        .order_by(TrackPoint.at)
    )
    for row in rows:
        fixes[sign[row.unit_id or 0]].append(row)
    manual = [
        CheckIn(c.point_id, sign[c.unit_id or 0], c.arrived_at, c.checked_in_at, manual=True)
        for c in session.scalars(
            select(CheckInRow).where(
                CheckInRow.manual,
                CheckInRow.unit_id.in_(sign),
                CheckInRow.checked_in_at >= start,
                CheckInRow.checked_in_at < end,
            )
        )
    ]
    lines = [
        MandatoryLine(line.id, tuple(line.edges), zone=_code(city, line.zone_id))
        for line in session.scalars(select(PatrolLine).order_by(PatrolLine.id))
    ]
    fences = ZoneFences.from_polygons(
        [z.code for z in city.zones], city.zone_shapes, xy=city.travel_times.snapper.to_xy
    )
    return compliance(
        city.travel_times.network,
        fixes,
        fences=fences,
        points=_points(session, city),
        lines=lines,
        home_zones={u.call_sign: _code(city, u.zone_id) for u in units},
        start=start,
        end=end,
        manual=manual,
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
    """An officer checks in at a patrol point; refused farther than its radius."""
    point = session.get(PatrolPoint, point_id)
    if point is None:
        raise NotFound(f"patrol point {point_id} does not exist")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    manual_check_in(
        MandatoryPoint(point.id, point.lon, point.lat, point.radius_m, point.dwell_min),
        lon,
        lat,
        at,
        unit=unit.call_sign,
    )
    row = CheckInRow(
        point_id=point.id, unit_id=unit.id, arrived_at=at, checked_in_at=at, manual=True, by=by
    )
    session.add(row)
    session.flush()
    record(
        session,
        by=by,
        action="create",
        entity="check_in",
        entity_id=row.id,
        detail={"point": point.name, "unit": unit.call_sign, "manual": True},
    )
    emit(
        session,
        "check_in",
        "created",
        {"point_id": point.id, "unit_id": unit.id, "checked_in_at": at.isoformat(), "manual": True},
    )
    return row
