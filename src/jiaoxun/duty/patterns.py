"""Shift patterns as data: the shifts of a day and the rotation the teams follow through them.

A pattern is to a force what a timetable is to a railway: the shifts are the trains (each with
its departure and its running time), the cycle is the rota one crew rides day after day, and the
other teams ride the same rota a few days behind, so that every train has a crew every day. In
四班三运转 four teams turn through a morning, an afternoon and a night shift in an 8-day cycle; on
any day three teams work and one rests.

A cycle entry is a shift code, ``S`` (standby: a working day without a post, on call for patrol
or reserve) or ``-`` (rest). The built-in patterns are in ``jiaoxun/data/duty/patterns.toml``;
custom ones come through `Pattern.from_dict`, checked by the same rules.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jiaoxun.data import PACKAGE_DATA
from jiaoxun.errors import DataSourceError, InvalidInput

PATTERNS = PACKAGE_DATA / "duty" / "patterns.toml"
STANDBY = "S"
REST = "-"
MIN_SHIFT_HOURS = 4.0
MAX_SHIFT_HOURS = 16.0
_CODE = re.compile(r"[A-Z0-9]{1,4}")
# a shift that covers part of 00:00-05:00 is a night shift unless its data says otherwise
_SMALL_HOURS_END_H = 5.0


@dataclass(frozen=True)
class ShiftType:
    """One shift of the day: its code, names, local start and length in hours."""

    code: str
    name_zh: str
    name_en: str
    start: time
    hours: float
    night: bool

    def bounds(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Aware start and end of this shift on `day` (the end may fall on the next day)."""
        start = datetime.combine(day, self.start, tzinfo=tz)
        end = (start.astimezone(UTC) + timedelta(hours=self.hours)).astimezone(tz)
        return start, end


def covers_small_hours(start: time, hours: float) -> bool:
    """Whether a shift starting at `start` for `hours` covers part of 00:00-05:00."""
    begin_h = start.hour + start.minute / 60
    end_h = begin_h + hours
    return begin_h < _SMALL_HOURS_END_H or end_h > 24.0


@dataclass(frozen=True)
class Pattern:
    """The shifts, the number of teams and the cycle of team 0 (one entry per day).

    Team k rides the cycle ``k * len(cycle) // teams`` days behind team 0, which starts it on
    the anchor day.
    """

    code: str
    name_zh: str
    name_en: str
    shifts: tuple[ShiftType, ...]
    teams: int
    cycle: tuple[str, ...]

    @property
    def step_days(self) -> int:
        """Days between one team's cycle and the next one's."""
        return len(self.cycle) // self.teams

    def shift(self, code: str) -> ShiftType:
        for shift in self.shifts:
            if shift.code == code:
                return shift
        codes = [s.code for s in self.shifts]
        raise InvalidInput(f"shift {code!r} is not one of pattern {self.code}'s shifts {codes}")

    def planned(self, team: int, day: date, anchor: date) -> str:
        """The cycle's entry for `team` on `day`: a shift code, ``S`` or ``-``."""
        if not 0 <= team < self.teams:
            raise InvalidInput(f"team(={team}) must be in 0..{self.teams - 1} for {self.code}")
        offset = (day - anchor).days - team * self.step_days
        return self.cycle[offset % len(self.cycle)]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pattern:
        """A pattern from plain data (as `as_dict` gives it), checked.

        Raises
        ------
        InvalidInput
            Naming the rule and the value: a shift code twice or not [A-Z0-9]{1,4}, hours out of
            4..16, teams < 1, a cycle entry that is no shift, a cycle not divisible by teams.
        """
        code = _text(data, "code", "pattern")
        shifts = tuple(_shift_from_dict(raw, code) for raw in _list(data, "shifts", code))
        if not shifts:
            raise InvalidInput(f"pattern {code}: shifts must not be empty")
        codes = [s.code for s in shifts]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise InvalidInput(f"pattern {code}: shift codes are unique, {repeated} repeat")
        teams = data.get("teams")
        if not isinstance(teams, int) or isinstance(teams, bool) or teams < 1:
            raise InvalidInput(f"pattern {code}: teams(={teams!r}) must be an integer >= 1")
        cycle = tuple(_list(data, "cycle", code))
        if not cycle:
            raise InvalidInput(f"pattern {code}: cycle must not be empty")
        allowed = {*codes, STANDBY, REST}
        for entry in cycle:
            if not isinstance(entry, str) or entry not in allowed:
                raise InvalidInput(
                    f"pattern {code}: cycle entry {entry!r} is not a shift code {codes}, "
                    f"{STANDBY!r} (standby) or {REST!r} (rest)"
                )
        if len(cycle) % teams:
            raise InvalidInput(
                f"pattern {code}: the cycle's length(={len(cycle)}) must be divisible by "
                f"teams(={teams})"
            )
        return cls(
            code=code,
            name_zh=_text(data, "name_zh", code),
            name_en=_text(data, "name_en", code),
            shifts=shifts,
            teams=teams,
            cycle=cycle,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data (times as "HH:MM"); `from_dict` reads it back."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "teams": self.teams,
            "cycle": list(self.cycle),
            "shifts": [
                {
                    "code": s.code,
                    "name_zh": s.name_zh,
                    "name_en": s.name_en,
                    "start": s.start.strftime("%H:%M"),
                    "hours": s.hours,
                    "night": s.night,
                }
                for s in self.shifts
            ],
        }


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: {key}(={value!r}) must be a non-empty text")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"pattern {where}: {key}(={value!r}) must be a list")
    return list(value)


