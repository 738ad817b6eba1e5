"""Use cases of the 110 workflow: take a call, look at it, close, cancel or merge it.

Dispatching is in `dispatch.py`; every state change goes through `transitions.py`. Services
flush, never commit: the request or CLI command that calls them owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from jiaoxun.audit.models import AuditEntry
from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.coords import to_wgs84
from jiaoxun.incidents import reference, verdicts
from jiaoxun.incidents.duplicates import OpenIncident, find_duplicates
from jiaoxun.incidents.lifecycle import FINAL_INCIDENT_STATES, IncidentState, check_incident
from jiaoxun.incidents.models import Incident
from jiaoxun.incidents.schemas import IncidentIn
from jiaoxun.incidents.transitions import (
    cancel_active_orders,
    get_incident,
    move_incident,
)
from jiaoxun.inputs import recent
from jiaoxun.settings import Settings
from jiaoxun.users.models import User


def duplicates_of(
    session: Session, incident: Incident, settings: Settings
) -> list[tuple[Incident, float, float]]:
    """Open incidents that may be the same event: (incident, distance_m, minutes_apart). Only
    the calls within the time window are read (an index), not every open incident."""
    window = timedelta(minutes=settings.duplicate_minutes)
    query = select(Incident).where(
        Incident.state.not_in(FINAL_INCIDENT_STATES),
        Incident.id != incident.id,
        Incident.call_at.between(incident.call_at - window, incident.call_at + window),
    )
    candidates = {i.id: i for i in session.scalars(query)}
    found = find_duplicates(
        lon=incident.lon,
        lat=incident.lat,
        category_top=reference.top_code(incident.category_code),
        call_at=incident.call_at,
        open_incidents=[
            OpenIncident(i.id, i.lon, i.lat, reference.top_code(i.category_code), i.call_at)
            for i in candidates.values()
        ],
        max_distance_m=settings.duplicate_radius_m,
        max_minutes=settings.duplicate_minutes,
    )
    return [(candidates[d.incident_id], d.distance_m, d.minutes_apart) for d in found]


def create_incident(
    session: Session,
    data: IncidentIn,
    *,
    user: User,
    city: CityContext,
    settings: Settings,
    now: datetime,
) -> Incident:
    """Take a 110 call: validate, locate on the road network, number it, audit it."""
    category = reference.category_row(session, data.category_code)
    lon, lat = to_wgs84(data.lon, data.lat, data.datum)
    city.travel_times.snap(float(lon), float(lat))  # refuses a point off the road network
    call_at = data.call_at or now
    if call_at.tzinfo is None:
        raise InvalidInput(f"call_at {call_at.isoformat()} must carry a time zone offset")
    recent(call_at, name="call_at", now=now, max_age=timedelta(hours=settings.call_max_age_h))
    priority = data.priority or category.priority
    plan = reference.response_plan(session, code=category.code, priority=priority)
    zone = city.zone_at(float(lon), float(lat))
    incident = Incident(
        number=f"new-{uuid.uuid4().hex[:24]}",  # unique until the id gives the real one
        source=data.source,
        caller_name=data.caller_name,
        caller_phone=data.caller_phone,
        address=data.address,
        lon=float(lon),
        lat=float(lat),
        category_code=category.code,
        priority=priority,
        flags=list(data.flags),
        description=data.description,
        state=IncidentState.TAKING,
        zone_id=zone.id if zone else None,
        place_class=city.place_class_at(float(lon), float(lat)),
        required_units=plan.units,
        distinct_zones=plan.distinct_zones,
        created_by=user.username,
        call_at=call_at,
        tiers=verdicts.copy_tiers(session),
    )
    session.add(incident)
    session.flush()
    incident.number = f"{settings.region_code}{call_at.astimezone(UTC):%Y%m%d}{incident.id:06d}"
    record(
        session,
        by=user.username,
        action="create",
        entity="incident",
        entity_id=incident.id,
        to_state=IncidentState.TAKING.value,
        at=now,
        detail={
            "number": incident.number,
            "category": category.code,
            "priority": priority,
            "lon": incident.lon,
            "lat": incident.lat,
        },
    )
    move_incident(
        session, incident, IncidentState.TAKEN, by=user.username, reason="call taken", now=now
    )
    return incident


def list_incidents(
    session: Session,
    *,
    states: Sequence[IncidentState] | None = None,
    limit: int = 200,
    where: ColumnElement[bool] | None = None,
) -> Sequence[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if where is not None:
        query = query.where(where)
    if states:
        query = query.where(Incident.state.in_(states))
    return session.scalars(query.options(selectinload(Incident.orders))).all()


def timeline(session: Session, incident: Incident) -> Sequence[AuditEntry]:
    """Audit entries of the incident and of its orders, oldest first."""
    order_ids = [str(o.id) for o in incident.orders]
    query = (
        select(AuditEntry)
        .where(
            or_(
                (AuditEntry.entity == "incident") & (AuditEntry.entity_id == str(incident.id)),
                (AuditEntry.entity == "order") & AuditEntry.entity_id.in_(order_ids),
            )
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return session.scalars(query).all()


def close_incident(
    session: Session,
    incident_id: int,
    *,
    outcome_code: str,
    outcome_text: str,
    user: User,
    now: datetime,
) -> Incident:
    """Close an incident; units still on it are released. Once a unit arrived it passes through
    handled; one whose units never arrived is closed straight away (no arrival is invented).
    Its verdicts are written."""
    incident = get_incident(session, incident_id, for_update=True)
    if incident.state in FINAL_INCIDENT_STATES:
        check_incident(incident.state, IncidentState.CLOSED)  # raises with the rule
    cancel_active_orders(session, incident, user=user, reason="incident closed", now=now)
    incident.outcome_code, incident.outcome_text = outcome_code, outcome_text
    move_incident(
        session,
        incident,
        IncidentState.CLOSED,
        by=user.username,
        reason=f"closed: {outcome_code}",
        now=now,
    )
    verdicts.write(session, incident, on=incident.state.value, now=now)
    return incident


def cancel_incident(
    session: Session, incident_id: int, *, reason: str, user: User, now: datetime
) -> Incident:
    incident = get_incident(session, incident_id, for_update=True)
    check_incident(incident.state, IncidentState.CANCELLED)
    cancel_active_orders(
        session, incident, user=user, reason=f"incident cancelled: {reason}", now=now
    )
    move_incident(
        session, incident, IncidentState.CANCELLED, by=user.username, reason=reason, now=now
    )
    verdicts.write(session, incident, on=incident.state.value, now=now)
    return incident


def merge_incident(
    session: Session, incident_id: int, *, into: int, reason: str, user: User, now: datetime
) -> Incident:
    """Merge a duplicate into its main incident; its units are released."""
    if into == incident_id:
        raise InvalidInput(f"incident {incident_id} cannot be merged into itself")
    incident = get_incident(session, incident_id, for_update=True)
    main = get_incident(session, into)
    if main.state in FINAL_INCIDENT_STATES:
        raise InvalidInput(
            f"main incident {main.number} is {main.state.value}: merge into an open one"
        )
    check_incident(incident.state, IncidentState.MERGED)
    cancel_active_orders(session, incident, user=user, reason=f"merged into {main.number}", now=now)
    incident.main_incident_id = main.id
    move_incident(
        session,
        incident,
        IncidentState.MERGED,
        by=user.username,
        reason=reason or f"duplicate of {main.number}",
        now=now,
    )
    verdicts.write(session, incident, on=incident.state.value, now=now)
    return incident
