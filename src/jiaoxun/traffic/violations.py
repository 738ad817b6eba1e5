"""Use cases of traffic violations: record one by an officer, handle it (decide, pay), look it
up by plate. Services flush, never commit.

A violation copies its code's points, fine, names and version when recorded: a later edit of
the code table never changes it. It also counts as a field activity of kind violation (管事率),
so the statistics, which count activities, count it once. The engine number's last 6 (from the
registration card) are kept only as a keyed hash of plate and tail, so that the owner can look
the violation up online without the tail being stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity, ActivityKind, Violation
from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotFound
from jiaoxun.events import emit
from jiaoxun.inputs import recent
from jiaoxun.services.identity import citizen_sha256
from jiaoxun.traffic import photos
from jiaoxun.traffic.codes import code_of
from jiaoxun.traffic.models import Accident, TrafficViolation, ViolationState
from jiaoxun.traffic.plates import check_plate
from jiaoxun.traffic.violation_schemas import ViolationIn
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role

#: how long after the fact a violation may still be recorded
MAX_AGE = timedelta(days=7)
#: the codes that are one of the activity page's violations (the others count as "other")
ACTIVITY_VIOLATION = {
    "1625": Violation.RED_LIGHT,
    "1039": Violation.ILLEGAL_PARKING,
    "1301": Violation.WRONG_WAY,
    "1240": Violation.NO_SEATBELT,
    "1223": Violation.PHONE_USE,
}


def engine_sha256(key: bytes, *, plate: str, engine_tail: str) -> str:
    """The keyed hash of a plate and its engine number's last 6 (upper case)."""
    return citizen_sha256(key, f"{plate}|{engine_tail}")


def violation_data(session: Session, v: TrafficViolation, city: CityContext) -> dict[str, Any]:
    """The violation as the API and the event stream show it."""
    unit = session.get(Unit, v.unit_id) if v.unit_id else None
    zone = city.zone_by_id(v.zone_id)
    return {
        "id": v.id,
        "number": v.number,
        "plate": v.plate,
        "plate_kind": v.plate_kind,
        "code": v.code,
        "code_version": v.code_version,
        "name_zh": v.name_zh,
        "name_en": v.name_en,
        "points": v.points,
        "fine_yuan": v.fine_yuan,
        "at": v.at.isoformat(),
        "recorded_at": v.recorded_at.isoformat(),
        "lon": v.lon,
        "lat": v.lat,
        "place": v.place,
        "unit_id": v.unit_id,
        "call_sign": unit.call_sign if unit else None,
        "zone": zone.code if zone else None,
        "recorded_by": v.recorded_by,
        "state": v.state.value,
        "decision_number": v.decision_number,
        "decided_at": v.decided_at.isoformat() if v.decided_at else None,
        "paid_at": v.paid_at.isoformat() if v.paid_at else None,
        "note": v.note,
        "version": v.version,
        "photos": [
            {**photos.photo_data(p), "uploaded_at": p.uploaded_at.isoformat()}
            for p in photos.photos_of(session, "violation", v.id)
        ],
    }


def record_violation(
    session: Session,
    data: ViolationIn,
    *,
    user: User,
    city: CityContext,
    key: bytes,
    now: datetime,
) -> TrafficViolation:
    """Record a violation where it happened (on the road network), with its code as it stands
    now and the field activity it counts as. An officer records only for his own unit."""
    if user.role is Role.OFFICER and user.unit_id != data.unit_id:
        raise NotAllowed(
            f"officer {user.username} may record violations only for his own unit, "
            f"not unit {data.unit_id}"
        )
    plate = check_plate(data.plate)
    code = code_of(session, data.code)
    if not code.active:
        raise InvalidInput(f"violation code {code.code} is retired (inactive): pick a current one")
    unit = session.get(Unit, data.unit_id)
    if unit is None:
        raise NotFound(f"unit {data.unit_id} does not exist")
    if data.accident_id is not None and session.get(Accident, data.accident_id) is None:
        raise NotFound(f"accident {data.accident_id} does not exist")
    at = recent(data.at or now, name="at (the time of the violation)", now=now, max_age=MAX_AGE)
    city.travel_times.snap(data.lon, data.lat)  # refuses a point off the road network
    zone = city.zone_at(data.lon, data.lat)
    violation = TrafficViolation(
        number=f"new-{uuid.uuid4().hex[:24]}",  # unique until the id gives the real one
        plate=plate.plate,
        plate_kind=plate.kind.value,
        engine_sha256=(
            engine_sha256(key, plate=plate.plate, engine_tail=data.engine_tail.upper())
            if data.engine_tail
            else None
        ),
        code=code.code,
        code_version=code.version,
        name_zh=code.name_zh,
        name_en=code.name_en,
        points=code.points,
        fine_yuan=code.fine_yuan,
        at=at,
        recorded_at=now,
        lon=data.lon,
        lat=data.lat,
        place=data.place,
        unit_id=unit.id,
        zone_id=zone.id if zone else None,
        recorded_by=user.username,
        accident_id=data.accident_id,
        state=ViolationState.PENDING,
        note=data.note,
        version=1,
    )
    session.add(violation)
    session.flush()
    # W, the day (UTC) and the id: unique, and readable over the radio
    violation.number = f"W{at.strftime('%Y%m%d')}{violation.id:06d}"
    activity = Activity(
        kind=ActivityKind.VIOLATION,
        unit_id=unit.id,
        zone_id=violation.zone_id,
        recorded_by=user.username,
        at=at,
        lon=data.lon,
        lat=data.lat,
        details={
            "plate": plate.plate,
            "violation": ACTIVITY_VIOLATION.get(code.code, Violation.OTHER).value,
            "code": code.code,
            "number": violation.number,
            "note": data.note,
        },
    )
    activity.unit = unit
    session.add(activity)
    session.flush()
    violation.activity_id = activity.id
    session.flush()
    record(
        session,
        by=user.username,
        action="create",
        entity="traffic_violation",
        entity_id=violation.id,
        to_state=violation.state.value,
        at=now,
        detail={
            "number": violation.number,
            "plate": violation.plate,
            "code": code.code,
            "code_version": code.version,
            "unit_id": unit.id,
            "activity_id": activity.id,
            "engine_tail_given": violation.engine_sha256 is not None,
        },
    )
    emit(session, "violation", "created", violation_data(session, violation, city))
    return violation


