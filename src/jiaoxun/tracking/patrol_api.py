"""Routes of patrol duty: the shift's compliance report (JSON, CSV, map) and manual check-ins.
An officer reads only his own unit and zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from jiaoxun.city.models import PatrolLine, PatrolPoint
from jiaoxun.errors import NotAllowed
from jiaoxun.incidents.access import Scope, scope_of
from jiaoxun.inputs import Instant
from jiaoxun.tracking.compliance import DutyReport, ShiftReport, Times
from jiaoxun.tracking.duty import SHIFT, UnitDuty
from jiaoxun.tracking.models import PatrolState
from jiaoxun.tracking.schemas import CheckInIn, CheckInOut, ShiftReportOut
from jiaoxun.tracking.shifts import check_in_by_hand, shift_report
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, Role
from jiaoxun.web.deps import AppState, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["patrol"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Manager = Annotated[User, Depends(requires(Permission.MANAGE_UNITS))]
ShiftAt = Annotated[
    Instant | None, Query(description="a moment of the shift to report (default: now)")
]


def _report(
    session: Session, state: AppState, user: User, at: datetime, now: datetime
) -> ShiftReport:
    ingestor = state.ingestor
    report = shift_report(
        session,
        state.city,
        clock=ingestor.shifts,
        at=at,
        now=now,
        beside=ingestor.duty.rules.beside,  # found once, at start
    )
    return _scoped(report, scope_of(session, user), state)


def _scoped(report: ShiftReport, scope: Scope, state: AppState) -> ShiftReport:
    """An officer's report: his unit and his zone only."""
    if not scope.limited:
        return report
    zone = state.city.zone_by_id(scope.zone_id)
    code = zone.code if zone else None
    return ShiftReport(
        report.start,
        report.end,
        tuple(u for u in report.units if u.unit_id == scope.unit_id),
        tuple(z for z in report.zones if z.zone == code),
    )


@router.get("/api/patrol/report")
def patrol_report(
    session: SessionDep, state: StateDep, now: Now, user: Reader, at: ShiftAt = None
) -> ShiftReportOut:
    """Patrol compliance of a shift (the current one by default), per unit and per zone: km
    and minutes on patrol, on orders and out of zone, points visited, lines driven."""
    return ShiftReportOut.of(_report(session, state, user, at or now, now))


@router.get(
    "/api/patrol/report.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "one row per unit, zone, point or line"}
    },
)
def patrol_report_csv(
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Reader,
    at: ShiftAt = None,
    rows: Literal["units", "zones", "points", "lines"] = "units",
) -> Response:
    """The shift's report as a spreadsheet: one row per unit (default), zone, point or line."""
    report = _report(session, state, user, at or now, now)
    out = io.StringIO()
    csv.writer(out).writerows(_csv_rows(report, rows, _names(session)))
    filename = f"patrol-{report.start:%Y%m%d-%H%M}-{rows}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_FIGURES = ["patrol_km", "patrol_min", "order_km", "order_min", "outside_zone_min"]
_DUTY = ["visits_done", "visits_required", "late_points", "missed_points", "line_coverage"]


def _csv_rows(report: ShiftReport, rows: str, names: dict[str, dict[int, str]]) -> list[list[Any]]:
    def figures(t: Times, d: DutyReport) -> list[Any]:
        duty = [d.visits_done, d.visits_required, len(d.late), len(d.missed)]
        times = [t.patrol_km, t.patrol_min, t.order_km, t.order_min, t.outside_zone_min]
        return [f"{v:.3f}" for v in times] + duty + [f"{d.line_coverage:.4f}"]

    if rows == "units":
        return [["unit", "zone", *_FIGURES, *_DUTY]] + [
            [u.unit, u.zone, *figures(u.times, u.duty)] for u in report.units
        ]
    if rows == "zones":
        return [["zone", "units", *_FIGURES, *_DUTY]] + [
            [z.zone, " ".join(z.units), *figures(z.times, z.duty)] for z in report.zones
        ]
    if rows == "points":
        head = ["zone", "point_id", "point", "status", "visits", "required", "unproved", "first"]
        return [head] + [
            [
                z.zone,
                p.point_id,
                names["points"].get(p.point_id, ""),
                p.status,
                p.visits,
                p.required,
                p.unproved,
                p.first_at.isoformat() if p.first_at else "",
            ]
            for z in report.zones
            for p in z.duty.points
        ]
    head = ["zone", "line_id", "line", "status", "covered", "passes", "required", "length_m"]
    return [head] + [
        [
            z.zone,
            x.line_id,
            names["lines"].get(x.line_id, ""),
            x.status,
            f"{x.covered:.4f}",
            x.passes,
            x.required_passes,
            f"{x.length_m:.0f}",
        ]
        for z in report.zones
        for x in z.duty.lines
    ]


