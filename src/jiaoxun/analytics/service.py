"""The statistics page for a period and a scope: every figure with the same period last year
(同比) and the previous period (环比), the change in % and the exact test of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity
from jiaoxun.analytics import schemas
from jiaoxun.analytics.calendar import StatutoryCalendar
from jiaoxun.analytics.counts import INVALID, MERGED, VALID, Counts, count, incident_class
from jiaoxun.analytics.heat import heat
from jiaoxun.analytics.periods import Period, last_year_period, period_of, previous_period
from jiaoxun.analytics.poisson import rate_test
from jiaoxun.analytics.rates import rate_figures
from jiaoxun.analytics.response import respond
from jiaoxun.analytics.scope import LAST_YEAR, PREVIOUS, THIS, Scope, Window, scope_of
from jiaoxun.analytics.trend import trend
from jiaoxun.city.context import CityContext
from jiaoxun.city.models import Zone
from jiaoxun.incidents.models import CategoryRow, Incident
from jiaoxun.settings import Settings
from jiaoxun.units.models import Unit


@dataclass(frozen=True)
class Ask:
    """What the commander asked for."""

    period: str = "month"
    day: date | None = None  # a day of the period (default: today, local)
    start: date | None = None  # custom periods
    end: date | None = None
    scope: str = "city"
    align: bool = True  # align 同比 on moving holidays


@dataclass(frozen=True)
class Figure:
    key: str
    label_zh: str
    label_en: str
    read: Callable[[Counts, str], float]
    available: bool = True
    unit: str = "count"


def _incidents(prefix: str = "", kind: str = VALID) -> Callable[[Counts, str], int]:
    return lambda c, tag: c.incidents(tag, prefix=prefix, kind=kind)


def _activities(*kinds: str) -> Callable[[Counts, str], int]:
    return lambda c, tag: sum(c.activities[tag][k] for k in kinds)


def _recognitions(*kinds: str) -> Callable[[Counts, str], int]:
    return lambda c, tag: sum(c.recognitions[tag][k] for k in kinds)


FIGURES: tuple[Figure, ...] = (
    Figure("incidents", "警情总数", "Incidents", _incidents()),
    Figure(
        "criminal_public_order",
        "刑事治安警情",
        "Criminal and public-order incidents",
        lambda c, t: c.incidents(t, prefix="01") + c.incidents(t, prefix="02"),
    ),
    Figure("criminal", "刑事警情", "Criminal incidents", _incidents("01")),
    Figure("public_order", "治安警情", "Public-order incidents", _incidents("02")),
    Figure("traffic", "交通警情", "Traffic incidents", _incidents("03")),
    Figure(
        "accidents",
        "交通事故",
        "Traffic accidents",
        lambda c, t: c.incidents(t, prefix="0301") + c.street_accidents[t],
    ),
    Figure("help", "群众求助警情", "Calls for help", _incidents("05")),
    Figure(
        "assists",
        "紧急救助",
        "Emergency assists",
        lambda c, t: c.incidents(t, prefix="05") + c.activities[t]["assistance"],
    ),
    Figure("violations", "查处交通违法", "Traffic violations handled", _activities("violation")),
    Figure("stop_checks", "盘查", "Stop-checks", _activities("stop_check")),
    Figure(
        "found_on_patrol",
        "巡逻发现警情",
        "Incidents found on patrol",
        lambda c, t: c.patrol_found[t],
    ),
    Figure("good_deeds", "好人好事", "Good deeds", _recognitions("good_deed")),
    Figure(
        "thanks", "锦旗、感谢信", "Banners and letters of thanks", _recognitions("banner", "letter")
    ),
    Figure(
        "merged", "重复警情（已合并）", "Duplicates merged (not counted)", _incidents(kind=MERGED)
    ),
    Figure("invalid", "无效警情", "Invalid calls (not counted)", _incidents(kind=INVALID)),
    Figure("services", "便民服务", "Citizen services", lambda c, t: c.services[t]),
    Figure(
        "money_saved",
        "群众节省费用",
        "Travel saved by citizens",
        lambda c, t: round(c.travel_saved_yuan[t], 2),
        unit="yuan",
    ),
)


def _pct(value: float, base: float) -> float | None:
    return (value - base) / base * 100.0 if base else None


def _test(
    value: float, days: int, base: float, base_days: int, unit: str
) -> schemas.TestOut | None:
    if unit != "count":
        return None
    test = rate_test(int(value), days, int(base), base_days)
    if test is None:
        return None
    return schemas.TestOut(
        p=test.p, significant=test.significant, text_zh=test.text_zh, text_en=test.text_en
    )


def compare(
    key: str,
    label_zh: str,
    label_en: str,
    values: dict[str, float],
    windows: dict[str, Window],
    *,
    available: bool = True,
    unit: str = "count",
) -> dict[str, Any]:
    """A figure beside last year's and the previous period's, with the changes and tests."""
    this, ly, prev = values[THIS], values[LAST_YEAR], values[PREVIOUS]
    days = {tag: w.days for tag, w in windows.items()}
    return {
        "key": key,
        "label_zh": label_zh,
        "label_en": label_en,
        "value": this,
        "last_year": ly,
        "previous": prev,
        "yoy_pct": _pct(this, ly),
        "pop_pct": _pct(this, prev),
        "yoy_test": _test(this, days[THIS], ly, days[LAST_YEAR], unit) if available else None,
        "pop_test": _test(this, days[THIS], prev, days[PREVIOUS], unit) if available else None,
        "available": available,
        "unit": unit,
    }


def _asked(session: Session, settings: Settings, ask: Ask, now: datetime) -> tuple[Period, Scope]:
    period = period_of(
        ask.period, ask.day or now.astimezone(settings.tz).date(), start=ask.start, end=ask.end
    )
    return period, scope_of(session, ask.scope)


def heat_of(
    session: Session, city: CityContext, settings: Settings, ask: Ask, *, now: datetime
) -> dict[str, Any]:
    """The heat map of the period's incidents (see `heat.heat`)."""
    period, scope = _asked(session, settings, ask, now)
    window = Window(THIS, *period.bounds(settings.tz), days=period.days)
    valid = incident_class(tuple(settings.stats_invalid_outcomes)) == VALID
    return heat(session, city, scope, window, valid=valid)


