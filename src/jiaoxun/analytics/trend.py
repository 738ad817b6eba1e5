"""The trend line: this period's incidents by day, week or month, with last year's beside.

The database counts per hour since the epoch (at most 8,784 rows a year); the hours are put in
local-day buckets here, so that a bucket is a local day whatever the zone's offset."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.analytics import schemas
from jiaoxun.analytics.scope import Scope, Window
from jiaoxun.analytics.sql import epoch_s, floor_int
from jiaoxun.incidents.models import Incident


def _hours(session: Session, scope: Scope, window: Window, valid: Any) -> Counter[int]:
    hour = floor_int(epoch_s(Incident.call_at) / 3600.0)
    query = (
        select(hour.label("hour"), func.count().label("n"))
        .where(
            Incident.call_at >= window.start,
            Incident.call_at < window.end,
            valid,
            scope.incidents(),
        )
        .group_by(hour)
    )
    return Counter({r.hour: r.n for r in session.execute(query)})


def _local_days(hours: Counter[int], window: Window, tz: ZoneInfo) -> Counter[int]:
    """Counts per hour since the epoch as counts per local day of the window (day 0 its
    first); one offset for the whole window unless a clock change falls in it."""
    first, last = window.start.astimezone(tz), (window.end - timedelta(seconds=1)).astimezone(tz)
    days: Counter[int] = Counter()
    if first.utcoffset() == last.utcoffset():
        offset_s = int(first.utcoffset().total_seconds())  # type: ignore[union-attr]
        start_day = (int(window.start.timestamp()) + offset_s) // 86400
        for hour, n in hours.items():
            days[(hour * 3600 + offset_s) // 86400 - start_day] += n
        return days
    for hour, n in hours.items():
        local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(tz)
        days[(local.date() - first.date()).days] += n
    return days


def _bucket_of(kind: str, day_index: int, start: datetime) -> int:
    if kind == "day":
        return day_index
    if kind == "week":
        return day_index // 7
    day = start.date() + timedelta(days=day_index)
    return (day.year - start.year) * 12 + day.month - start.month


def trend(
    session: Session, scope: Scope, this: Window, last_year: Window, *, valid: Any, tz: ZoneInfo
) -> schemas.TrendOut:
    kind = "day" if this.days <= 62 else "week" if this.days <= 200 else "month"
    series = []
    for window in (this, last_year):
        local_start = window.start.astimezone(tz)
        buckets: Counter[int] = Counter()
        for index, n in _local_days(_hours(session, scope, window, valid), window, tz).items():
            buckets[_bucket_of(kind, index, local_start)] += n
        series.append(buckets)
    start = this.start.astimezone(tz).date()
    labels: dict[int, str] = {}
    for index in range(this.days):
        labels.setdefault(
            _bucket_of(kind, index, this.start.astimezone(tz)),
            (start + timedelta(days=index)).isoformat(),
        )
    points = [
        schemas.TrendPointOut(label=label, this=series[0][b], last_year=series[1][b])
        for b, label in sorted(labels.items())
    ]
    return schemas.TrendOut(bucket=kind, points=points)
