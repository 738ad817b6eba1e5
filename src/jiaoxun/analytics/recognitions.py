"""Recognitions received: a banner (锦旗) or letter of thanks (感谢信) from a citizen, or a good
deed (好人好事) done, recorded by the command with what it was for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.analytics import schemas
from jiaoxun.analytics.models import Recognition
from jiaoxun.audit import service as audit
from jiaoxun.city.models import Zone
from jiaoxun.errors import NotFound
from jiaoxun.incidents.models import Incident
from jiaoxun.units.models import Unit


def record_recognition(
    session: Session, body: schemas.RecognitionIn, *, by: str, now: datetime
) -> Recognition:
    """Store one recognition; its unit's zone is taken when no zone is given.

    Raises
    ------
    NotFound
        For a zone, unit or incident number that does not exist.
    """
    unit = zone = incident = None
    if body.unit is not None:
        unit = session.scalar(select(Unit).where(Unit.call_sign == body.unit))
        if unit is None:
            raise NotFound(f"unit {body.unit!r} does not exist")
    if body.zone is not None:
        zone = session.scalar(select(Zone).where(Zone.code == body.zone))
        if zone is None:
            raise NotFound(f"zone {body.zone!r} does not exist")
    if body.incident_number is not None:
        incident = session.scalar(select(Incident).where(Incident.number == body.incident_number))
        if incident is None:
            raise NotFound(f"incident {body.incident_number!r} does not exist")
    zone_id = zone.id if zone else unit.zone_id if unit else incident.zone_id if incident else None
    row = Recognition(
        kind=body.kind,
        at=body.at,
        zone_id=zone_id,
        unit_id=unit.id if unit else None,
        incident_id=incident.id if incident else None,
        giver=body.giver,
        text=body.text,
        recorded_by=by,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="recognition_recorded",
        entity="recognition",
        entity_id=row.id,
        to_state=body.kind.value,
        detail={"giver": body.giver, "unit": body.unit, "zone": body.zone},
        at=now,
    )
    return row


def recognition_out(session: Session, row: Recognition) -> schemas.RecognitionOut:
    zone = session.get(Zone, row.zone_id) if row.zone_id else None
    unit = session.get(Unit, row.unit_id) if row.unit_id else None
    incident = session.get(Incident, row.incident_id) if row.incident_id else None
    return schemas.RecognitionOut(
        id=row.id,
        kind=row.kind,
        at=row.at,
        zone=zone.code if zone else None,
        unit=unit.call_sign if unit else None,
        incident_number=incident.number if incident else None,
        giver=row.giver,
        text=row.text,
        recorded_by=row.recorded_by,
    )
