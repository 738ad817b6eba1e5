"""Local time in patrol duty: shifts that start at the same times every day, and the daily
duty windows of points and lines ("07:00"-"08:00")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def window_key(window: Sequence[str]) -> str:
    """The key of a duty window ["07:00", "08:00"]: "07:00-08:00"."""
    return f"{window[0]}-{window[1]}"


def parse_clock(value: str) -> time:
    """A local time of day "HH:MM"; `ValueError` naming the value otherwise."""
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"time of day {value!r} is not HH:MM") from None


def in_window(when: datetime, window: Sequence[str], tz: ZoneInfo) -> bool:
    """Whether `when` falls, in local time, within the daily window [start, end)."""
    clock = when.astimezone(tz).time()
    start, end = parse_clock(window[0]), parse_clock(window[1])
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # a window across midnight


@dataclass(frozen=True)
class ShiftClock:
    """Shifts that start at the same local times every day ("08:00", "20:00"): each lasts
    until the next start."""

    starts: tuple[time, ...]
    tz: ZoneInfo

    @classmethod
    def of(cls, starts: Sequence[str], tz: ZoneInfo) -> ShiftClock:
        if not starts:
            raise ValueError("a day needs at least one shift start")
        return cls(tuple(sorted({parse_clock(s) for s in starts})), tz)

    def shift_at(self, when: datetime) -> tuple[datetime, datetime]:
        """The shift [start, end) that `when` (aware) falls in."""
        day = when.astimezone(self.tz).date()
        starts = sorted(
            datetime.combine(day + timedelta(days=d), clock, tzinfo=self.tz).astimezone(UTC)
            for d in (-1, 0, 1)
            for clock in self.starts
        )
        i = max(k for k, start in enumerate(starts) if start <= when)
        return starts[i], starts[i + 1]
