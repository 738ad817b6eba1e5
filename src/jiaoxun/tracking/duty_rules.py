"""The patrol duty rules as the database holds them: mandatory points and lines with their
duty windows, each unit's home zone, and when units were on dispatch orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jiaoxun.city.context import CityContext
from jiaoxun.city.models import PatrolLine, PatrolPoint
from jiaoxun.geo.matching import Matcher
from jiaoxun.incidents.models import DispatchOrder
from jiaoxun.tracking.duty import DutyRules
from jiaoxun.tracking.geofence import ZoneFences
from jiaoxun.tracking.lines import MandatoryLine
from jiaoxun.tracking.patrol import MandatoryPoint
from jiaoxun.units.models import Unit


def zone_code(city: CityContext, zone_id: int | None) -> str:
    zone = city.zone_by_id(zone_id)
    return zone.code if zone else ""


def mandatory_points(session: Session, city: CityContext) -> list[MandatoryPoint]:
    return [
        MandatoryPoint(
            p.id,
            p.lon,
            p.lat,
            p.radius_m,
            p.dwell_min,
            p.visits_per_shift,
            zone=zone_code(city, p.zone_id),
            windows=tuple((w[0], w[1]) for w in p.windows or ()),
        )
        for p in session.scalars(select(PatrolPoint).order_by(PatrolPoint.id))
    ]


def mandatory_lines(session: Session, city: CityContext) -> list[MandatoryLine]:
    return [
        MandatoryLine(
            line.id,
            tuple(line.edges),
            zone=zone_code(city, line.zone_id),
            passes_per_shift=line.passes_per_shift,
            windows=tuple((w[0], w[1]) for w in line.windows or ()),
        )
        for line in session.scalars(select(PatrolLine).order_by(PatrolLine.id))
    ]


def home_zones(session: Session, city: CityContext) -> dict[int, str]:
    """The home zone code of every unit ('' for a unit of no zone)."""
    return {u.id: zone_code(city, u.zone_id) for u in session.scalars(select(Unit))}


def duty_rules(
    session: Session, city: CityContext, *, fences: ZoneFences, matcher: Matcher
) -> DutyRules:
    return DutyRules.of(
        fences=fences,
        points=mandatory_points(session, city),
        lines=mandatory_lines(session, city),
        network=city.travel_times.network,
        matcher=matcher,
        tz=city.traffic.tz,
    )


#: the times an order ends at (done, returned, cancelled): the first of them set ends it
ORDER_ENDS = (DispatchOrder.done_at, DispatchOrder.returned_at, DispatchOrder.cancelled_at)


class OrderTimes:
    """When each unit was on a dispatch order: from its issue to its end (done, returned,
    cancelled), open-ended while it runs."""

    def __init__(self, spans: Mapping[int, Sequence[tuple[datetime, datetime | None]]]) -> None:
        self.spans = spans

    @classmethod
    def read(
        cls, session: Session, unit_ids: Iterable[int], *, since: datetime, until: datetime
    ) -> OrderTimes:
        ids = sorted(set(unit_ids))
        spans: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
        if not ids:
            return cls(spans)
        rows = session.execute(
            select(
                DispatchOrder.unit_id,
                DispatchOrder.issued_at,
                *ORDER_ENDS,
            ).where(
                DispatchOrder.unit_id.in_(ids),
                DispatchOrder.issued_at <= until,
                # not ended by `since`: a unit's past orders are not read at every fix
                *(or_(end.is_(None), end > since) for end in ORDER_ENDS),
            )
        )
        for unit_id, issued, *ends in rows:
            spans[unit_id].append((issued, min((e for e in ends if e is not None), default=None)))
        return cls(spans)

    def on_order(self, unit_id: int, at: datetime) -> bool:
        return any(
            start <= at and (end is None or at < end) for start, end in self.spans.get(unit_id, ())
        )
