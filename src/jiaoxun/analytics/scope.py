"""What a statistic is about: the city, a zone, a kiosk (its zone) or one unit, and the time
windows it is counted in (the period, the same period last year, the previous period)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, false, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from jiaoxun.city.models import Kiosk, Zone
from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.units.models import Unit

ScopeKind = Literal["city", "zone", "kiosk", "unit"]
THIS, LAST_YEAR, PREVIOUS = "this", "last_year", "previous"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    code: str | None
    name: str
    zone_ids: tuple[int, ...] | None = None  # None: every zone
    unit_id: int | None = None

    def incidents(self) -> ColumnElement[bool]:
        """The incidents of the scope: of its zones, or those its unit was sent to."""
        if self.unit_id is not None:
            sent = select(DispatchOrder.incident_id).where(DispatchOrder.unit_id == self.unit_id)
            return Incident.id.in_(sent)
        if self.zone_ids is not None:
            return Incident.zone_id.in_(self.zone_ids)
        return true()

    def kiosk_records(self, kiosk_id: Any) -> ColumnElement[bool]:
        """Rows of a kiosk (services done) of the scope; a unit serves at no counter."""
        if self.unit_id is not None:
            return false()
        if self.zone_ids is not None:
            ours: ColumnElement[bool] = kiosk_id.in_(
                select(Kiosk.id).where(Kiosk.zone_id.in_(self.zone_ids))
            )
            return ours
        return true()

    def records(self, zone_id: Any, unit_id: Any) -> ColumnElement[bool]:
        """Rows that carry a zone and a unit (activities, recognitions) of the scope."""
        if self.unit_id is not None:
            mine: ColumnElement[bool] = unit_id == self.unit_id
            return mine
        if self.zone_ids is not None:
            ours: ColumnElement[bool] = zone_id.in_(self.zone_ids)
            return ours
        return true()


def scope_of(session: Session, text: str) -> Scope:
    """Read "city", "zone:<code>", "kiosk:<id>" or "unit:<call sign>".

    Raises
    ------
    InvalidInput
        For another form. NotFound: for a zone, kiosk or unit that does not exist.
    """
    kind, _, code = text.partition(":")
    if kind == "city" and not code:
        return Scope("city", None, "city")
    if kind == "zone" and code:
        zone = session.scalar(select(Zone).where(Zone.code == code))
        if zone is None:
            raise NotFound(f"zone {code!r} does not exist")
        return Scope("zone", code, zone.name, zone_ids=(zone.id,))
    if kind == "kiosk" and code:
        kiosk = session.get(Kiosk, int(code)) if code.isdigit() else None
        if kiosk is None:
            raise NotFound(f"kiosk {code!r} does not exist")
        zones = (kiosk.zone_id,) if kiosk.zone_id is not None else ()
        return Scope("kiosk", code, kiosk.name, zone_ids=zones)
    if kind == "unit" and code:
        unit = session.scalar(select(Unit).where(Unit.call_sign == code))
        if unit is None:
            raise NotFound(f"unit {code!r} does not exist")
        return Scope("unit", code, unit.call_sign, unit_id=unit.id)
    raise InvalidInput(f"scope {text!r} must be city, zone:<code>, kiosk:<id> or unit:<call sign>")


@dataclass(frozen=True)
class Window:
    tag: str
    start: datetime
    end: datetime  # excluded
    days: int


def in_windows(
    windows: list[Window], column: Any, build: Callable[[ColumnElement[bool]], Any]
) -> Select[Any]:
    """One query for every window: `build(condition)` for each window's time condition on
    `column`, its rows tagged with the window's tag (column "tag"), glued with UNION ALL.
    A window is its own range scan, and windows may overlap (a year and the year before)."""
    parts = [
        build(and_(column >= w.start, column < w.end)).add_columns(literal(w.tag).label("tag"))
        for w in windows
    ]
    return select(union_all(*parts).subquery("windows"))


def none_of(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return ~or_(*conditions)
