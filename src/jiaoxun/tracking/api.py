"""Routes of live tracking: the OsmAnd endpoint phones are pointed at, JSON batches, devices,
tracks and ingestion figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime
from sqlalchemy import func, select

from jiaoxun.audit.service import record
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotFound
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.tracking.osmand import fix_from_fields, fix_from_json
from jiaoxun.tracking.pipeline import RawFix, validate
from jiaoxun.tracking.schemas import (
    BatchIn,
    BatchOut,
    CheckInIn,
    CheckInOut,
    DeviceIn,
    DeviceOut,
    ShiftReportOut,
    StatsOut,
    TrackOut,
    TrackPointOut,
)
from jiaoxun.tracking.shifts import check_in_by_hand, shift_report
from jiaoxun.units.models import Officer, Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, Role
from jiaoxun.web.deps import AppState, Now, RowId, SessionDep, StateDep, requires

router = APIRouter(tags=["tracking"])
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Manager = Annotated[User, Depends(requires(Permission.MANAGE_UNITS))]
Configurer = Annotated[User, Depends(requires(Permission.CONFIGURE))]


_OSMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "unusable position"},
    404: {"description": "unknown device"},
}


@router.get("/api/osmand", response_class=PlainTextResponse, responses=_OSMAND_ERRORS)
async def osmand_get(request: Request, state: StateDep, now: Now) -> str:
    """The OsmAnd protocol (Traccar Client and similar phone apps): no token, the device id
    is the identity, and only registered devices are accepted."""
    return await _osmand(request, state, now)


@router.post("/api/osmand", response_class=PlainTextResponse, responses=_OSMAND_ERRORS)
async def osmand_post(request: Request, state: StateDep, now: Now) -> str:
    """The OsmAnd protocol by POST: query, form fields, or Traccar Client's JSON."""
    return await _osmand(request, state, now)


async def _osmand(request: Request, state: AppState, now: datetime) -> str:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        raw = fix_from_json(body, now=now)
    else:
        fields: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            fields.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        raw = fix_from_fields(fields, now=now)
    ingestor = state.ingestor
    if raw.device_id not in ingestor.unit_of:
        ingestor.stats.rejected["unknown device"] += 1
        raise NotFound(f"device {raw.device_id!r} is not registered")
    reason = validate(raw, now=now, limits=ingestor.limits)
    if reason is not None:
        ingestor.stats.rejected[reason] += 1
        raise InvalidInput(
            f"position refused: {reason} (lat {raw.lat}, lon {raw.lon}, time {raw.at.isoformat()})"
        )
    ingestor.submit([raw])
    return "OK"


@router.post("/api/positions")
async def positions(body: BatchIn, state: StateDep, now: Now, _user: Manager) -> BatchOut:
    """A batch of positions (bulk import, replays), processed before the reply. It is
    ordered and de-duplicated within itself, and moves a unit only to a newer position."""
    raws = [
        RawFix(
            device_id=p.device_id,
            lon=p.lon,
            lat=p.lat,
            at=p.at,
            speed_kph=p.speed_kph,
            course_deg=p.course_deg,
            altitude_m=p.altitude_m,
            accuracy_m=p.accuracy_m,
            source="batch",
        )
        for p in body.positions
    ]
    accepted, rejected = await anyio.to_thread.run_sync(
        lambda: state.ingestor.process(raws, now=now, replay=True)
    )
    return BatchOut(received=len(raws), accepted=len(accepted), rejected=dict(rejected))


@router.get("/api/devices")
def devices(session: SessionDep, _user: Reader) -> list[DeviceOut]:
    return [
        DeviceOut.model_validate(d)
        for d in session.scalars(select(Device).order_by(Device.device_id))
    ]


@router.post("/api/devices", status_code=status.HTTP_201_CREATED)
def add_device(body: DeviceIn, session: SessionDep, state: StateDep, user: Configurer) -> DeviceOut:
    """Register a device and bind it to a unit, and a phone to the officer who carries it."""
    if session.scalar(select(Device).where(Device.device_id == body.device_id)):
        raise Conflict(f"device {body.device_id!r} is registered already")
    if body.unit_id is not None and session.get(Unit, body.unit_id) is None:
        raise NotFound(f"unit {body.unit_id} does not exist")
    if body.officer_id is not None and session.get(Officer, body.officer_id) is None:
        raise NotFound(f"officer {body.officer_id} does not exist")
    device = Device(
        device_id=body.device_id,
        protocol=body.protocol,
        unit_id=body.unit_id,
        officer_id=body.officer_id,
        online=False,
    )
    session.add(device)
    session.flush()
    record(
        session,
        by=user.username,
        action="create",
        entity="device",
        entity_id=device.id,
        detail=body.model_dump(),
    )
    state.ingestor.unit_of[device.device_id] = device.unit_id
    return DeviceOut.model_validate(device)


@router.get("/api/units/{unit_id}/track")
def track(
    unit_id: RowId,
    session: SessionDep,
    now: Now,
    _user: Reader,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    step_s: Annotated[float, Query(ge=0, le=3600, description="keep one point per step")] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> TrackOut:
    """A unit's track between two times (the last hour by default), downsampled on request."""
    if session.get(Unit, unit_id) is None:
        raise NotFound(f"unit {unit_id} does not exist")
    end = to or now
    start = from_ or end - timedelta(hours=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to must carry a time zone offset")
    if start > end:
        raise InvalidInput(f"from {start.isoformat()} is after to {end.isoformat()}")
    where = (TrackPoint.unit_id == unit_id, TrackPoint.at >= start, TrackPoint.at <= end)
    total = session.scalar(select(func.count()).select_from(TrackPoint).where(*where)) or 0
    rows = session.scalars(select(TrackPoint).where(*where).order_by(TrackPoint.at).limit(limit))
    points, last = [], None
    for row in rows:
        if last is not None and (row.at - last).total_seconds() < step_s:
            continue
        last = row.at
        points.append(
            TrackPointOut(
                at=row.at,
                lon=row.lon,
                lat=row.lat,
                speed_kph=row.speed_kph,
                course_deg=row.course_deg,
                zone=row.zone,
                on_road=row.edge >= 0,
            )
        )
    return TrackOut(unit_id=unit_id, points=points, total_points=total)


@router.get("/api/tracking/stats")
def stats(state: StateDep, _user: Reader) -> StatsOut:
    """Positions accepted since start, and rejected ones by reason."""
    s = state.ingestor.stats
    return StatsOut(
        accepted=s.accepted,
        batches=s.batches,
        rejected=dict(s.rejected),
        jt808=dict(state.gateway.stats),
        mqtt=dict(state.mqtt),
    )


@router.get("/api/patrol/report")
def patrol_report(
    session: SessionDep,
    state: StateDep,
    now: Now,
    _user: Reader,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> ShiftReportOut:
    """Patrol compliance of a shift (the last 8 hours by default), per unit and per zone."""
    end = end or now
    start = start or end - timedelta(hours=8)
    return ShiftReportOut.of(shift_report(session, state.city, start=start, end=end))


@router.post("/api/patrol/points/{point_id}/check-in", status_code=status.HTTP_201_CREATED)
def check_in(
    point_id: RowId, body: CheckInIn, session: SessionDep, now: Now, user: Manager
) -> CheckInOut:
    """A manual check-in at a mandatory patrol point, from where the officer stands."""
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