def summary(
    session: Session, city: CityContext, settings: Settings, ask: Ask, *, now: datetime
) -> schemas.SummaryOut:
    """Every figure of the statistics page (see `schemas.SummaryOut`)."""
    started = time.perf_counter()
    tz = settings.tz
    period, scope = _asked(session, settings, ask, now)
    last_year = last_year_period(period, StatutoryCalendar.load(session), align=ask.align)
    previous = previous_period(period)
    windows = {
        tag: Window(tag, *p.bounds(tz), days=p.days)
        for tag, p in ((THIS, period), (LAST_YEAR, last_year), (PREVIOUS, previous))
    }
    listed = list(windows.values())
    invalid_outcomes = tuple(settings.stats_invalid_outcomes)
    counts = count(session, scope, listed, invalid_outcomes=invalid_outcomes)
    valid = incident_class(invalid_outcomes) == VALID
    figures = [
        compare(
            f.key,
            f.label_zh,
            f.label_en,
            {tag: float(f.read(counts, tag)) for tag in windows},
            windows,
            available=f.available,
            unit=f.unit,
        )
        for f in FIGURES
    ]
    categories = _categories(session, counts, windows)
    watched = [
        _watched(session, counts, windows, code) for code in settings.stats_watched_categories
    ]
    response = respond(session, scope, listed, valid=valid)
    return schemas.SummaryOut(
        period=_period_out(period),
        last_year=_period_out(last_year),
        previous=_period_out(previous),
        scope=schemas.ScopeOut(kind=scope.kind, code=scope.code, name=scope.name),
        origins=dict(counts.origins),
        figures=[schemas.FigureOut(**f) for f in figures],
        categories=[schemas.CategoryFigureOut(**c) for c in categories],
        zero_categories=[
            schemas.CategoryFigureOut(**w) for w in watched if w is not None and w["value"] == 0
        ],
        tiers=[schemas.TierOut(**t) for t in response.tiers],
        chain=[schemas.ChainStepOut(**c) for c in response.chain],
        buckets=[schemas.BucketOut(**b) for b in response.buckets],
        units=_rank_units(session, response.units, counts_by_unit(session, scope, windows[THIS])),
        zones=_rank_zones(session, scope, windows, response.zone_times, valid=valid),
        rates=rate_figures(session, city, settings, scope, listed, counts),
        trend=trend(session, scope, windows[THIS], windows[LAST_YEAR], valid=valid, tz=tz),
        distributions=[schemas.DistributionOut(**d) for d in response.distributions],
        computed_ms=(time.perf_counter() - started) * 1000,
    )


def _period_out(p: Period) -> schemas.PeriodOut:
    return schemas.PeriodOut(
        kind=p.kind,
        start=p.start,
        end=p.end,
        label=p.label,
        days=p.days,
        aligned_on=p.aligned_on,
        note=p.note,
    )


