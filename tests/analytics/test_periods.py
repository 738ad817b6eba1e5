"""Periods, their 环比 and 同比 periods, and the statutory calendar with its overrides."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from jiaoxun.analytics.calendar import CalendarUnknown, Day, StatutoryCalendar
from jiaoxun.analytics.periods import last_year_period, period_of, previous_period
from jiaoxun.errors import InvalidInput

PACKAGE = StatutoryCalendar({})


def test_kinds() -> None:
    assert period_of("month", date(2024, 2, 10)).end == date(2024, 2, 29)
    quarter = period_of("quarter", date(2025, 8, 31))
    assert (quarter.start, quarter.end, quarter.label) == (
        date(2025, 7, 1),
        date(2025, 9, 30),
        "2025-Q3",
    )
    week = period_of("week", date(2025, 1, 1))  # a Wednesday of ISO week 1 of 2025
    assert (week.start, week.end, week.label) == (date(2024, 12, 30), date(2025, 1, 5), "2025-W01")
    assert period_of("year", date(2024, 6, 1)).days == 366
    custom = period_of("custom", date(2025, 1, 1), start=date(2025, 3, 1), end=date(2025, 3, 10))
    assert custom.days == 10


def test_bad_periods_name_the_rule() -> None:
    with pytest.raises(InvalidInput, match="must be one of"):
        period_of("fortnight", date(2025, 1, 1))
    with pytest.raises(InvalidInput, match="before its start"):
        period_of("custom", date(2025, 1, 1), start=date(2025, 3, 2), end=date(2025, 3, 1))
    with pytest.raises(InvalidInput, match="both start and end"):
        period_of("custom", date(2025, 1, 1), start=date(2025, 3, 2))
    with pytest.raises(InvalidInput, match="longer than"):
        period_of("custom", date(2025, 1, 1), start=date(2020, 1, 1), end=date(2025, 1, 1))


def test_bounds_are_local_midnights() -> None:
    first, after = period_of("day", date(2025, 3, 1)).bounds(ZoneInfo("Asia/Shanghai"))
    assert first.isoformat() == "2025-03-01T00:00:00+08:00"
    assert (after - first).total_seconds() == 86400


def test_previous_period_has_equal_length() -> None:
    march = period_of("month", date(2025, 3, 15))
    before = previous_period(march)
    assert (before.start, before.end) == (date(2025, 1, 29), date(2025, 2, 28))
    assert before.days == march.days == 31


def test_same_period_last_year_is_aligned_on_the_spring_festival() -> None:
    # the Spring Festival holiday began on 28 January 2025 and on 10 February 2024
    january = period_of("month", date(2025, 1, 5))
    aligned = last_year_period(january, PACKAGE)
    assert aligned.aligned_on == "Spring Festival"
    assert (aligned.start, aligned.end) == (date(2024, 1, 14), date(2024, 2, 13))
    assert aligned.days == january.days
    on_dates = last_year_period(january, PACKAGE, align=False)
    assert (on_dates.start, on_dates.end, on_dates.label) == (
        date(2024, 1, 1),
        date(2024, 1, 31),
        "2024-01",
    )
    # a month without a moving holiday, and a year, are compared on dates
    assert last_year_period(period_of("month", date(2025, 3, 1)), PACKAGE).aligned_on is None
    assert last_year_period(period_of("year", date(2025, 3, 1)), PACKAGE).start == date(2024, 1, 1)
    # weeks keep their weekdays
    week = last_year_period(period_of("week", date(2025, 3, 12)), PACKAGE)
    assert week.start.weekday() == 0
    assert week.label == "2024-W11"


def test_a_year_the_package_does_not_know() -> None:
    with pytest.raises(CalendarUnknown, match="does not know 2031-01-01"):
        PACKAGE.day(date(2031, 1, 1))
    # the statistics still come, compared on dates, and say why
    february = period_of("month", date(2031, 2, 1))
    on_dates = last_year_period(february, PACKAGE)
    assert (on_dates.start, on_dates.aligned_on) == (date(2030, 2, 1), None)
    assert "compared on dates" in on_dates.note
    assert "calendar table" in on_dates.note
    # the override table fills the years in
    overrides = {
        d: Day(d, False, "Spring Festival", overridden=True)
        for d in (date(2031, 1, 22), date(2031, 1, 23), date(2030, 2, 2), date(2030, 2, 3))
    }
    known = StatutoryCalendar(overrides)
    assert known.day(date(2031, 1, 23)).holiday == "Spring Festival"
    january = last_year_period(period_of("month", date(2031, 1, 1)), known)
    assert january.aligned_on == "Spring Festival"
    assert january.start == date(2030, 2, 2) - (date(2031, 1, 22) - date(2031, 1, 1))


def test_make_up_working_days() -> None:
    sunday = PACKAGE.day(date(2025, 1, 26))  # worked for the Spring Festival
    assert sunday.workday
    assert sunday.holiday is None
    eve = PACKAGE.day(date(2025, 1, 28))
    assert (eve.workday, eve.holiday) == (False, "Spring Festival")
