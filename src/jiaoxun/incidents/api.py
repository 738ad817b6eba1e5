"""Routes of the 110 workflow: intake, queue, detail, recommendations, dispatch, orders, close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from jiaoxun.db import MAX_ID
from jiaoxun.incidents import dispatch, reference, service, verdicts
from jiaoxun.incidents.access import Scope, scope_of
from jiaoxun.incidents.arrival import arrival_gap_s, gps_travel_s
from jiaoxun.incidents.lifecycle import IncidentState, order_overdue
from jiaoxun.incidents.models import CategoryRow, DispatchOrder, Incident
from jiaoxun.incidents.schemas import (
    CandidateOut,
    CategoryOut,
    CloseIn,
    DispatchIn,
    DuplicateOut,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    MergeIn,
    OrderOut,
    OrderStatusIn,
    ReasonIn,
    ReassignIn,
    RecommendationOut,
    RouteOut,
    TimelineEntry,
    verdicts_out,
)
from jiaoxun.incidents.transitions import get_incident
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import AppState, Now, RowId, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api", tags=["incidents"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Dispatcher = Annotated[User, Depends(requires(Permission.TAKE_CALLS))]
Crew = Annotated[User, Depends(requires(Permission.ACT_ON_ORDERS))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such incident, order or unit"},
    409: {"description": "the change clashes with the current state"},
    422: {"description": "a field breaks a rule"},
}


def incident_out(
    incident: Incident, session: Session, state: AppState, scope: Scope | None = None
) -> IncidentOut:
    """The incident as `scope` may read it (the caller's name and phone only to the center
    and to the units sent)."""
    category = session.get(CategoryRow, incident.category_code)
    zone = state.city.zone_by_id(incident.zone_id)
    fields = {
        name: getattr(incident, name)
        for name in IncidentOut.model_fields
        if hasattr(incident, name) and name != "zone"
    }
    if scope is not None and not scope.sees_caller(incident):
        fields.update(caller_name="", caller_phone="")
    return IncidentOut(
        **fields,
        zone=zone.code if zone else None,
        category_name=category.name_zh if category else incident.category_code,
    )


def order_out(order: DispatchOrder, state: AppState, now: Now) -> OrderOut:
    fields = {name: getattr(order, name) for name in OrderOut.model_fields if hasattr(order, name)}
    gap_s = arrival_gap_s(order)
    return OrderOut(
        **fields,
        call_sign=order.unit.call_sign,
        gps_travel_s=gps_travel_s(order),
        arrival_gap_s=gap_s,
        arrival_gap_flagged=gap_s is not None and abs(gap_s) > state.settings.arrival_gap_min * 60,
        overdue=order_overdue(
            issued_at=order.issued_at,
            acknowledged_at=order.acknowledged_at,
            now=now,
            limit_s=state.settings.ack_limit_s,
            state=order.state,
        ),
    )


def detail_out(
    incident: Incident, session: Session, state: AppState, now: Now, scope: Scope | None = None
) -> IncidentDetail:
    base = incident_out(incident, session, state, scope)
    duplicates = (
        [
            DuplicateOut(
                incident_id=i.id, number=i.number, distance_m=round(d, 1), minutes_apart=round(m, 2)
            )
            for i, d, m in service.duplicates_of(session, incident, state.settings)
        ]
        if incident.state not in {IncidentState.MERGED}
        else []
    )
    return IncidentDetail(
        **base.model_dump(),
        orders=[order_out(o, state, now) for o in incident.orders],
        timeline=[
            TimelineEntry.model_validate(e, from_attributes=True)
            for e in service.timeline(session, incident)
        ],
        verdicts=verdicts_out(verdicts.read(session, incident, now=now)),
        duplicates=duplicates,
    )


@router.post("/incidents", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def create_incident(
    body: IncidentIn, session: SessionDep, state: StateDep, now: Now, user: Dispatcher
) -> IncidentDetail:
    """Take a 110 call. The reply flags open incidents it may duplicate."""
    incident = service.create_incident(
        session, body, user=user, city=state.city, settings=state.settings, now=now
    )
    return detail_out(incident, session, state, now)


@router.get("/incidents", responses=_ERRORS)
def list_incidents(
    session: SessionDep,
    state: StateDep,
    user: Reader,
    status: Annotated[list[IncidentState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    """Incidents, newest first, optionally in some states (`?status=taken&status=dispatched`);
    an officer's: his zone's and those his unit was sent to."""
    scope = scope_of(session, user)
    rows = service.list_incidents(session, states=status, limit=limit, where=scope.incidents())
    return [incident_out(i, session, state, scope) for i in rows]


@router.get("/incidents/{incident_id}", responses=_ERRORS)
def incident_detail(
    incident_id: RowId, session: SessionDep, state: StateDep, now: Now, user: Reader
) -> IncidentDetail:
    """One incident with its orders, timeline, 1-3-5 verdicts and possible duplicates."""
    incident = get_incident(session, incident_id)
    scope = scope_of(session, user)
    scope.check(incident)
    return detail_out(incident, session, state, now, scope)


@router.get("/incidents/{incident_id}/recommendations", responses=_ERRORS)
def recommendations(
    incident_id: RowId, session: SessionDep, state: StateDep, now: Now, _user: Dispatcher
) -> RecommendationOut:
    """Every unit ranked by exact road ETA, with the response plan's chosen set (the
    center's work: every unit's whereabouts)."""
    incident, result = dispatch.recommendations(
        session, incident_id, city=state.city, settings=state.settings, now=now
    )
    return RecommendationOut(
        incident_id=incident.id,
        required_units=incident.required_units,
        distinct_zones=incident.distinct_zones,
        chosen=list(result.chosen),
        shortfall=result.shortfall,
        verdicts=verdicts_out(result.verdicts),
        candidates=[
            CandidateOut(
                unit_id=c.unit_id,
                call_sign=c.call_sign,
                zone=c.zone,
                status=c.status,
                eligible=c.eligible,
                reason=c.reason,
                eta_s=c.eta_s,
                same_zone=c.same_zone,
                verdicts=verdicts_out(c.verdicts),
            )
            for c in result.candidates
        ],
    )


@router.get("/incidents/{incident_id}/route", responses=_ERRORS)
def route(
    incident_id: RowId,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Reader,
    unit_id: Annotated[int, Query(ge=1, le=MAX_ID, description="the unit to route")],
) -> RouteOut:
    """The road route from a unit to the incident, with its ETA and length (an officer:
    his own unit's, to an incident he may read)."""
    scope = scope_of(session, user)
    scope.check_unit(unit_id)
    scope.check(get_incident(session, incident_id))
    found = dispatch.route_to_incident(session, incident_id, unit_id, city=state.city, now=now)
    return RouteOut(
        unit_id=unit_id,
        incident_id=incident_id,
        eta_s=round(found.travel_time_s, 1),
        length_m=round(found.distance_m, 1),
        coordinates=[[round(x, 6), round(y, 6)] for x, y in found.coords.tolist()],
    )


@router.post("/incidents/{incident_id}/dispatch", status_code=201, responses=_ERRORS)
def dispatch_units(
    incident_id: RowId,
    body: DispatchIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Dispatcher,
) -> list[OrderOut]:
    """Send one or several units at once (一点报警，多点响应): one order each."""
    orders = dispatch.dispatch(
        session,
        incident_id,
        body.unit_ids,
        user=user,
        city=state.city,
        reason=body.reason,
        now=now,
        turnout_s=state.settings.turnout_s,
    )
    return [order_out(o, state, now) for o in orders]


@router.post("/orders/{order_id}/status", responses=_ERRORS)
def order_status(
    order_id: RowId,
    body: OrderStatusIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Crew,
) -> OrderOut:
    """A unit reports on its order: acknowledged, en_route, arrived, done, returned."""
    order = dispatch.order_status(
        session,
        order_id,
        body.state,
        user=user,
        reason=body.reason,
        feedback=body.feedback,
        now=now,
    )
    return order_out(order, state, now)


@router.post("/orders/{order_id}/reassign", status_code=201, responses=_ERRORS)
def reassign(
    order_id: RowId,
    body: ReassignIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Dispatcher,
) -> OrderOut:
    """Cancel an order and send another unit in its place."""
    order = dispatch.reassign(
        session,
        order_id,
        body.unit_id,
        user=user,
        city=state.city,
        reason=body.reason,
        now=now,
        turnout_s=state.settings.turnout_s,
    )
    return order_out(order, state, now)


@router.post("/incidents/{incident_id}/close", responses=_ERRORS)
def close(
    incident_id: RowId,
    body: CloseIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Dispatcher,
) -> IncidentDetail:
    """Close an incident with an outcome; units still on it are released."""
    incident = service.close_incident(
        session,
        incident_id,
        outcome_code=body.outcome_code,
        outcome_text=body.outcome_text,
        user=user,
        now=now,
    )
    return detail_out(incident, session, state, now)


@router.post("/incidents/{incident_id}/cancel", responses=_ERRORS)
def cancel(
    incident_id: RowId,
    body: ReasonIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Dispatcher,
) -> IncidentDetail:
    """Cancel an incident (a false or withdrawn call)."""
    incident = service.cancel_incident(session, incident_id, reason=body.reason, user=user, now=now)
    return detail_out(incident, session, state, now)


@router.post("/incidents/{incident_id}/merge", responses=_ERRORS)
def merge(
    incident_id: RowId,
    body: MergeIn,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Dispatcher,
) -> IncidentDetail:
    """Merge a duplicate into its main incident."""
    incident = service.merge_incident(
        session, incident_id, into=body.into, reason=body.reason, user=user, now=now
    )
    return detail_out(incident, session, state, now)


@router.get("/categories", tags=["reference"])
def categories(
    session: SessionDep,
    _user: Reader,
    q: Annotated[str | None, Query(max_length=50)] = None,
) -> list[CategoryOut]:
    """Incident categories, searchable by Chinese or English name or code prefix."""
    return [CategoryOut.model_validate(c) for c in reference.search_categories(session, q)]
