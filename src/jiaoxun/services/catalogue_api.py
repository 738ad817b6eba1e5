"""The catalogue's routes: the services and a kiosk's hours for citizens (no login, limited per
client address), the catalogue and opening hours for commanders (CONFIGURE, audited)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from jiaoxun.analytics.calendar import StatutoryCalendar
from jiaoxun.db import MAX_ID
from jiaoxun.services import catalogue, schemas
from jiaoxun.services.hours import day_kind_of, windows_for
from jiaoxun.services.models import ServiceItem, ServiceKind
from jiaoxun.services.slots import BookingRules, kiosk_of, rules_of
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import Now, PublicClient, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["catalogue"], route_class=Route)

Configurer = Annotated[User, Depends(requires(Permission.CONFIGURE))]
CodePath = Annotated[str, Path(min_length=1, max_length=20, description='e.g. "JG-01"')]
_KIND_ORDER = {kind: i for i, kind in enumerate(ServiceKind)}
#: the days a kiosk's hours are shown for, today first
HOURS_DAYS = 7


def _public(item: ServiceItem) -> schemas.PublicServiceOut:
    return schemas.PublicServiceOut(
        code=item.code,
        kind=item.kind.value,
        name_zh=item.name_zh,
        name_en=item.name_en,
        eligible=item.eligible,
        excluded=item.excluded,
        documents=[schemas.DocumentOut.model_validate(d) for d in item.documents],
        fee_yuan=item.fee_yuan,
        fee_note=item.fee_note,
        time_limit_days=item.time_limit_days,
        channels=list(item.channels),
        minutes=item.minutes,
        bookable=item.bookable,
    )


def _item_out(item: ServiceItem) -> schemas.ItemOut:
    return schemas.ItemOut(
        **_public(item).model_dump(),
        travel_saved_yuan=item.travel_saved_yuan,
        active=item.active,
        source=item.source,
        version=item.version,
    )


def _clock(at: time) -> str:
    return "24:00" if at == time.max else f"{at:%H:%M}"


def _hours_out(scope: catalogue.HoursScope) -> schemas.HoursOut:
    return schemas.HoursOut(kiosk_id=scope.kiosk_id, service=scope.service, windows=scope.windows)


@router.get("/api/public/services")
def public_services(session: SessionDep, _client: PublicClient) -> list[schemas.PublicServiceOut]:
    """The services the kiosks offer: traffic, then household, then online items."""
    active = catalogue.items(session, active_only=True)
    return [_public(i) for i in sorted(active, key=lambda i: (_KIND_ORDER[i.kind], i.code))]


@router.get("/api/public/kiosks/{kiosk_id}/hours")
def kiosk_hours(
    kiosk_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    state: StateDep,
    now: Now,
    _client: PublicClient,
    service: Annotated[
        str | None, Query(min_length=1, max_length=20, description="a service's own hours")
    ] = None,
) -> schemas.KioskHoursOut:
    """A kiosk's opening windows for the next 7 days from its local today, by the statutory
    calendar (a day it does not know follows the weekday rule, marked `assumed`)."""
    kiosk = kiosk_of(session, kiosk_id)
    # no service has id 0: without one, only the rows for every service apply
    service_id = catalogue.item_of(session, service).id if service is not None else 0
    rules = rules_of(session, kiosk_id=kiosk.id, service_id=service_id)
    calendar = StatutoryCalendar.load(session)
    today = BookingRules.from_settings(state.settings).today(now)
    days = []
    for offset in range(HOURS_DAYS):
        day = calendar.day_or_weekday(today + timedelta(days=offset))
        kind = day_kind_of(day)
        windows = windows_for(rules, kiosk_id=kiosk.id, service_id=service_id, day_kind=kind)
        days.append(
            schemas.HoursDayOut(
                date=day.day,
                day_kind=kind.value,
                holiday=day.holiday,
                assumed=day.assumed,
                windows=[
                    schemas.OpenWindowOut(
                        starts=_clock(w.starts),
                        ends=_clock(w.ends),
                        after_hours=w.after_hours,
                    )
                    for w in windows
                ],
            )
        )
    return schemas.KioskHoursOut(kiosk_id=kiosk.id, service=service, days=days)


@router.get("/api/services/catalogue")
def list_catalogue(session: SessionDep, _user: Configurer) -> list[schemas.ItemOut]:
    """Every item of the catalogue, the inactive ones too, by code."""
    return [_item_out(i) for i in catalogue.items(session)]


@router.post("/api/services/catalogue", status_code=201)
def add_item(body: schemas.ItemIn, session: SessionDep, user: Configurer) -> schemas.ItemOut:
    return _item_out(catalogue.add_item(session, item=body, by=user.username))


@router.put("/api/services/catalogue/{code}")
def update_item(
    code: CodePath, body: schemas.ItemChange, session: SessionDep, user: Configurer
) -> schemas.ItemOut:
    """Change the fields given; with `version`, only if nobody changed the item since."""
    return _item_out(catalogue.update_item(session, code=code, changes=body, by=user.username))


@router.get("/api/services/hours")
def list_hours(
    session: SessionDep,
    _user: Configurer,
    kiosk_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[schemas.HoursOut]:
    """The stored windows by scope; with `kiosk_id` those that apply to that kiosk."""
    return [_hours_out(s) for s in catalogue.hours(session, kiosk_id=kiosk_id)]


@router.put("/api/services/hours")
def set_hours(body: schemas.HoursIn, session: SessionDep, user: Configurer) -> schemas.HoursOut:
    """Replace the windows of a scope: a kiosk or every one, a service or every one."""
    scope = catalogue.set_hours(
        session,
        kiosk_id=body.kiosk_id,
        service_code=body.service,
        windows=body.windows,
        by=user.username,
    )
    return _hours_out(scope)