def _shift_from_dict(raw: Any, pattern: str) -> ShiftType:
    if not isinstance(raw, dict):
        raise InvalidInput(f"pattern {pattern}: a shift(={raw!r}) must be a table")
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code) or code == STANDBY:
        raise InvalidInput(
            f"pattern {pattern}: shift code(={code!r}) must be 1-4 of A-Z, 0-9 and not "
            f"{STANDBY!r} (standby)"
        )
    where = f"pattern {pattern} shift {code}"
    start = raw.get("start")
    if isinstance(start, str):
        try:
            start = time.fromisoformat(start)
        except ValueError:
            raise InvalidInput(f"{where}: start(={start!r}) must be HH:MM") from None
    if not isinstance(start, time):
        raise InvalidInput(f"{where}: start(={start!r}) must be HH:MM")
    hours = raw.get("hours")
    if (
        not isinstance(hours, int | float)
        or isinstance(hours, bool)
        or not MIN_SHIFT_HOURS <= hours <= MAX_SHIFT_HOURS
    ):
        raise InvalidInput(
            f"{where}: hours(={hours!r}) must be in {MIN_SHIFT_HOURS:g}..{MAX_SHIFT_HOURS:g}"
        )
    night = raw.get("night", covers_small_hours(start, float(hours)))
    if not isinstance(night, bool):
        raise InvalidInput(f"{where}: night(={night!r}) must be true or false")
    return ShiftType(
        code=code,
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        start=start.replace(second=0, microsecond=0),
        hours=float(hours),
        night=night,
    )


def patterns_from_toml(path: Path = PATTERNS) -> dict[str, Pattern]:
    """The patterns of a TOML file (``[[pattern]]`` tables), by code.

    Raises
    ------
    DataSourceError
        For a file that cannot be read, a pattern that breaks a rule, or a code twice.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataSourceError(f"the shift patterns {path} cannot be read: {exc}") from exc
    patterns: dict[str, Pattern] = {}
    for raw in data.get("pattern", []):
        try:
            pattern = Pattern.from_dict(raw)
        except InvalidInput as exc:
            raise DataSourceError(f"{path}: {exc}") from None
        if pattern.code in patterns:
            raise DataSourceError(f"{path}: pattern codes are unique, {pattern.code} repeats")
        patterns[pattern.code] = pattern
    return patterns


def builtin_patterns() -> dict[str, Pattern]:
    """The shipped patterns (四班三运转, 四班两倒, Chongqing-style), by code."""
    return patterns_from_toml(PATTERNS)
