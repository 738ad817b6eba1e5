"""The periods statistics are cut by, and the periods each is compared with.

A period is a run of local days, both ends included: a day, an ISO week (Monday first), a month,
a quarter, a year, or custom dates. It is compared with the same period a year before (同比),
aligned on a moving holiday where it holds one (January 2025 held the Spring Festival, January
2024 did not: with alignment, last year's period is the same number of days placed the same way
around the 2024 Spring Festival), and with the period of equal length just before it (环比).
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jiaoxun.analytics.calendar import MOVING_HOLIDAYS, CalendarUnknown, StatutoryCalendar
from jiaoxun.errors import InvalidInput

Kind = Literal["day", "week", "month", "quarter", "year", "custom"]
KINDS: tuple[Kind, ...] = ("day", "week", "month", "quarter", "year", "custom")
#: periods longer than this are compared on dates: a year holds every holiday either way
ALIGN_MAX_DAYS = 92
#: the longest custom period
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: Kind
    start: date
    end: date  # included
    label: str
    aligned_on: str | None = None
    note: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as instants: its first local midnight and the one after its last day."""
        first = datetime.combine(self.start, time(), tz)
        after = datetime.combine(self.end + timedelta(days=1), time(), tz)
        return first, after

    def shifted(self, days: int, label: str) -> Period:
        delta = timedelta(days=days)
        return Period(self.kind, self.start + delta, self.end + delta, label)


#: the days a statistic may ask about: a year before the first and after the last still a date
#: of the calendar in every time zone
EARLIEST, LATEST = date(1900, 1, 1), date(9990, 12, 31)


def period_of(kind: str, at: date, *, start: date | None = None, end: date | None = None) -> Period:
    """The period of `kind` that holds the day `at` (custom: from `start` to `end`).

    Raises
    ------
    InvalidInput
        For a day before `EARLIEST` or after `LATEST`, an unknown kind, a custom period without
        both ends, ending before it starts, or longer than `MAX_DAYS`.
    """
    for name, day in (("date", at), ("start", start), ("end", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(f"{name} {day} must lie between {EARLIEST} and {LATEST}")
    if kind == "day":
        return Period("day", at, at, at.isoformat())
    if kind == "week":
        monday = at - timedelta(days=at.weekday())
        iso = monday.isocalendar()
        return Period("week", monday, monday + timedelta(days=6), f"{iso.year}-W{iso.week:02d}")
    if kind == "month":
        days = gregorian.monthrange(at.year, at.month)[1]
        return Period("month", at.replace(day=1), at.replace(day=days), f"{at:%Y-%m}")
    if kind == "quarter":
        q = (at.month - 1) // 3
        first = date(at.year, 3 * q + 1, 1)
        last_month = 3 * q + 3
        last = date(at.year, last_month, gregorian.monthrange(at.year, last_month)[1])
        return Period("quarter", first, last, f"{at.year}-Q{q + 1}")
    if kind == "year":
        return Period("year", date(at.year, 1, 1), date(at.year, 12, 31), str(at.year))
    if kind == "custom":
        if start is None or end is None:
            raise InvalidInput("a custom period needs both start and end dates")
        if end < start:
            raise InvalidInput(f"period end {end} is before its start {start}")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInput(
                f"a period of {(end - start).days + 1} days is longer than {MAX_DAYS} days"
            )
        return Period("custom", start, end, f"{start.isoformat()} – {end.isoformat()}")
    raise InvalidInput(f"period kind {kind!r} must be one of {', '.join(KINDS)}")


def previous_period(period: Period) -> Period:
    """The period of equal length that ends the day before `period` starts (环比)."""
    days = period.days
    before = period.shifted(-days, "")
    return replace(before, label=f"{before.start.isoformat()} – {before.end.isoformat()}")


def year_before(day: date) -> date:
    """The same date a year before; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def last_year_period(period: Period, calendar: StatutoryCalendar, *, align: bool = True) -> Period:
    """The same period a year before (同比), aligned on the first moving holiday it holds.

    A calendar that does not know one of the two years leaves the comparison on dates and says
    so in the period's `note`; it never fails the statistics."""
    if period.kind == "week":  # the same ISO week: 52 weeks back keeps the weekdays
        start, end = period.start - timedelta(weeks=52), period.end - timedelta(weeks=52)
    else:
        start, end = year_before(period.start), year_before(period.end)
    on_dates = Period(period.kind, start, end, _label_year_before(period, start, end))
    if not align or period.days > ALIGN_MAX_DAYS:
        return on_dates
    try:
        for holiday in MOVING_HOLIDAYS:
            this = calendar.first_day_of(holiday, period.start.year)
            if not period.start <= this <= period.end:
                continue
            then = calendar.first_day_of(holiday, period.start.year - 1)
            first = then - (this - period.start)
            last = first + timedelta(days=period.days - 1)
            label = f"{first.isoformat()} – {last.isoformat()}"
            return Period(period.kind, first, last, label, aligned_on=holiday)
    except CalendarUnknown as unknown:
        return replace(on_dates, note=f"compared on dates: {unknown}")
    return on_dates


def _label_year_before(period: Period, start: date, end: date) -> str:
    if period.kind == "day":
        return start.isoformat()
    if period.kind == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period.kind == "month":
        return f"{start:%Y-%m}"
    if period.kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period.kind == "year":
        return str(start.year)
    return f"{start.isoformat()} – {end.isoformat()}"
