"""The three rates the reform promised to raise, which no national text defines; jiaoxun defines
them as below, shows the definition beside each value, and takes its parameters from settings:

- 见警率 visibility: the share of (road cell × hour) slots of the period in which a unit's track
  has a fix, over the cells of `stats_visibility_cell_m` that hold a road of the scope;
- 盘查率 stop-checks: stop-checks recorded per unit-shift;
- 管事率 intervention: matters handled on the unit's own initiative (activities and incidents found
  on patrol) per unit-shift.

Unit-shifts are "planned" (every unit of the scope on every shift of the period, as the kiosk
model runs its cars round the clock) or "recorded" (the shifts with a stored patrol duty).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.analytics import schemas
from jiaoxun.analytics.counts import Counts
from jiaoxun.analytics.scope import LAST_YEAR, PREVIOUS, THIS, Scope, Window, in_windows
from jiaoxun.analytics.sql import epoch_s, floor_int
from jiaoxun.city.context import CityContext
from jiaoxun.settings import Settings
from jiaoxun.tracking.models import PatrolState, TrackPoint
from jiaoxun.units.models import Unit

_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Grid:
    """Square cells of `cell_m` over the city, numbered from its south-west corner."""

    west: float
    south: float
    dlon: float  # degrees of one cell
    dlat: float

    def cell_of(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        return floor_int((lon - self.west) / self.dlon), floor_int((lat - self.south) / self.dlat)


@lru_cache(maxsize=8)
def _road_cells(
    city: CityContext, cell_m: float
) -> tuple[Grid, dict[int | None, frozenset[tuple[int, int]]]]:
    """The grid and, per zone id (None: the whole city), the cells holding a road."""
    network = city.travel_times.network
    lon, lat = network.geom_lon, network.geom_lat
    mid = float(np.radians(lat.mean()))
    grid = Grid(
        west=float(lon.min()),
        south=float(lat.min()),
        dlon=cell_m / (_M_PER_DEG_LAT * np.cos(mid)),
        dlat=cell_m / _M_PER_DEG_LAT,
    )
    cx = np.floor((lon - grid.west) / grid.dlon).astype(int)
    cy = np.floor((lat - grid.south) / grid.dlat).astype(int)
    cells = set(zip(cx.tolist(), cy.tolist(), strict=True))
    by_zone: dict[int | None, frozenset[tuple[int, int]]] = {None: frozenset(cells)}
    centres = np.array(sorted(cells))
    points = shapely.points(
        grid.west + (centres[:, 0] + 0.5) * grid.dlon,
        grid.south + (centres[:, 1] + 0.5) * grid.dlat,
    )
    for zone, shape in zip(city.zones, city.zone_shapes, strict=True):
        inside = shapely.covers(shape, points)
        by_zone[zone.id] = frozenset(map(tuple, centres[inside].tolist()))
    return grid, by_zone


def _scope_cells(
    city: CityContext, scope: Scope, cell_m: float
) -> tuple[Grid, frozenset[tuple[int, int]]]:
    grid, by_zone = _road_cells(city, cell_m)
    if scope.zone_ids is None:
        return grid, by_zone[None]
    return grid, frozenset().union(*(by_zone.get(z, frozenset()) for z in scope.zone_ids))


def visibility(
    session: Session, city: CityContext, scope: Scope, windows: list[Window], *, cell_m: float
) -> dict[str, float | None]:
    """Per window: the share of road cell × hour slots with a fix; None without any track."""
    grid, cells = _scope_cells(city, scope, cell_m)
    tp = TrackPoint
    cx, cy = grid.cell_of(tp.lon, tp.lat)
    hour = floor_int(epoch_s(tp.at) / 3600.0)
    if scope.unit_id is not None:
        who = tp.unit_id == scope.unit_id
    elif scope.zone_ids is not None:
        zones = select(Unit.id).where(Unit.zone_id.in_(scope.zone_ids))
        who = tp.unit_id.in_(zones)
    else:
        who = tp.unit_id.is_not(None)
    query = in_windows(
        windows,
        tp.at,
        lambda when: (
            select(hour.label("hour"), cx.label("cx"), cy.label("cy"))
            .where(when, who)
            .group_by(hour, cx, cy)
        ),
    )
    slots: dict[str, int] = {w.tag: 0 for w in windows}
    seen: set[str] = set()
    for row in session.execute(query):
        seen.add(row.tag)
        if (row.cx, row.cy) in cells:
            slots[row.tag] += 1
    return {
        w.tag: slots[w.tag] / (len(cells) * w.days * 24) if w.tag in seen and cells else None
        for w in windows
    }


def unit_shifts(
    session: Session, scope: Scope, windows: list[Window], *, shifts_per_day: int, mode: str
) -> dict[str, float]:
    """Per window: the unit-shifts the rates are divided by (see the module docstring)."""
    if mode == "recorded":
        ps = PatrolState
        query = in_windows(
            windows,
            ps.shift_start,
            lambda when: select(func.count().label("n")).where(
                when,
                scope.records(
                    select(Unit.zone_id).where(Unit.id == ps.unit_id).scalar_subquery(), ps.unit_id
                ),
            ),
        )
        return {r.tag: float(r.n) for r in session.execute(query)}
    if scope.unit_id is not None:
        units = 1
    else:
        query = select(func.count()).select_from(Unit)
        if scope.zone_ids is not None:
            query = query.where(Unit.zone_id.in_(scope.zone_ids))
        units = session.scalar(query) or 0
    return {w.tag: float(units * w.days * shifts_per_day) for w in windows}


def per_shift(
    counts: Counts, shifts: dict[str, float]
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Per window: stop-checks and matters on initiative per unit-shift."""
    checks: dict[str, float | None] = {}
    matters: dict[str, float | None] = {}
    for tag, n in shifts.items():
        activities = counts.activities[tag]
        checks[tag] = activities["stop_check"] / n if n else None
        matters[tag] = (sum(activities.values()) + counts.patrol_found[tag]) / n if n else None
    return checks, matters


