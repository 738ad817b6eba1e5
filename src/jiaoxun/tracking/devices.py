"""The device registry: register a GPS device, issue and rotate its secret, audited.

A phone app (OsmAnd) or an MQTT device gets a secret at registration, shown once with what
Traccar Client needs to be set up (a configuration link and its QR code). A JT/T 808 terminal
proves itself by the standard's own registration and authentication instead.
"""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import quote

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.errors import Conflict, NotFound
from jiaoxun.events import emit
from jiaoxun.tracking.credentials import new_secret, secret_sha256
from jiaoxun.tracking.models import Device
from jiaoxun.tracking.schemas import DeviceIn, DeviceOut, DeviceSecretOut
from jiaoxun.units.models import Officer, Unit
from jiaoxun.users.models import User

#: the longest device id the device table holds
MAX_DEVICE_ID = 40
#: protocols whose devices prove themselves with a secret of ours
SECRET_PROTOCOLS = frozenset({"osmand", "mqtt"})


def register_device(session: Session, body: DeviceIn, *, by: str, now: datetime) -> Device:
    """A new device bound to a unit (and a phone to the officer who carries it)."""
    if session.scalar(select(Device).where(Device.device_id == body.device_id)):
        raise Conflict(f"device {body.device_id!r} is registered already")
    if body.unit_id is not None and session.get(Unit, body.unit_id) is None:
        raise NotFound(f"unit {body.unit_id} does not exist")
    if body.officer_id is not None and session.get(Officer, body.officer_id) is None:
        raise NotFound(f"officer {body.officer_id} does not exist")
    device = Device(**body.model_dump(), online=False)
    session.add(device)
    session.flush()
    record(
        session,
        by=by,
        action="create",
        entity="device",
        entity_id=device.id,
        at=now,
        detail=body.model_dump(),
    )
    return device


def issue_secret(session: Session, device: Device, *, by: str, now: datetime) -> str:
    """A new secret for `device`; the previous one stops working. Only its hash is kept."""
    if device.protocol not in SECRET_PROTOCOLS:
        raise Conflict(
            f"device {device.device_id!r} speaks {device.protocol}: it authenticates by its "
            "protocol, not by a secret"
        )
    secret = new_secret()
    rotated = device.secret_sha256 is not None
    device.secret_sha256 = secret_sha256(secret)
    session.flush()
    record(
        session,
        by=by,
        action="update" if rotated else "create",
        entity="device_secret",
        entity_id=device.id,
        at=now,
        reason="secret rotated" if rotated else "secret issued",
        detail={"device_id": device.device_id},
    )
    return secret


def device_by_id(session: Session, row_id: int) -> Device:
    device = session.get(Device, row_id)
    if device is None:
        raise NotFound(f"device {row_id} does not exist")
    return device


def with_secret(device: Device, secret: str, *, server_url: str) -> DeviceSecretOut:
    """The reply that shows a secret once: Traccar Client's configuration link, as a QR."""
    link = f"org.traccar.client://config?url={quote(server_url, safe='')}&id={quote(secret)}"
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=4, xmldecl=False, svgns=True)
    base = DeviceOut.model_validate(device).model_dump()
    return DeviceSecretOut(**base, secret=secret, setup_url=link, qr_svg=svg.getvalue().decode())


# -- an officer's own phone ---------------------------------------------------------------


def phone_device_id(user: User) -> str:
    """The id the officer's phone app reports with (OsmAnd `?id=`)."""
    return f"phone-{user.username}"


def phone_of(session: Session, user: User) -> Device | None:
    """The user's registered phone, if any."""
    return session.scalar(select(Device).where(Device.device_id == phone_device_id(user)))


def register_phone(session: Session, *, user: User, now: datetime) -> tuple[Device, bool]:
    """Register the user's phone as an OsmAnd device bound to his unit, or bind the one
    registered already to his unit. Returns the device and whether it is new."""
    if user.unit_id is None:
        raise Conflict(f"user {user.username} has no unit: a phone reports for a unit")
    device_id = phone_device_id(user)
    if len(device_id) > MAX_DEVICE_ID:
        raise Conflict(
            f"device id {device_id!r} has {len(device_id)} characters; at most {MAX_DEVICE_ID}"
        )
    device = phone_of(session, user)
    if device is not None and device.protocol != "osmand":
        raise Conflict(f"device {device_id!r} is registered already as a {device.protocol} device")
    if device is not None and device.unit_id == user.unit_id:
        return device, False
    created = device is None
    if device is None:
        device = Device(device_id=device_id, protocol="osmand", online=False)
        session.add(device)
    before, device.unit_id = device.unit_id, user.unit_id
    session.flush()
    record(
        session,
        by=user.username,
        action="create" if created else "update",
        entity="device",
        entity_id=device.id,
        reason="officer's phone",
        at=now,
        detail={"device_id": device_id, "protocol": "osmand", "unit_id": user.unit_id}
        | ({} if created else {"previous_unit_id": before}),
    )
    emit(
        session,
        "device",
        "created" if created else "changed",
        {"device_id": device_id, "unit_id": user.unit_id},
    )
    return device, created
