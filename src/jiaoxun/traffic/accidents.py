"""Use cases of traffic accidents: record one with its eligibility check, set its parties and
liability, time the scene-protection steps, take signatures, settle it on the street or hand
it over. Services flush, never commit; every change is audited (without the parties' personal
data) and emitted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.context import CityContext
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotFound
from jiaoxun.events import emit
from jiaoxun.incidents.models import Incident
from jiaoxun.inputs import recent
from jiaoxun.settings import Settings
from jiaoxun.traffic import eligibility, liability, photos
from jiaoxun.traffic.accident_schemas import AccidentIn
from jiaoxun.traffic.models import (
    Accident,
    AccidentParty,
    AccidentState,
    AccidentStep,
    Procedure,
    SceneStep,
)
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role

#: how long after the fact an accident may still be recorded
MAX_AGE = timedelta(days=7)
TRAFFIC_CATEGORIES = "03"
#: the steps a general accident's scene needs before it is handed over (Art. 30); helping the
#: injured only where someone is hurt
REQUIRED_STEPS = (
    SceneStep.CORDON,
    SceneStep.INJURED_HELPED,
    SceneStep.VEHICLES_PLACED,
    SceneStep.PARTIES_FOUND,
    SceneStep.EVIDENCE_FIXED,
)


def _steps_needed(accident: Accident) -> list[SceneStep]:
    hurt = accident.injured or accident.killed
    return [s for s in REQUIRED_STEPS if hurt or s is not SceneStep.INJURED_HELPED]


def parties_of(session: Session, accident: Accident) -> list[AccidentParty]:
    query = select(AccidentParty).where(AccidentParty.accident_id == accident.id)
    return list(session.scalars(query.order_by(AccidentParty.seq)))


def steps_of(session: Session, accident: Accident) -> list[AccidentStep]:
    query = select(AccidentStep).where(AccidentStep.accident_id == accident.id)
    return list(session.scalars(query.order_by(AccidentStep.done_at, AccidentStep.id)))


def missing_steps(session: Session, accident: Accident) -> list[SceneStep]:
    if accident.procedure is not Procedure.GENERAL:
        return []
    done = {s.step for s in steps_of(session, accident)}
    return [s for s in _steps_needed(accident) if s not in done]


def accident_data(session: Session, accident: Accident, city: CityContext) -> dict[str, Any]:
    """The accident as the API shows it, with its parties, steps and photos."""
    zone = city.zone_by_id(accident.zone_id)
    unit = session.get(Unit, accident.unit_id) if accident.unit_id else None
    shot = photos.photos_of(session, "accident", accident.id)
    columns = {c.key: getattr(accident, c.key) for c in Accident.__table__.columns}
    return {
        **columns,
        "call_sign": unit.call_sign if unit else None,
        "zone": zone.code if zone else None,
        "parties": parties_of(session, accident),
        "steps": steps_of(session, accident),
        "photos": shot,
        "missing_photos": (
            photos.missing_photos({p.kind for p in shot})
            if accident.procedure is Procedure.SELF_SETTLEMENT
            else []
        ),
        "missing_steps": missing_steps(session, accident),
    }


def decision(answers: dict[str, bool | int]) -> eligibility.Decision:
    try:
        return eligibility.decide(answers)
    except ValueError as error:
        raise InvalidInput(f"eligibility check: {error}") from None


def _check_own_unit(user: User, unit_id: int | None, what: str) -> None:
    if user.role is Role.OFFICER and user.unit_id != unit_id:
        raise NotAllowed(f"officer {user.username} may {what} only for his own unit")


def _linked_incident(session: Session, incident_id: int | None) -> Incident | None:
    if incident_id is None:
        return None
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if not incident.category_code.startswith(TRAFFIC_CATEGORIES):
        raise InvalidInput(
            f"incident {incident.number} is of category {incident.category_code}, not a "
            f"traffic one ({TRAFFIC_CATEGORIES}xxxx): an accident links only to a traffic incident"
        )
    taken = session.scalar(select(Accident.number).where(Accident.incident_id == incident.id))
    if taken:
        raise Conflict(f"incident {incident.number} already has accident {taken}")
    return incident


def audit(
    session: Session, accident: Accident, user: User, action: str, now: datetime, **detail: Any
) -> None:
    record(
        session,
        by=user.username,
        action=action,
        entity="accident",
        entity_id=accident.id,
        at=now,
        detail={"number": accident.number, "version": accident.version, **detail},
    )
    emit(
        session,
        "accident",
        action,
        {
            "id": accident.id,
            "number": accident.number,
            "state": accident.state.value,
            "procedure": accident.procedure.value,
            "lon": accident.lon,
            "lat": accident.lat,
            "incident_id": accident.incident_id,
            "unit_id": accident.unit_id,
        },
    )


def record_accident(
    session: Session,
    data: AccidentIn,
    *,
    user: User,
    city: CityContext,
    settings: Settings,
    now: datetime,
) -> Accident:
    """Record an accident where it happened (on the road network), its procedure decided by
    the eligibility answers. An officer records only for his own unit."""
    _check_own_unit(user, data.unit_id, "record accidents")
    if session.get(Unit, data.unit_id) is None:
        raise NotFound(f"unit {data.unit_id} does not exist")
    incident = _linked_incident(session, data.incident_id)
    decided = decision(data.answers)
    answers = eligibility.answered(data.answers)
    snap = city.travel_times.snap(data.lon, data.lat)  # refuses a point off the road network
    name_index = int(city.travel_times.network.edge_name[snap.edge])
    occurred_at = data.occurred_at or (incident.call_at if incident else now)
    recent(occurred_at, name="occurred_at", now=now, max_age=MAX_AGE)
    zone = city.zone_at(data.lon, data.lat)
    accident = Accident(
        number=f"new-{uuid.uuid4().hex[:24]}",  # unique until the id gives the real one
        incident_id=incident.id if incident else None,
        unit_id=data.unit_id,
        zone_id=zone.id if zone else None,
        recorded_by=user.username,
        occurred_at=occurred_at,
        recorded_at=now,
        lon=data.lon,
        lat=data.lat,
        place=data.place or (incident.address if incident else ""),
        road=city.travel_times.network.names[name_index] if name_index >= 0 else "",
        edge=snap.edge,
        weather=data.weather,
        collision=data.collision,
        collision_point=data.collision_point,
        damage=data.damage,
        injured=int(answers["injured"]),
        killed=int(answers["killed"]),
        answers=answers,
        procedure=decided.procedure,
        reasons=[vars(r) for r in decided.reasons],
        state=AccidentState.OPEN,
        note=data.note,
    )
    session.add(accident)
    session.flush()
    accident.number = (
        f"{settings.region_code}SG{occurred_at.astimezone(UTC):%Y%m%d}{accident.id:06d}"
    )
    audit(session, accident, user, "created", now, procedure=accident.procedure.value)
    return accident


def accident_of(session: Session, accident_id: int, *, lock: bool = False) -> Accident:
    query = select(Accident).where(Accident.id == accident_id)
    accident = session.scalar(query.with_for_update() if lock else query)
    if accident is None:
        raise NotFound(f"accident {accident_id} does not exist")
    return accident


def open_for_change(accident: Accident, user: User, version: int | None = None) -> None:
    _check_own_unit(user, accident.unit_id, "change accidents")
    if accident.state is not AccidentState.OPEN:
        raise Conflict(
            f"accident {accident.number} is {accident.state.value}: only an open accident changes"
        )
    if version is not None and version != accident.version:
        raise Conflict(
            f"accident {accident.number} is at version {accident.version}, not {version}: "
            "someone changed it; read it again"
        )


def add_step(
    session: Session,
    accident: Accident,
    step: SceneStep,
    note: str,
    *,
    user: User,
    now: datetime,
) -> Accident:
    """Time one scene-protection step of a general accident, by the server's clock."""
    open_for_change(accident, user)
    if accident.procedure is not Procedure.GENERAL:
        raise Conflict(
            f"accident {accident.number} takes the {accident.procedure.value} procedure: the "
            "scene-protection steps are those of a general accident"
        )
    done = session.scalar(
        select(AccidentStep).where(
            AccidentStep.accident_id == accident.id, AccidentStep.step == step
        )
    )
    if done is not None:
        raise Conflict(
            f"step {step.value} of accident {accident.number} was done at "
            f"{done.done_at.isoformat()} by {done.done_by}"
        )
    session.add(
        AccidentStep(
            accident_id=accident.id, step=step, done_at=now, done_by=user.username, note=note
        )
    )
    accident.version += 1
    session.flush()
    audit(session, accident, user, "step", now, step=step.value)
    return accident


