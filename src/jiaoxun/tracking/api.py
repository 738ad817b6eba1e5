"""Routes of live tracking: the OsmAnd endpoint phones are pointed at, JSON batches, devices,
tracks and ingestion figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from jiaoxun.audit.service import record
from jiaoxun.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from jiaoxun.incidents.access import scope_of
from jiaoxun.inputs import Instant
from jiaoxun.tracking.devices import (
    SECRET_PROTOCOLS,
    device_by_id,
    issue_secret,
    phone_device_id,
    register_device,
    register_phone,
    with_secret,
)
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.tracking.osmand import fix_from_fields, fix_from_json
from jiaoxun.tracking.pipeline import RawFix
from jiaoxun.tracking.schemas import (
    BatchIn,
    BatchOut,
    DeviceIn,
    DeviceOut,
    DeviceSecretOut,
    OwnPositionIn,
    StatsOut,
    TrackOut,
    TrackPointOut,
)
from jiaoxun.tracking.service import Ingestor
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import AppState, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["tracking"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Manager = Annotated[User, Depends(requires(Permission.MANAGE_UNITS))]
Configurer = Annotated[User, Depends(requires(Permission.CONFIGURE))]


_OSMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no registered OsmAnd device has this id and secret"},
    409: {"description": "the fix contradicts the device's earlier ones (order, jump)"},
    422: {"description": "unusable position"},
    429: {"description": "the device sends too often"},
}
#: refusals that a device's later fixes may resolve; the others are the fix's own fault
_ORDER_REASONS = {"out of order", "impossible jump", "another place at the same time"}


@router.get("/api/osmand", response_class=PlainTextResponse, responses=_OSMAND_ERRORS)
async def osmand_get(request: Request, state: StateDep, now: Now) -> str:
    """The OsmAnd protocol (Traccar Client and similar phone apps): no token, but the device
    proves itself with its secret, as `key` beside `id`, or as the `id` itself (Traccar
    Client's device identifier field). "OK" only once the fix is stored."""
    return await _osmand(request, state, now)


@router.post("/api/osmand", response_class=PlainTextResponse, responses=_OSMAND_ERRORS)
async def osmand_post(request: Request, state: StateDep, now: Now) -> str:
    """The OsmAnd protocol by POST: query, form fields, or Traccar Client's JSON."""
    return await _osmand(request, state, now)


async def _osmand(request: Request, state: AppState, now: datetime) -> str:
    body: Any = None
    fields: dict[str, Any] = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
    elif request.method == "POST":
        fields.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    ingestor = state.ingestor
    # who first: an unknown id and a wrong secret get the same answer, whatever the data
    claimed, secret = _credentials(fields, body)
    device_id = ingestor.identify(claimed, secret=secret, protocol="osmand")
    if device_id is None:
        ingestor.stats.rejected["unrecognised device"] += 1
        raise NotAuthenticated("no registered OsmAnd device has this id and secret")
    raw = fix_from_json(body, now=now) if body is not None else fix_from_fields(fields, now=now)
    await _store(ingestor, replace(raw, device_id=device_id))
    return "OK"


async def _store(ingestor: Ingestor, raw: RawFix) -> None:
    """Through the pipeline and into the database, or an error saying why not."""
    if (wait_s := ingestor.throttle.take(raw.device_id)) > 0:
        ingestor.stats.rejected["rate limited"] += 1
        raise TooManyRequests(
            f"device sends more than {ingestor.throttle.rate_per_s:g} fixes a second",
            retry_after_s=wait_s,
        )
    reason = await ingestor.submit_and_wait(raw)
    if reason is None or reason == "duplicate":  # a retry of a stored fix is stored
        return
    where = f"lat {raw.lat}, lon {raw.lon}, time {raw.at.isoformat()}"
    if reason in _ORDER_REASONS:
        raise Conflict(f"position refused: {reason} ({where})")
    raise InvalidInput(f"position refused: {reason} ({where})")


def _credentials(fields: dict[str, Any], body: Any) -> tuple[str, str | None]:
    """The id a request claims and the secret it shows (None: the id is the secret)."""
    source = body if isinstance(body, dict) else fields
    claimed = source.get("device_id") if source is body else source.get("id")
    claimed = claimed or source.get("deviceid") or ""
    secret = source.get("key")
    return str(claimed).strip(), str(secret) if secret else None


@router.post(
    "/api/me/phone",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": DeviceOut, "description": "the phone was registered already"},
        409: {"description": "the user has no unit"},
    },
)
def my_phone(
    user: Manager,
    request: Request,
    session: SessionDep,
    state: StateDep,
    now: Now,
    response: Response,
    rotate: bool = False,
) -> DeviceSecretOut | DeviceOut:
    """Register the user's phone (OsmAnd, id `phone-<username>`) as a GPS device of his unit.
    A new phone, or `?rotate=true`, gets a secret, shown this once with the set-up link and
    QR code of Traccar Client; his own page sends its positions to `/api/me/position`."""
    device, created = register_phone(session, user=user, now=now)
    state.ingestor.know_device(device)
    if not (created or rotate):
        response.status_code = status.HTTP_200_OK
        return DeviceOut.model_validate(device)
    secret = issue_secret(session, device, by=user.username, now=now)
    state.ingestor.know_device(device)
    return with_secret(device, secret, server_url=str(request.base_url).rstrip("/"))