def _categories(
    session: Session, counts: Counts, windows: dict[str, Window]
) -> list[dict[str, Any]]:
    tops = session.execute(
        select(CategoryRow.code, CategoryRow.name_zh, CategoryRow.name_en)
        .where(CategoryRow.level == 1)
        .order_by(CategoryRow.code)
    )
    return [
        {
            "code": code,
            **compare(
                code,
                zh,
                en,
                {tag: float(counts.incidents(tag, prefix=code[:2])) for tag in windows},
                windows,
            ),
        }
        for code, zh, en in tops
    ]


def _prefix(code: str) -> str:
    """The code's own digits: 010200 -> 0102, 020101 -> 020101, 010000 -> 01."""
    return code.rstrip("0") if len(code.rstrip("0")) % 2 == 0 else code.rstrip("0") + "0"


def _watched(
    session: Session, counts: Counts, windows: dict[str, Window], code: str
) -> dict[str, Any] | None:
    row = session.get(CategoryRow, code)
    if row is None:
        return None
    values = {tag: float(counts.incidents(tag, prefix=_prefix(code))) for tag in windows}
    return {"code": code, **compare(code, row.name_zh, row.name_en, values, windows)}


def counts_by_unit(session: Session, scope: Scope, window: Window) -> dict[int, int]:
    """Activities recorded per unit in the window."""
    query = (
        select(Activity.unit_id, func.count())
        .where(Activity.at >= window.start, Activity.at < window.end)
        .where(scope.records(Activity.zone_id, Activity.unit_id))
        .group_by(Activity.unit_id)
    )
    return dict(session.execute(query).all())


def _rank_units(
    session: Session, units: list[dict[str, Any]], activities: dict[int, int]
) -> list[schemas.UnitRankOut]:
    """Units ranked by arrivals, then by the quicker median response."""
    names = {u.id: (u.call_sign, u.zone_id) for u in session.scalars(select(Unit))}
    zones = {z.id: z.code for z in session.scalars(select(Zone))}
    rows = sorted(
        units,
        key=lambda u: (
            -u["arrived"],
            u["median_response_s"] if u["median_response_s"] is not None else float("inf"),
        ),
    )
    return [
        schemas.UnitRankOut(
            rank=i + 1,
            unit=names[u["unit_id"]][0],
            zone=zones.get(names[u["unit_id"]][1]),  # type: ignore[arg-type]
            orders=u["orders"],
            arrived=u["arrived"],
            median_response_s=u["median_response_s"],
            met_rate=u["met_rate"],
            activities=activities.get(u["unit_id"], 0),
        )
        for i, u in enumerate(rows)
        if u["unit_id"] in names
    ]


def _rank_zones(
    session: Session,
    scope: Scope,
    windows: dict[str, Window],
    times: dict[int, dict[str, Any]],
    *,
    valid: Any,
) -> list[schemas.ZoneRankOut]:
    """Zones ranked by the 1-3-5 share met, then by the quicker median response."""
    counts: dict[tuple[str, int], int] = {}
    for tag in (THIS, LAST_YEAR):
        w = windows[tag]
        query = (
            select(Incident.zone_id, func.count())
            .where(Incident.call_at >= w.start, Incident.call_at < w.end, valid, scope.incidents())
            .group_by(Incident.zone_id)
        )
        for zone_id, n in session.execute(query).all():
            if zone_id is not None:
                counts[(tag, zone_id)] = n
    zones = session.scalars(select(Zone).order_by(Zone.code)).all()
    if scope.zone_ids is not None:
        zones = [z for z in zones if z.id in scope.zone_ids]
    rows: list[dict[str, Any]] = [
        {
            "zone": z.code,
            "name": z.name,
            "incidents": counts.get((THIS, z.id), 0),
            "last_year": counts.get((LAST_YEAR, z.id), 0),
            "yoy_pct": _pct(counts.get((THIS, z.id), 0), counts.get((LAST_YEAR, z.id), 0)),
            "median_response_s": times.get(z.id, {}).get("median_response_s"),
            "met_rate": times.get(z.id, {}).get("met_rate"),
        }
        for z in zones
    ]
    rows.sort(
        key=lambda r: (
            -(r["met_rate"] if r["met_rate"] is not None else -1.0),
            r["median_response_s"] if r["median_response_s"] is not None else float("inf"),
        )
    )
    return [schemas.ZoneRankOut(rank=i + 1, **r) for i, r in enumerate(rows)]