def settle(
    session: Session,
    accident: Accident,
    version: int,
    *,
    user: User,
    settings: Settings,
    now: datetime,
) -> Accident:
    """Close a self-settled accident by the parties' agreement, or a simple one by the
    officer's ruling on the spot; its number is given now."""
    open_for_change(accident, user, version)
    if accident.procedure is Procedure.GENERAL:
        raise Conflict(
            f"accident {accident.number} takes the general procedure: it is handed over to the "
            "accident unit, not settled on the street"
        )
    self_settled = accident.procedure is Procedure.SELF_SETTLEMENT
    if self_settled:
        missing = photos.missing_photos(
            {p.kind for p in photos.photos_of(session, "accident", accident.id)}
        )
        if missing:
            raise InvalidInput(
                "quick handling needs the photos of the front side, the rear side and the point "
                f"of impact; missing: {', '.join(k.value for k in missing)}"
            )
    parties = parties_of(session, accident)
    if not parties:
        raise InvalidInput(f"accident {accident.number} has no parties yet")
    try:
        liability.check_split([p.liability for p in parties], on_the_street=True)
    except liability.ImpossibleSplit as error:
        raise InvalidInput(f"liability: {error}") from None
    unsigned = [p.seq for p in parties if p.signed_at is None]
    if unsigned:
        raise InvalidInput(f"parties {unsigned} have neither signed nor refused")
    refused = [p.seq for p in parties if p.refused]
    if self_settled and refused:
        raise InvalidInput(
            f"parties {refused} refused to sign: without every signature there is no agreement; "
            "the officer rules by the simple procedure instead"
        )
    serial = f"{settings.region_code}{now.astimezone(UTC):%Y%m%d}{accident.id:06d}"
    if self_settled:
        accident.agreement_number = f"XY{serial}"
    else:
        accident.ruling_number = f"JY{serial}"
    accident.state, accident.settled_at = AccidentState.SETTLED, now
    accident.version += 1
    session.flush()
    audit(
        session,
        accident,
        user,
        "settled",
        now,
        agreement=accident.agreement_number,
        ruling=accident.ruling_number,
    )
    return accident