@router.post("/api/me/position", status_code=status.HTTP_204_NO_CONTENT)
async def my_position(body: OwnPositionIn, state: StateDep, user: Manager) -> None:
    """A position of the user's registered phone, sent by his page (his login proves it);
    answered once it is stored, or with the reason it was refused. (No transaction of the
    request's own: the ingestor's batch writes it.)"""
    device_id = phone_device_id(user)
    if device_id not in state.ingestor.unit_of:
        raise Conflict(f"user {user.username} has no phone registered: POST /api/me/phone first")
    raw = RawFix(
        device_id,
        body.lon,
        body.lat,
        body.at,
        body.speed_kph,
        body.course_deg,
        body.altitude_m,
        body.accuracy_m,
        source="phone",
    )
    await _store(state.ingestor, raw)


@router.post("/api/positions")
async def positions(
    body: BatchIn, session: SessionDep, state: StateDep, now: Now, user: Configurer
) -> BatchOut:
    """A batch of positions (bulk import, replays; commander and admin only, audited),
    processed before the reply. It is ordered and de-duplicated within itself, and moves a
    unit only to a newer position."""
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
    record(
        session,
        by=user.username,
        action="import",
        entity="positions",
        entity_id=len(raws),
        at=now,
        reason="batch of positions",
        detail={
            "devices": sorted({r.device_id for r in raws}),
            "accepted": len(accepted),
            "rejected": dict(rejected),
        },
    )
    return BatchOut(received=len(raws), accepted=len(accepted), rejected=dict(rejected))


@router.get("/api/devices")
def devices(session: SessionDep, _user: Configurer) -> list[DeviceOut]:
    """Registered devices (commander and admin only: an id is half of what a device shows)."""
    return [
        DeviceOut.model_validate(d)
        for d in session.scalars(select(Device).order_by(Device.device_id))
    ]


@router.post("/api/devices", status_code=status.HTTP_201_CREATED)
def add_device(
    body: DeviceIn,
    request: Request,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Configurer,
) -> DeviceSecretOut | DeviceOut:
    """Register a device bound to a unit; a phone app or MQTT device gets its secret, shown
    this once with Traccar Client's set-up link and QR code."""
    device = register_device(session, body, by=user.username, now=now)
    secret = None
    if device.protocol in SECRET_PROTOCOLS:
        secret = issue_secret(session, device, by=user.username, now=now)
    state.ingestor.know_device(device)
    if secret is None:
        return DeviceOut.model_validate(device)
    return with_secret(device, secret, server_url=str(request.base_url).rstrip("/"))


@router.post("/api/devices/{device_id}/secret")
def rotate_secret(
    device_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Configurer,
) -> DeviceSecretOut:
    """A new secret for a phone app or MQTT device (a lost phone): the old one stops at once."""
    device = device_by_id(session, device_id)
    secret = issue_secret(session, device, by=user.username, now=now)
    state.ingestor.know_device(device)
    return with_secret(device, secret, server_url=str(request.base_url).rstrip("/"))


@router.get("/api/units/{unit_id}/track")
def track(
    unit_id: RowId,
    session: SessionDep,
    now: Now,
    user: Reader,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Instant | None = None,
    step_s: Annotated[float, Query(ge=0, le=3600, description="keep one point per step")] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> TrackOut:
    """A unit's track between two times (the last hour by default), downsampled on request;
    an officer reads only his own unit's."""
    scope_of(session, user).check_unit(unit_id)
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