def _names(session: Session) -> dict[str, dict[int, str]]:
    return {
        "points": {r.id: r.name for r in session.execute(select(PatrolPoint.id, PatrolPoint.name))},
        "lines": {r.id: r.name for r in session.execute(select(PatrolLine.id, PatrolLine.name))},
    }


@router.get("/api/patrol/report/map")
def patrol_report_map(
    session: SessionDep, state: StateDep, now: Now, user: Reader, at: ShiftAt = None
) -> dict[str, Any]:
    """The shift's report as GeoJSON: each mandatory line with the share driven, each point
    with its status, and the roads each unit drove (map-matched), for a map."""
    report = _report(session, state, user, at or now, now)
    net = state.city.travel_times.network
    features: list[dict[str, Any]] = []
    zones = {z.zone: z for z in report.zones}
    lines = {x.line_id: (z, x) for z in report.zones for x in z.duty.lines}
    for row in session.scalars(select(PatrolLine).where(PatrolLine.id.in_(lines))):
        zone, line = lines[row.id]
        features.append(
            {
                "type": "Feature",
                "geometry": row.geometry,
                "properties": {
                    "layer": "line",
                    "line_id": row.id,
                    "name": row.name,
                    "zone": zone.zone,
                    "covered": round(line.covered, 4),
                    "passes": line.passes,
                    "required_passes": line.required_passes,
                    "status": line.status,
                },
            }
        )
    points = {p.point_id: (z, p) for z in zones.values() for p in z.duty.points}
    for spot in session.scalars(select(PatrolPoint).where(PatrolPoint.id.in_(points))):
        zone, point = points[spot.id]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [spot.lon, spot.lat]},
                "properties": {
                    "layer": "point",
                    "point_id": spot.id,
                    "name": spot.name,
                    "zone": zone.zone,
                    "radius_m": spot.radius_m,
                    "status": point.status,
                    "visits": point.visits,
                    "required": point.required,
                },
            }
        )
    units = {u.unit_id: u for u in report.units}
    for kept in session.scalars(
        select(PatrolState)
        .options(undefer(PatrolState.roads))
        .where(PatrolState.shift_start == report.start, PatrolState.unit_id.in_(units))
    ):
        driven = UnitDuty.from_json(
            kept.unit_id, kept.shift_start, kept.shift_end, kept.state, kept.portions, kept.roads
        ).portions.get(SHIFT, {})
        paths = [
            net.piece_coords(stretch, lo, hi).round(7).tolist()
            for stretch, intervals in sorted(driven.items())
            for lo, hi in intervals
        ]
        unit = units[kept.unit_id]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": paths},
                "properties": {
                    "layer": "driven",
                    "unit_id": unit.unit_id,
                    "unit": unit.unit,
                    "zone": unit.zone,
                    "patrol_km": round(unit.times.patrol_km, 3),
                    "roads_as_of": unit.roads_as_of.isoformat() if unit.roads_as_of else None,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "features": features,
    }


@router.post("/api/patrol/points/{point_id}/check-in", status_code=status.HTTP_201_CREATED)
def check_in(
    point_id: RowId, body: CheckInIn, session: SessionDep, now: Now, user: Manager
) -> CheckInOut:
    """A manual check-in at a mandatory patrol point, from where the officer stands: proved
    only when the unit's own track stayed within the point's radius for its dwell."""
    if user.role is Role.OFFICER and user.unit_id != body.unit_id:
        raise NotAllowed(f"officer {user.username} may check in only his own unit")
    row = check_in_by_hand(
        session,
        point_id,
        unit_id=body.unit_id,
        lon=body.lon,
        lat=body.lat,
        at=now,
        by=user.username,
    )
    return CheckInOut.model_validate(row)