def reassess(
    session: Session,
    accident: Accident,
    version: int,
    answers: dict[str, bool | int],
    *,
    user: User,
    now: datetime,
) -> Accident:
    """Answer the check again (a party now disputes the facts, an injury shows): the procedure
    follows; the steps and parties already recorded stay."""
    open_for_change(accident, user, version)
    decided = decision(answers)
    accident.answers = eligibility.answered(answers)
    accident.injured, accident.killed = (
        int(accident.answers["injured"]),
        int(accident.answers["killed"]),
    )
    before, accident.procedure = accident.procedure, decided.procedure
    accident.reasons = [vars(r) for r in decided.reasons]
    accident.version += 1
    session.flush()
    audit(
        session,
        accident,
        user,
        "reassessed",
        now,
        before=before.value,
        procedure=accident.procedure.value,
    )
    return accident


def hand_over(
    session: Session, accident: Accident, version: int, to: str, *, user: User, now: datetime
) -> Accident:
    """Hand a general accident's protected scene over to the accident unit."""
    open_for_change(accident, user, version)
    if accident.procedure is not Procedure.GENERAL:
        raise Conflict(
            f"accident {accident.number} takes the {accident.procedure.value} procedure: it is "
            "settled on the street, not handed over"
        )
    missing = missing_steps(session, accident)
    if missing:
        raise InvalidInput(
            "the scene is handed over once protected; steps not done: "
            + ", ".join(s.value for s in missing)
        )
    accident.state, accident.handed_over_at = AccidentState.HANDED_OVER, now
    accident.handed_over_to = to
    accident.version += 1
    session.flush()
    audit(session, accident, user, "handed_over", now, to=to)
    return accident


def list_accidents(
    session: Session,
    *,
    unit_id: int | None = None,
    state: AccidentState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> Sequence[Accident]:
    """Accidents newest first."""
    query = select(Accident)
    if unit_id is not None:
        query = query.where(Accident.unit_id == unit_id)
    if state is not None:
        query = query.where(Accident.state == state)
    if since is not None:
        query = query.where(Accident.occurred_at >= since)
    if until is not None:
        query = query.where(Accident.occurred_at < until)
    return session.scalars(
        query.order_by(Accident.occurred_at.desc(), Accident.id.desc()).limit(limit)
    ).all()
