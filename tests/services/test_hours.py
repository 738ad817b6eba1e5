"""Opening hours: the most specific scope wins per kind of day; windows cut into slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from jiaoxun.analytics.calendar import Day
from jiaoxun.errors import InvalidInput
from jiaoxun.services.hours import Rule, Window, clock_time, day_kind_of, slots_of, windows_for
from jiaoxun.services.models import DayKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rule(kiosk: int | None, service: int | None, kind: DayKind, starts: str, ends: str) -> Rule:
    return Rule(kiosk, service, kind, clock_time(starts), clock_time(ends), False, 2)


RULES = [
    rule(None, None, DayKind.WORKDAY, "08:30", "11:30"),
    rule(None, None, DayKind.WORKDAY, "13:30", "17:00"),
    rule(None, None, DayKind.HOLIDAY, "18:00", "20:00"),
    rule(3, None, DayKind.WORKDAY, "09:00", "12:00"),
    rule(3, 7, DayKind.WORKDAY, "10:00", "11:00"),
]


def test_the_most_specific_scope_of_the_days_kind_wins() -> None:
    def starts(kiosk: int, service: int, kind: DayKind) -> list[str]:
        windows = windows_for(RULES, kiosk_id=kiosk, service_id=service, day_kind=kind)
        return [w.starts.strftime("%H:%M") for w in windows]

    assert starts(1, 1, DayKind.WORKDAY) == ["08:30", "13:30"]  # the city's default
    assert starts(3, 1, DayKind.WORKDAY) == ["09:00"]  # the kiosk's own hours
    assert starts(3, 7, DayKind.WORKDAY) == ["10:00"]  # the kiosk's hours for the service
    assert starts(3, 7, DayKind.HOLIDAY) == ["18:00"]  # no own holiday rows: the default's
    assert starts(3, 7, DayKind.RESTDAY) == []  # closed


def test_a_window_is_cut_into_whole_slots_in_utc() -> None:
    window = Window(time(18, 0), time(19, 50), True, 1)
    slots = slots_of([window], day=date(2027, 1, 1), minutes=20, tz=SHANGHAI)
    assert [s.local_time for s in slots] == ["18:00", "18:20", "18:40", "19:00", "19:20"]
    assert slots[0].starts_at == datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    assert slots[-1].ends_at == datetime(2027, 1, 1, 11, 40, tzinfo=UTC)  # 19:50 is not reached
    assert all(s.after_hours and s.capacity == 1 for s in slots)


def test_a_window_to_midnight_ends_at_the_next_day() -> None:
    slots = slots_of(
        [Window(time(23, 0), clock_time("24:00"), True, 1)],
        day=date(2026, 12, 31),
        minutes=30,
        tz=SHANGHAI,
    )
    assert [s.local_time for s in slots] == ["23:00", "23:30"]


def test_holidays_make_up_days_and_weekends() -> None:
    assert day_kind_of(Day(date(2026, 10, 1), False, "National Day")) is DayKind.HOLIDAY
    assert day_kind_of(Day(date(2026, 9, 27), True, None)) is DayKind.WORKDAY  # make-up Sunday
    assert day_kind_of(Day(date(2026, 12, 5), False, None)) is DayKind.RESTDAY


@pytest.mark.parametrize("bad", ["8:30", "25:00", "12:60", "noon", ""])
def test_a_time_of_day_is_hh_mm(bad: str) -> None:
    with pytest.raises(InvalidInput, match="HH:MM"):
        clock_time(bad)