_RATES = {
    "visibility": (
        "见警率",
        "Police visibility",
        "%",
        "%",
        "有巡逻车辆轨迹的（道路网格 × 小时）占全部道路网格 × 小时的比例；网格边长 {cell:.0f} 米",
        "share of (road cell × hour) slots with a fix from a unit's track, of all road cells × "
        "hours of the period; cells of {cell:.0f} m",
    ),
    "stop_check": (
        "盘查率",
        "Stop-check rate",
        "次/车班",
        "per unit-shift",
        "盘查次数 ÷ 车班数（{shifts}）",
        "stop-checks recorded ÷ unit-shifts ({shifts})",
    ),
    "intervention": (
        "管事率",
        "Intervention rate",
        "件/车班",
        "per unit-shift",
        "主动处置事项（违法查处、求助、盘查、巡逻发现警情）÷ 车班数（{shifts}）",
        "matters handled on initiative (violations, assists, stop-checks, incidents found on "
        "patrol) ÷ unit-shifts ({shifts})",
    ),
}
_SHIFTS = {
    "planned": ("每车每班", "every unit on every shift"),
    "recorded": ("有巡逻记录的车班", "shifts with a stored patrol duty"),
}


def rate_figures(
    session: Session,
    city: CityContext,
    settings: Settings,
    scope: Scope,
    windows: list[Window],
    counts: Counts,
) -> list[schemas.RateOut]:
    """The three rates of the windows, each with its definition as settings make it."""
    cell = settings.stats_visibility_cell_m
    seen = visibility(session, city, scope, windows, cell_m=cell)
    shifts = unit_shifts(
        session,
        scope,
        windows,
        shifts_per_day=len(settings.shift_starts),
        mode=settings.stats_rate_shifts,
    )
    checks, matters = per_shift(counts, shifts)
    values = {
        "visibility": {t: (v * 100 if v is not None else None) for t, v in seen.items()},
        "stop_check": checks,
        "intervention": matters,
    }
    zh_shifts, en_shifts = _SHIFTS[settings.stats_rate_shifts]
    out = []
    for key, (zh, en, unit_zh, unit_en, def_zh, def_en) in _RATES.items():
        v = values[key]
        out.append(
            schemas.RateOut(
                key=key,
                label_zh=zh,
                label_en=en,
                value=v.get(THIS),
                last_year=v.get(LAST_YEAR),
                previous=v.get(PREVIOUS),
                unit_zh=unit_zh,
                unit_en=unit_en,
                definition_zh=def_zh.format(cell=cell, shifts=zh_shifts),
                definition_en=def_en.format(cell=cell, shifts=en_shifts),
            )
        )
    return out
