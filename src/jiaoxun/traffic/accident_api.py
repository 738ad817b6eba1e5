"""Routes of traffic accidents: the eligibility check, the record, its parties, scene steps,
settlement and hand-over.

An officer reads and changes only his own unit's accidents (their parties' ID numbers and
phones are on them); the center reads every one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, status
from sqlalchemy.orm import Session

from jiaoxun.db import MAX_ID
from jiaoxun.incidents.access import scope_of
from jiaoxun.inputs import Instant
from jiaoxun.traffic import accidents, eligibility, parties
from jiaoxun.traffic.accident_schemas import (
    AccidentIn,
    AccidentOut,
    DecisionOut,
    EligibilityIn,
    HandOverIn,
    PartiesIn,
    QuestionsOut,
    ReassessIn,
    SettleIn,
    SignatureIn,
    StepIn,
)
from jiaoxun.traffic.models import Accident, AccidentState
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import AppState, Now, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/traffic", tags=["traffic"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Handler = Annotated[User, Depends(requires(Permission.HANDLE_TRAFFIC))]
AccidentId = Annotated[int, Path(ge=1, le=MAX_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "an officer handles only his own unit's accidents"},
    404: {"description": "no such accident, unit, incident or party"},
    409: {"description": "the accident is not open, or changed since it was read (version)"},
    422: {"description": "a field breaks a rule; the message names it"},
}


def _out(session: Session, accident: Accident, state: AppState) -> AccidentOut:
    return AccidentOut.model_validate(
        accidents.accident_data(session, accident, state.city), from_attributes=True
    )


def _readable(session: Session, user: User, accident_id: int) -> Accident:
    accident = accidents.accident_of(session, accident_id)
    scope_of(session, user).check_unit(accident.unit_id or 0)
    return accident


@router.get("/eligibility")
def questions(_user: Reader) -> QuestionsOut:
    """The questions of the eligibility check, with their zh/en labels and the answers a
    fender bender gives (the defaults)."""
    return QuestionsOut.model_validate(
        {"questions": [vars(q) for q in eligibility.QUESTIONS]}, from_attributes=True
    )


@router.post("/eligibility", responses=_ERRORS)
def check(body: Annotated[EligibilityIn, Body()], _user: Reader) -> DecisionOut:
    """Which procedure the answers call for and every rule that decided it; nothing stored."""
    decided = accidents.decision(body.answers)
    return DecisionOut.model_validate(
        {
            "procedure": decided.procedure,
            "reasons": [vars(r) for r in decided.reasons],
            "answers": eligibility.answered(body.answers),
        }
    )


@router.post("/accidents", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def create(
    body: Annotated[AccidentIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Record an accident with its eligibility answers: the procedure is decided and kept."""
    accident = accidents.record_accident(
        session, body, user=user, city=state.city, settings=state.settings, now=now
    )
    return _out(session, accident, state)


@router.get("/accidents", responses=_ERRORS)
def list_accidents(
    session: SessionDep,
    state: StateDep,
    user: Reader,
    accident_state: Annotated[AccidentState | None, Query(alias="state")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AccidentOut]:
    """Accidents newest first; an officer reads only his own unit's."""
    scope = scope_of(session, user)
    rows = accidents.list_accidents(
        session,
        unit_id=scope.unit_id if scope.limited else None,
        state=accident_state,
        since=since,
        until=until,
        limit=limit,
    )
    return [_out(session, a, state) for a in rows]


@router.get("/accidents/{accident_id}", responses=_ERRORS)
def detail(
    accident_id: AccidentId, session: SessionDep, state: StateDep, user: Reader
) -> AccidentOut:
    return _out(session, _readable(session, user, accident_id), state)


def _changing(session: Session, accident_id: int) -> Accident:
    return accidents.accident_of(session, accident_id, lock=True)


@router.put("/accidents/{accident_id}/parties", responses=_ERRORS)
def put_parties(
    accident_id: AccidentId,
    body: Annotated[PartiesIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Set the parties with their vehicles and liability (replacing those before)."""
    accident = parties.set_parties(
        session, _changing(session, accident_id), body, user=user, now=now
    )
    return _out(session, accident, state)


@router.post("/accidents/{accident_id}/steps", responses=_ERRORS)
def step(
    accident_id: AccidentId,
    body: Annotated[StepIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Time one scene-protection step of a general accident (the server's clock)."""
    accident = accidents.add_step(
        session, _changing(session, accident_id), body.step, body.note, user=user, now=now
    )
    return _out(session, accident, state)


@router.post("/accidents/{accident_id}/signatures", responses=_ERRORS)
def signature(
    accident_id: AccidentId,
    body: Annotated[SignatureIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """A party signs with his name, or refuses to sign."""
    accident = parties.sign(
        session,
        _changing(session, accident_id),
        body.seq,
        body.name,
        body.refused,
        user=user,
        now=now,
    )
    return _out(session, accident, state)


@router.post("/accidents/{accident_id}/answers", responses=_ERRORS)
def reassess(
    accident_id: AccidentId,
    body: Annotated[ReassessIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Answer the eligibility check again; the procedure follows."""
    accident = accidents.reassess(
        session, _changing(session, accident_id), body.version, body.answers, user=user, now=now
    )
    return _out(session, accident, state)


@router.post("/accidents/{accident_id}/settle", responses=_ERRORS)
def settle(
    accident_id: AccidentId,
    body: Annotated[SettleIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Settle on the street: the agreement (self-settlement) or the ruling (simple)."""
    accident = accidents.settle(
        session,
        _changing(session, accident_id),
        body.version,
        user=user,
        settings=state.settings,
        now=now,
    )
    return _out(session, accident, state)


@router.post("/accidents/{accident_id}/hand-over", responses=_ERRORS)
def hand_over(
    accident_id: AccidentId,
    body: Annotated[HandOverIn, Body()],
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> AccidentOut:
    """Hand a general accident's protected scene to the accident unit."""
    accident = accidents.hand_over(
        session, _changing(session, accident_id), body.version, body.to, user=user, now=now
    )
    return _out(session, accident, state)
