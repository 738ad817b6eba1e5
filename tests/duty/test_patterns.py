"""Shift patterns: the built-in rotations, their shifts' times, and the checks of custom ones."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jiaoxun.duty.patterns import Pattern, builtin_patterns, patterns_from_toml
from jiaoxun.errors import DataSourceError, InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANCHOR = date(2026, 12, 7)


def test_the_built_in_patterns_load() -> None:
    patterns = builtin_patterns()
    assert set(patterns) == {"4t3s", "4t2s", "cq3"}
    assert patterns["4t3s"].name_zh == "四班三运转"
    assert patterns["4t2s"].name_zh == "四班两倒"
    assert [s.code for s in patterns["cq3"].shifts] == ["A", "P", "N"]


def test_four_teams_three_shifts_share_every_shift_every_day() -> None:
    pattern = builtin_patterns()["4t3s"]
    assert (pattern.teams, len(pattern.cycle)) == (4, 8)
    for team in range(4):
        days = [ANCHOR + timedelta(days=i) for i in range(8)]
        counts = Counter(pattern.planned(team, day, ANCHOR) for day in days)
        assert counts == {"A": 2, "P": 2, "N": 2, "-": 2}
    # before the anchor too: the rotation runs both ways
    for i in range(-8, 16):
        day = ANCHOR + timedelta(days=i)
        entries = sorted(pattern.planned(team, day, ANCHOR) for team in range(4))
        assert entries == ["-", "A", "N", "P"], day


@pytest.mark.parametrize(
    ("code", "day_entries"),
    [("4t2s", ["-", "-", "D", "N"]), ("cq3", ["-", "A", "N", "P", "S"])],
)
def test_the_other_patterns_hold_each_shift_once_a_day(code: str, day_entries: list[str]) -> None:
    pattern = builtin_patterns()[code]
    for i in range(2 * len(pattern.cycle)):
        day = ANCHOR + timedelta(days=i)
        assert sorted(pattern.planned(t, day, ANCHOR) for t in range(pattern.teams)) == day_entries


@pytest.mark.parametrize("code", ["4t3s", "4t2s", "cq3"])
def test_every_built_in_rotation_leaves_16_hours_between_shifts(code: str) -> None:
    pattern = builtin_patterns()[code]
    shifts = {s.code: s for s in pattern.shifts}
    for team in range(pattern.teams):
        worked = []
        for i in range(3 * len(pattern.cycle)):
            day = ANCHOR + timedelta(days=i)
            entry = pattern.planned(team, day, ANCHOR)
            if entry in shifts:
                start = datetime.combine(day, shifts[entry].start, tzinfo=SHANGHAI)
                start = start.astimezone(UTC)
                worked.append((start, start + timedelta(hours=shifts[entry].hours)))
        gaps_h = [(b[0] - a[1]).total_seconds() / 3600 for a, b in pairwise(worked)]
        assert min(gaps_h) >= 16, (code, team)


def test_the_night_shift_starts_on_its_own_day_and_12_hour_nights_end_the_next() -> None:
    four_three = {s.code: s for s in builtin_patterns()["4t3s"].shifts}
    start, end = four_three["N"].bounds(date(2026, 12, 5), SHANGHAI)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-05T00:00:00+08:00",
        "2026-12-05T08:00:00+08:00",
    )
    assert [s.night for s in four_three.values()] == [False, False, True]  # A, P, N
    twelve = {s.code: s for s in builtin_patterns()["4t2s"].shifts}
    assert twelve["N"].bounds(date(2026, 12, 5), SHANGHAI)[1] == datetime(
        2026, 12, 6, 8, 0, tzinfo=SHANGHAI
    )
    assert [s.night for s in twelve.values()] == [False, True]  # D, N


def test_a_shift_over_a_clock_change_lasts_its_hours() -> None:
    # Berlin's clocks go from 02:00 to 03:00 on 2026-03-29: 8 h from midnight end at 09:00
    night = builtin_patterns()["4t3s"].shift("N")
    start, end = night.bounds(date(2026, 3, 29), ZoneInfo("Europe/Berlin"))
    assert end.hour == 9
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=8)


def custom(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "x2",
        "name_zh": "两班",
        "name_en": "Two shifts",
        "teams": 2,
        "cycle": ["D", "-"],
        "shifts": [{"code": "D", "name_zh": "日", "name_en": "Day", "start": "07:30", "hours": 9}],
    }
    return data | changes


def test_a_custom_pattern_reads_its_times_and_guesses_the_night() -> None:
    late = {"code": "L22", "name_zh": "夜", "name_en": "Late", "start": "22:00", "hours": 8}
    pattern = Pattern.from_dict(custom(shifts=[*custom()["shifts"], late], cycle=["D", "L22"]))
    day, late_shift = pattern.shifts
    assert (day.start, day.hours, day.night) == (time(7, 30), 9.0, False)
    assert late_shift.night  # 22:00-06:00 covers the small hours
    assert pattern.planned(1, ANCHOR, ANCHOR) == "L22"


@pytest.mark.parametrize("code", ["4t3s", "4t2s", "cq3"])
def test_as_dict_and_from_dict_round_trip(code: str) -> None:
    pattern = builtin_patterns()[code]
    data = json.loads(json.dumps(pattern.as_dict()))
    assert data["shifts"][0]["start"] == pattern.shifts[0].start.strftime("%H:%M")
    assert Pattern.from_dict(data) == pattern


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"cycle": ["D", "X"]}, "cycle entry 'X' is not a shift code"),
        ({"cycle": ["D", ["D"]]}, "cycle entry ['D'] is not a shift code"),
        ({"teams": 0}, "teams(=0) must be an integer >= 1"),
        ({"cycle": ["D", "-", "-"]}, "length(=3) must be divisible by teams(=2)"),
        (
            {"shifts": custom()["shifts"] * 2},
            "shift codes are unique, ['D'] repeat",
        ),
        ({"shifts": [custom()["shifts"][0] | {"hours": 3}]}, "hours(=3) must be in 4..16"),
        ({"shifts": [custom()["shifts"][0] | {"hours": 17}]}, "hours(=17) must be in 4..16"),
        ({"shifts": [custom()["shifts"][0] | {"code": "S"}]}, "shift code(='S')"),
        ({"shifts": [custom()["shifts"][0] | {"code": "day"}]}, "shift code(='day')"),
        ({"shifts": [custom()["shifts"][0] | {"start": "25:00"}]}, "start(='25:00') must be"),
        ({"shifts": []}, "shifts must not be empty"),
        ({"name_en": ""}, "name_en(='')"),
    ],
)
def test_from_dict_refuses_bad_data_naming_the_rule(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Pattern.from_dict(custom(**changes))
    assert words in str(refused.value)


def test_planned_refuses_a_team_outside_the_rotation() -> None:
    with pytest.raises(InvalidInput, match=r"team\(=4\) must be in 0..3"):
        builtin_patterns()["4t3s"].planned(4, ANCHOR, ANCHOR)


def test_a_bad_pattern_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "patterns.toml"
    path.write_text('[[pattern]]\ncode = "p"\nteams = 1\ncycle = ["Z"]\nshifts = []\n')
    with pytest.raises(DataSourceError, match=r"patterns\.toml: pattern p: shifts must not be"):
        patterns_from_toml(path)
