"""Use cases of field activities: record one, list them, name the codes. Services flush, never
commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from jiaoxun.activities.models import (
    LABELS,
    Activity,
    ActivityKind,
    Assistance,
    StopCheckResult,
    Violation,
)
from jiaoxun.activities.schemas import ActivityIn
from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.errors import NotAllowed, NotFound
from jiaoxun.events import emit
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role


def activity_data(activity: Activity, city: CityContext) -> dict[str, Any]:
    """The activity as the API and the event stream show it."""
    zone = city.zone_by_id(activity.zone_id)
    return {
        "id": activity.id,
        "kind": activity.kind.value,
        "unit_id": activity.unit_id,
        "call_sign": activity.unit.call_sign,
        "zone": zone.code if zone else None,
        "at": activity.at.isoformat(),
        "lon": activity.lon,
        "lat": activity.lat,
        "recorded_by": activity.recorded_by,
        "details": activity.details,
    }


def record_activity(
    session: Session, data: ActivityIn, *, user: User, city: CityContext, now: datetime
) -> Activity:
    """Record a matter handled on initiative where it happened (on the road network). An
    officer records only for his own unit."""
    if user.role is Role.OFFICER and user.unit_id != data.unit_id:
        raise NotAllowed(
            f"officer {user.username} may record activities only for his own unit, "
            f"not unit {data.unit_id}"
        )
    unit = session.get(Unit, data.unit_id)
    if unit is None:
        raise NotFound(f"unit {data.unit_id} does not exist")
    city.travel_times.snap(data.lon, data.lat)  # refuses a point off the road network
    zone = city.zone_at(data.lon, data.lat)
    activity = Activity(
        kind=ActivityKind(data.kind),
        unit_id=unit.id,
        zone_id=zone.id if zone else None,
        recorded_by=user.username,
        at=now,
        lon=data.lon,
        lat=data.lat,
        details=data.details(),
    )
    activity.unit = unit
    session.add(activity)
    session.flush()
    record(
        session,
        by=user.username,
        action="create",
        entity="activity",
        entity_id=activity.id,
        at=now,
        detail={"kind": activity.kind.value, "unit_id": unit.id, **activity.details},
    )
    emit(session, "activity", "created", activity_data(activity, city))
    return activity


def list_activities(
    session: Session,
    *,
    unit_id: int | None = None,
    kind: ActivityKind | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> Sequence[Activity]:
    """Activities newest first, optionally of one unit, of one kind, from a time on."""
    query = select(Activity).options(selectinload(Activity.unit))
    if unit_id is not None:
        query = query.where(Activity.unit_id == unit_id)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if since is not None:
        query = query.where(Activity.at >= since)
    return session.scalars(
        query.order_by(Activity.at.desc(), Activity.id.desc()).limit(limit)
    ).all()


def _labelled(codes: Iterable[StrEnum]) -> list[dict[str, str]]:
    return [{"code": c.value, "zh": LABELS[c][0], "en": LABELS[c][1]} for c in codes]


def labels() -> dict[str, list[dict[str, str]]]:
    """Every code of every select with its Chinese and English label."""
    return {
        "violation": _labelled(Violation),
        "assistance": _labelled(Assistance),
        "stop_check_result": _labelled(StopCheckResult),
    }
