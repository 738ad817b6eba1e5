"""Routes of photos of accidents and violations, and of the road stretches with the most
accidents.

A photo is uploaded from the officer's phone (multipart: `kind` and `file`) and served only to
a bearer token in the Authorization header, never to one in the URL (which proxies and browser
histories keep). An officer adds and reads only his own unit's photos; a kiosk clerk may read a
violation's, to show the citizen the evidence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from jiaoxun.db import MAX_ID
from jiaoxun.errors import Conflict, InvalidInput, NotAllowed, NotFound
from jiaoxun.inputs import Instant
from jiaoxun.traffic import accidents, photos, stretches, violations
from jiaoxun.traffic.accident_schemas import PhotoOut
from jiaoxun.traffic.models import (
    Accident,
    AccidentState,
    Photo,
    PhotoKind,
    TrafficViolation,
    ViolationState,
)
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission, Role, may
from jiaoxun.web.deps import AppState, CurrentUser, Now, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/traffic", tags=["traffic"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Handler = Annotated[User, Depends(requires(Permission.HANDLE_TRAFFIC))]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Kind = Annotated[PhotoKind, Form(description="what the photo shows")]
Upload = Annotated[UploadFile, File(description="a JPEG, PNG or WebP image")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "an officer handles only his own unit's accidents and violations"},
    404: {"description": "no such accident, violation or photo"},
    409: {"description": "the accident is settled or handed over, the violation decided"},
    413: {"description": "the photo is larger than the limit (photo_max_bytes)"},
    422: {"description": "not a whole JPEG, PNG or WebP image of its content type"},
}
#: the stretches ranked over the last year unless a period is asked
DEFAULT_PERIOD = timedelta(days=365)


class StretchOut(BaseModel):
    road: str
    edge: int
    accidents: int
    lon: float
    lat: float
    line: list[tuple[float, float]]


def _own_unit(user: User, unit_id: int | None, what: str) -> None:
    if user.role is Role.OFFICER and (unit_id is None or user.unit_id != unit_id):
        raise NotAllowed(f"officer {user.username} may {what} only of his own unit's records")


def _upload(
    session: Session,
    state: AppState,
    *,
    owner: str,
    owner_id: int,
    unit_id: int | None,
    kind: PhotoKind,
    file: UploadFile,
    user: User,
    now: datetime,
) -> PhotoOut:
    settings = state.settings
    file.file.seek(0)
    data = photos.read_limited(file.file, max_bytes=settings.photo_max_bytes)
    checked = photos.check_image(data, file.content_type or "")
    photo = photos.add_photo(
        session,
        photos.store_of(settings),
        checked,
        owner=owner,
        owner_id=owner_id,
        unit_id=unit_id,
        kind=kind,
        user=user,
        now=now,
    )
    return PhotoOut.model_validate(photos.photo_data(photo))


@router.post(
    "/accidents/{accident_id}/photos", status_code=status.HTTP_201_CREATED, responses=_ERRORS
)
def add_accident_photo(
    accident_id: Id,
    kind: Kind,
    file: Upload,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> PhotoOut:
    """Add a photo to an open accident (the quick-handling flow needs front side, rear side
    and point of impact)."""
    accident = accidents.accident_of(session, accident_id, lock=True)
    _own_unit(user, accident.unit_id, "add photos")
    if accident.state is not AccidentState.OPEN:
        raise Conflict(
            f"accident {accident.number} is {accident.state.value}: photos are added only "
            "while it is open"
        )
    return _upload(
        session,
        state,
        owner="accident",
        owner_id=accident.id,
        unit_id=accident.unit_id,
        kind=kind,
        file=file,
        user=user,
        now=now,
    )


@router.post(
    "/violations/{violation_id}/photos", status_code=status.HTTP_201_CREATED, responses=_ERRORS
)
def add_violation_photo(
    violation_id: Id,
    kind: Kind,
    file: Upload,
    session: SessionDep,
    state: StateDep,
    now: Now,
    user: Handler,
) -> PhotoOut:
    """Add an evidence photo to a violation not yet decided (a decision rests on the evidence
    it was taken on)."""
    violation = violations.violation_of(session, violation_id, lock=True)
    _own_unit(user, violation.unit_id, "add photos")
    if violation.state is not ViolationState.PENDING:
        raise Conflict(
            f"violation {violation.number} is {violation.state.value}: evidence is added only "
            "while it is pending"
        )
    return _upload(
        session,
        state,
        owner="violation",
        owner_id=violation.id,
        unit_id=violation.unit_id,
        kind=kind,
        file=file,
        user=user,
        now=now,
    )


def _owner_unit(session: Session, photo: Photo) -> int | None:
    row: Accident | TrafficViolation | None = (
        session.get(Accident, photo.owner_id)
        if photo.owner == "accident"
        else session.get(TrafficViolation, photo.owner_id)
    )
    if row is None:
        raise NotFound(f"the {photo.owner} {photo.owner_id} of photo {photo.id} does not exist")
    return row.unit_id


@router.get(
    "/photos/{photo_id}",
    responses={
        **_ERRORS,
        200: {"content": {t: {} for t in photos.FORMATS}, "description": "the image"},
    },
    response_class=Response,
)
def get_photo(photo_id: Id, session: SessionDep, state: StateDep, user: CurrentUser) -> Response:
    """The photo's bytes as uploaded; an officer reads his own unit's, a kiosk clerk a
    violation's."""
    photo = session.get(Photo, photo_id)
    clerk = may(user.role, Permission.SERVE_CITIZENS)
    if not may(user.role, Permission.READ_OPERATIONS) and not clerk:
        raise NotAllowed(f"role {user.role.value} may not read photos")
    if photo is None:
        raise NotFound(f"photo {photo_id} does not exist")
    if not may(user.role, Permission.READ_OPERATIONS) and photo.owner != "violation":
        raise NotAllowed(f"role {user.role.value} may read only violations' evidence photos")
    _own_unit(user, _owner_unit(session, photo), "read photos")
    data = photos.photo_bytes(photos.store_of(state.settings), photo)
    return Response(
        content=data,
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{photo.sha256[:16]}"',
        },
    )


@router.get("/accidents/stretches", responses=_ERRORS)
def accident_stretches(
    session: SessionDep,
    state: StateDep,
    now: Now,
    _user: Reader,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[StretchOut]:
    """The road stretches with the most accidents from `since` until before `until` (the
    last 365 days by default), both directions of a street together."""
    end = until or now
    start = since or end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidInput(f"since {start.isoformat()} must lie before until {end.isoformat()}")
    ranked = stretches.stretches(
        session, state.city.travel_times.network, since=start, until=end, limit=limit
    )
    return [StretchOut.model_validate(vars(s)) for s in ranked]