def violation_of(session: Session, violation_id: int, *, lock: bool = False) -> TrafficViolation:
    """The violation; `lock` holds its row until the transaction ends (two clerks racing to
    decide it: the second reads the first one's version)."""
    violation = session.get(TrafficViolation, violation_id, with_for_update=lock)
    if violation is None:
        raise NotFound(f"violation {violation_id} does not exist")
    return violation


def list_violations(
    session: Session,
    *,
    unit_id: int | None = None,
    state: ViolationState | None = None,
    since: datetime | None = None,
    plate: str | None = None,
    limit: int = 200,
) -> Sequence[TrafficViolation]:
    """Violations newest first, optionally of one unit, in one state, from a time on, of a plate."""
    query = select(TrafficViolation)
    if unit_id is not None:
        query = query.where(TrafficViolation.unit_id == unit_id)
    if state is not None:
        query = query.where(TrafficViolation.state == state)
    if since is not None:
        query = query.where(TrafficViolation.at >= since)
    if plate is not None:
        query = query.where(TrafficViolation.plate == plate)
    order = (TrafficViolation.at.desc(), TrafficViolation.id.desc())
    return session.scalars(query.order_by(*order).limit(limit)).all()


def public_violations(
    session: Session, *, plate: str, engine_tail: str, key: bytes
) -> Sequence[TrafficViolation]:
    """The violations of a plate recorded with this engine tail; any other tail finds none."""
    hashed = engine_sha256(key, plate=plate, engine_tail=engine_tail.upper())
    query = select(TrafficViolation).where(
        TrafficViolation.plate == plate, TrafficViolation.engine_sha256 == hashed
    )
    return session.scalars(query.order_by(TrafficViolation.at.desc()).limit(200)).all()


def _step(
    violation: TrafficViolation, *, version: int, wanted: ViolationState, to: ViolationState
) -> None:
    if version != violation.version:
        raise Conflict(
            f"violation {violation.number} is at version {violation.version}, not {version}: "
            "someone changed it since; read it again"
        )
    if violation.state is not wanted:
        raise Conflict(
            f"violation {violation.number} is {violation.state.value}: only a {wanted.value} "
            f"one can become {to.value} (pending -> decided -> paid)"
        )


def _moved(
    session: Session,
    violation: TrafficViolation,
    *,
    user: User,
    city: CityContext,
    now: datetime,
    before: ViolationState,
) -> TrafficViolation:
    violation.version += 1
    session.flush()
    record(
        session,
        by=user.username,
        action=violation.state.value,
        entity="traffic_violation",
        entity_id=violation.id,
        from_state=before.value,
        to_state=violation.state.value,
        at=now,
        detail={"number": violation.number, "decision_number": violation.decision_number},
    )
    emit(session, "violation", violation.state.value, violation_data(session, violation, city))
    return violation


def decide(
    session: Session,
    *,
    violation_id: int,
    version: int,
    decision_number: str | None,
    user: User,
    city: CityContext,
    now: datetime,
) -> TrafficViolation:
    """The penalty decision (处罚决定书): numbered as given, or D and the violation's number."""
    violation = violation_of(session, violation_id, lock=True)
    _step(violation, version=version, wanted=ViolationState.PENDING, to=ViolationState.DECIDED)
    violation.state = ViolationState.DECIDED
    violation.decision_number = decision_number or f"D{violation.number[1:]}"
    violation.decided_at = now
    violation.decided_by = user.username
    return _moved(session, violation, user=user, city=city, now=now, before=ViolationState.PENDING)


def pay(
    session: Session,
    *,
    violation_id: int,
    version: int,
    user: User,
    city: CityContext,
    now: datetime,
) -> TrafficViolation:
    """The fine paid (缴款) on a decided violation."""
    violation = violation_of(session, violation_id, lock=True)
    _step(violation, version=version, wanted=ViolationState.DECIDED, to=ViolationState.PAID)
    violation.state = ViolationState.PAID
    violation.paid_at = now
    return _moved(session, violation, user=user, city=city, now=now, before=ViolationState.DECIDED)
