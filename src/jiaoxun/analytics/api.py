"""Routes of the statistics: the page's summary, the heat map, each table as CSV or XLSX, the
recognitions received and the calendar's overrides. The center reads (dispatchers, commanders,
admins); commanders and admins record. Officers and kiosk clerks have no access."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select

from jiaoxun.analytics import schemas
from jiaoxun.analytics.export import TABLES, as_csv, as_xlsx, rows_of
from jiaoxun.analytics.models import CalendarDay, Recognition
from jiaoxun.analytics.recognitions import recognition_out, record_recognition
from jiaoxun.analytics.service import Ask, heat_of, summary
from jiaoxun.audit import service as audit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import Now, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(tags=["statistics"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_STATISTICS))]
Recorder = Annotated[User, Depends(requires(Permission.CONFIGURE))]


async def ask(
    period: Annotated[
        Literal["day", "week", "month", "quarter", "year", "custom"],
        Query(description="the period's kind"),
    ] = "month",
    date_: Annotated[
        date | None, Query(alias="date", description="a day of the period (default today)")
    ] = None,
    start: Annotated[date | None, Query(description="custom period: first day")] = None,
    end: Annotated[date | None, Query(description="custom period: last day (included)")] = None,
    scope: Annotated[
        str,
        Query(
            max_length=60,
            description="city, zone:<code>, kiosk:<id> or unit:<call sign>",
        ),
    ] = "city",
    align: Annotated[
        Literal["holidays", "dates"],
        Query(description="同比 aligned on moving holidays (Spring Festival) or on dates"),
    ] = "holidays",
) -> Ask:
    return Ask(
        period=period, day=date_, start=start, end=end, scope=scope, align=align == "holidays"
    )


AskDep = Annotated[Ask, Depends(ask)]


@router.get("/api/analytics/summary")
def statistics(
    session: SessionDep, state: StateDep, now: Now, _user: Reader, question: AskDep
) -> schemas.SummaryOut:
    """Every figure of the statistics page for a period and scope, with 同比 and 环比."""
    return summary(session, state.city, state.settings, question, now=now)


@router.get("/api/analytics/heat")
def heat_map(
    session: SessionDep, state: StateDep, now: Now, _user: Reader, question: AskDep
) -> schemas.HeatOut:
    """The period's incidents on the city's roads (GeoJSON, a count per road stretch)."""
    return schemas.HeatOut(**heat_of(session, state.city, state.settings, question, now=now))


_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/api/analytics/tables/{table}.{kind}",
    response_class=Response,
    responses={200: {"content": {m: {} for m in _MEDIA.values()}}},
)
def table_file(
    session: SessionDep,
    state: StateDep,
    now: Now,
    _user: Reader,
    question: AskDep,
    table: Annotated[Literal[TABLES], Path(description="which table")],  # type: ignore[valid-type]
    kind: Annotated[Literal["csv", "xlsx"], Path(description="file type")],
) -> Response:
    """One table of the statistics page as a CSV or XLSX file."""
    found = summary(session, state.city, state.settings, question, now=now)
    rows = rows_of(found, table)
    body = as_csv(rows) if kind == "csv" else as_xlsx(rows, title=table)
    name = f"jiaoxun-{table}-{found.scope.kind}-{found.period.start}-{found.period.end}.{kind}"
    return Response(
        body,
        media_type=_MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/api/analytics/recognitions")
def recognitions(
    session: SessionDep,
    _user: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[schemas.RecognitionOut]:
    """Banners, letters of thanks and good deeds, newest first."""
    rows = session.scalars(select(Recognition).order_by(Recognition.at.desc()).limit(limit))
    return [recognition_out(session, r) for r in rows]


@router.post("/api/analytics/recognitions", status_code=201)
def add_recognition(
    session: SessionDep, user: Recorder, now: Now, body: schemas.RecognitionIn
) -> schemas.RecognitionOut:
    """Record a banner, a letter of thanks or a good deed (audited)."""
    row = record_recognition(session, body, by=user.username, now=now)
    return recognition_out(session, row)


@router.get("/api/analytics/calendar")
def calendar_days(session: SessionDep, _user: Reader) -> list[schemas.CalendarDayOut]:
    """The overrides of the statutory calendar."""
    rows = session.scalars(select(CalendarDay).order_by(CalendarDay.day))
    return [
        schemas.CalendarDayOut(day=r.day, workday=r.workday, holiday=r.holiday, note=r.note)
        for r in rows
    ]


@router.put("/api/analytics/calendar/{day}")
def set_calendar_day(
    session: SessionDep,
    user: Recorder,
    now: Now,
    day: Annotated[date, Path(description="the day, YYYY-MM-DD")],
    body: schemas.CalendarDayIn,
) -> schemas.CalendarDayOut:
    """Declare a day a holiday or a (make-up) working day, over the calendar package (audited)."""
    row = session.get(CalendarDay, day)
    before = None if row is None else {"workday": row.workday, "holiday": row.holiday}
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.workday, row.holiday, row.note = body.workday, body.holiday, body.note
    session.flush()
    audit.record(
        session,
        by=user.username,
        action="calendar_day_set",
        entity="calendar_day",
        entity_id=day.isoformat(),
        to_state="workday" if body.workday else "day off",
        detail={"before": before, "after": body.model_dump()},
        at=now,
    )
    return schemas.CalendarDayOut(day=day, **body.model_dump())
