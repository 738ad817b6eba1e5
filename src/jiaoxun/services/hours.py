"""Opening hours and the appointment slots in them: the pure core.

A kiosk's day is a workday, a rest day or a statutory holiday (the calendar decides, make-up
working days included). Its windows are the rows of the most specific scope that has any for
that kind of day: the kiosk's own rows for the service, else the kiosk's rows for every service,
else every kiosk's rows for the service, else the city's default. A window is cut into slots as
long as the service takes; a slot that would run past the window's end is not offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jiaoxun.analytics.calendar import Day
from jiaoxun.errors import InvalidInput
from jiaoxun.services.models import DayKind


@dataclass(frozen=True)
class Rule:
    """One row of the opening hours: `None` for a kiosk or service means every one."""

    kiosk_id: int | None
    service_id: int | None
    day_kind: DayKind
    starts: time
    ends: time
    after_hours: bool
    capacity: int


@dataclass(frozen=True)
class Window:
    starts: time
    ends: time
    after_hours: bool
    capacity: int


@dataclass(frozen=True)
class SlotTime:
    """One appointment slot: its UTC bounds, its local time of day, and its places."""

    starts_at: datetime
    ends_at: datetime
    local_time: str
    after_hours: bool
    capacity: int


def clock_time(value: str) -> time:
    """A local time of day "HH:MM" (00:00 to 24:00, the end of the day).

    Raises
    ------
    InvalidInput
        For anything else.
    """
    if value == "24:00":
        return time.max
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise InvalidInput(f"a time of day is HH:MM (00:00 to 24:00), got {value!r}")
    return time(int(value[:2]), int(value[3:]))


def day_kind_of(day: Day) -> DayKind:
    if day.holiday is not None and not day.workday:
        return DayKind.HOLIDAY
    return DayKind.WORKDAY if day.workday else DayKind.RESTDAY


def windows_for(
    rules: Iterable[Rule], *, kiosk_id: int, service_id: int, day_kind: DayKind
) -> list[Window]:
    """The windows of a service at a kiosk on a kind of day, from the most specific scope."""
    scopes: dict[tuple[bool, bool], list[Rule]] = {}
    for rule in rules:
        if rule.day_kind is not day_kind:
            continue
        if rule.kiosk_id not in (None, kiosk_id) or rule.service_id not in (None, service_id):
            continue
        scopes.setdefault((rule.kiosk_id is not None, rule.service_id is not None), []).append(rule)
    for scope in ((True, True), (True, False), (False, True), (False, False)):
        if scope in scopes:
            chosen = sorted(scopes[scope], key=lambda r: r.starts)
            return [Window(r.starts, r.ends, r.after_hours, r.capacity) for r in chosen]
    return []


def slots_of(windows: Sequence[Window], *, day: date, minutes: int, tz: ZoneInfo) -> list[SlotTime]:
    """The slots of `minutes` each in the windows of a local `day`, in order."""
    if minutes < 1:
        raise InvalidInput(f"a slot lasts at least a minute, got {minutes}")
    step = timedelta(minutes=minutes)
    slots = []
    for window in windows:
        start = datetime.combine(day, window.starts, tzinfo=tz)
        end = (
            datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
            if window.ends == time.max
            else datetime.combine(day, window.ends, tzinfo=tz)
        )
        while start + step <= end:
            slots.append(
                SlotTime(
                    start.astimezone(UTC),
                    (start + step).astimezone(UTC),
                    start.strftime("%H:%M"),
                    window.after_hours,
                    window.capacity,
                )
            )
            start += step
    return slots
