"""The Chinese statutory calendar: holidays and make-up working days (调休), with overrides.

The `chinese-calendar` package follows each year's State Council notice, published around
November, and raises NotImplementedError for a year it does not know (every January until the
package is updated). Here a stored override (`CalendarDay`) wins over the package, and a day the
package does not know and no override covers raises `CalendarUnknown`, an error that says what to
do, never the package's exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.analytics.models import CalendarDay
from jiaoxun.errors import InvalidInput

#: the holidays whose date moves from year to year with the lunar calendar, in the order they
#: are looked for when a period is aligned on one for its year-over-year comparison
MOVING_HOLIDAYS = (
    "Spring Festival",
    "Tomb-sweeping Day",
    "Dragon Boat Festival",
    "Mid-autumn Festival",
)


class CalendarUnknown(InvalidInput):
    """A day neither the calendar package nor the override table knows."""


@dataclass(frozen=True)
class Day:
    day: date
    workday: bool
    holiday: str | None  # the holiday's English name, None on an ordinary day
    overridden: bool = False
    #: the calendar did not know the day: Monday to Friday taken as working days, no holidays
    assumed: bool = False


@dataclass(frozen=True)
class StatutoryCalendar:
    overrides: Mapping[date, Day]

    @classmethod
    def load(cls, session: Session) -> StatutoryCalendar:
        rows = session.scalars(select(CalendarDay))
        return cls({r.day: Day(r.day, r.workday, r.holiday or None, overridden=True) for r in rows})

    def day(self, when: date) -> Day:
        """Whether `when` is a working day and which holiday it belongs to.

        Raises
        ------
        CalendarUnknown
            For a day of a year the package does not know and no override covers.
        """
        if when in self.overrides:
            return self.overrides[when]
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(when)
            workday = chinese_calendar.is_workday(when)
        except NotImplementedError:
            raise CalendarUnknown(
                f"the statutory calendar does not know {when.isoformat()} (its data covers "
                f"{_known_years()}): enter the year's holidays and make-up working days in the "
                "calendar table (PUT /api/analytics/calendar/{day}), or compare on dates"
            ) from None
        # the package names a make-up working day after its holiday: only days off belong to one
        return Day(when, workday, name if on_holiday and name else None)

    def day_or_weekday(self, when: date) -> Day:
        """Like `day`, but a day no one knows falls back to the weekday rule (Monday to Friday
        working, no holiday) and says so in `assumed`: opening hours never fail on it."""
        try:
            return self.day(when)
        except CalendarUnknown:
            return Day(when, when.weekday() < 5, None, assumed=True)

    def first_day_of(self, holiday: str, year: int) -> date:
        """The first day off of `holiday` in `year`.

        Raises
        ------
        CalendarUnknown
            When neither the overrides nor the package know that year's `holiday`.
        """
        days: list[date] = [
            d
            for d, name in chinese_calendar.holidays.items()
            if d.year == year and name == holiday and d not in self.overrides
        ]
        days += [d for d, o in self.overrides.items() if d.year == year and o.holiday == holiday]
        if not days:
            raise CalendarUnknown(
                f"the statutory calendar does not know the {holiday} of {year} (its data covers "
                f"{_known_years()}): enter that year's holidays in the calendar table "
                "(PUT /api/analytics/calendar/{day}), or compare on dates"
            )
        return min(days)


def _known_years() -> str:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return f"{years[0]}–{years[-1]}"
