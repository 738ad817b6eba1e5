"""The street work of a simulated history, as rows: violations dealt with, help given, stops
and checks (activities), and the good deeds, banners and letters of thanks after the reform
(recognitions). Each is recorded by a real unit, at a point on the roads of its zone."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np

from jiaoxun.activities.models import ActivityKind, Assistance, StopCheckResult, Violation
from jiaoxun.analytics import history_draw as draw
from jiaoxun.analytics.history_draw import Days
from jiaoxun.analytics.history_incidents import utc
from jiaoxun.analytics.history_rows import Deployment, Row, Rows, zones_at
from jiaoxun.analytics.history_scenario import STREET_HOURS, Scenario
from jiaoxun.analytics.models import RecognitionKind
from jiaoxun.city.context import CityContext
from jiaoxun.incidents.models import SIMULATED

#: plates of the city (吉G: 白城) use letters but I and O, and digits
PLATE_PREFIX = "吉G"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_VIOLATIONS: Mapping[StrEnum, float] = {
    Violation.ILLEGAL_PARKING: 0.35,
    Violation.NO_SEATBELT: 0.15,
    Violation.RED_LIGHT: 0.10,
    Violation.WRONG_WAY: 0.08,
    Violation.PHONE_USE: 0.10,
    Violation.LANE_VIOLATION: 0.12,
    Violation.SPEEDING: 0.05,
    Violation.OTHER: 0.05,
}
_ASSISTANCE: Mapping[StrEnum, float] = {
    Assistance.DIRECTIONS: 0.35,
    Assistance.BREAKDOWN: 0.25,
    Assistance.MEDICAL: 0.15,
    Assistance.MISSING_PERSON: 0.05,
    Assistance.OTHER: 0.20,
}
_RESULTS: Mapping[StrEnum, float] = {
    StopCheckResult.CLEARED: 0.9,
    StopCheckResult.FURTHER_CHECK: 0.08,
    StopCheckResult.TAKEN_IN: 0.02,
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_BANNERS = ("人民卫士 为民解忧", "执法为民 情系百姓", "警民鱼水情", "危难之中显身手")
_DEEDS = ("护送迷路老人回家", "帮助抛锚车辆推离路口", "拾金不昧归还钱包", "护送学生过马路")


def _pick(rng: np.random.Generator, shares: Mapping[StrEnum, float], n: int) -> list[str]:
    codes = list(shares)
    p = np.array([shares[c] for c in codes])
    return [codes[i].value for i in rng.choice(len(codes), size=n, p=p / p.sum())]


def _plates(rng: np.random.Generator, n: int) -> list[str]:
    chars = rng.integers(0, len(_PLATE_CHARS), size=(n, 5))
    return [PLATE_PREFIX + "".join(_PLATE_CHARS[c] for c in row) for row in chars]


def _details(rng: np.random.Generator, kind: ActivityKind, n: int) -> list[dict[str, object]]:
    """What the officer's form stores for each kind (the keys of `activities.schemas`)."""
    if kind is ActivityKind.VIOLATION:
        return [
            {"note": "", "plate": plate, "violation": code}
            for plate, code in zip(_plates(rng, n), _pick(rng, _VIOLATIONS, n), strict=True)
        ]
    if kind is ActivityKind.ASSISTANCE:
        helped = rng.integers(1, 4, size=n)
        return [
            {"note": "", "assistance": code, "people_helped": int(k)}
            for code, k in zip(_pick(rng, _ASSISTANCE, n), helped, strict=True)
        ]
    persons = rng.integers(0, 3, size=n)
    vehicles = (rng.random(n) < 0.5).astype(int)
    persons = np.where(persons + vehicles == 0, 1, persons)
    return [
        {"note": "", "persons": int(p), "vehicles": int(v), "plate": None, "result": r}
        for p, v, r in zip(persons, vehicles, _pick(rng, _RESULTS, n), strict=True)
    ]


def add_activities(
    rows: Rows,
    city: CityContext,
    *,
    scenario: Scenario,
    rng: np.random.Generator,
    days: Days,
    deployment: Deployment,
) -> None:
    """Violations, help and checks a day as the scenario says, by day mostly, each by a car of
    the zone it happened in."""
    net = city.travel_times.network
    segments = draw.road_segments(net)
    by = f"{SIMULATED}:{rows.batch}"
    kinds = (
        (ActivityKind.VIOLATION, scenario.violations_per_day),
        (ActivityKind.ASSISTANCE, scenario.assists_per_day),
        (ActivityKind.STOP_CHECK, scenario.stop_checks_per_day),
    )
    for kind, (before, after) in kinds:
        times = draw.draw_times(rng, days, np.where(days.after, after, before), STREET_HOURS)
        points = draw.draw_points(rng, net, len(times), segments=segments)
        zone = zones_at(city, points.lon, points.lat)
        pick = rng.random(len(times))
        details = _details(rng, kind, len(times))
        for k, at_s in enumerate(times):
            cars = deployment.zone_units[zone[k]]
            if not len(cars):
                continue
            row: Row = {
                "kind": kind,
                "unit_id": int(cars[int(pick[k] * len(cars))]),
                "zone_id": city.zones[zone[k]].id,
                "recorded_by": by,
                "at": utc(at_s),
                "lon": float(points.lon[k]),
                "lat": float(points.lat[k]),
                "details": details[k],
            }
            rows.activities.append(row)


def add_recognitions(
    rows: Rows, *, scenario: Scenario, rng: np.random.Generator, days: Days, now_s: float
) -> None:
    """After the reform: good deeds by a car on the street, banners and letters of thanks for
    an incident handled (some days after it was closed)."""
    by = f"{SIMULATED}:{rows.batch}"
    handled = [
        (place, row["closed_at"].timestamp(), row["zone_id"])
        for place, row in enumerate(rows.incidents)
        if row["outcome_code"] == "handled" and days_after(days, row["call_at"].timestamp())
    ]
    units = {place: o["unit_id"] for place, o in reversed(rows.orders)}
    last_s = min(now_s, float(days.midnight_s[-1]) + 86_400.0) - 60.0
    kinds = (
        (RecognitionKind.GOOD_DEED, scenario.good_deeds_per_day),
        (RecognitionKind.BANNER, scenario.banners_per_day),
        (RecognitionKind.LETTER, scenario.letters_per_day),
    )
    for kind, rate in kinds:
        times = draw.draw_times(rng, days, np.where(days.after, rate, 0.0), STREET_HOURS)
        which = rng.integers(0, max(len(handled), 1), size=len(times))
        giver = rng.integers(0, len(_SURNAMES), size=len(times))
        words = rng.integers(0, len(_BANNERS), size=len(times))
        for k, at_s in enumerate(times):
            if not handled:
                break
            place, closed_s, zone_id = handled[int(which[k])]
            if kind is RecognitionKind.GOOD_DEED:
                text, incident, giver_name = _DEEDS[int(words[k])], None, ""
            else:
                text, incident = _BANNERS[int(words[k])], place
                giver_name = f"群众{_SURNAMES[int(giver[k])]}某"
                at_s = min(max(at_s, closed_s + 86_400.0), last_s)
            rows.recognitions.append(
                (
                    incident,
                    {
                        "kind": kind,
                        "at": utc(at_s),
                        "zone_id": zone_id,
                        "unit_id": units.get(place),
                        "giver": giver_name,
                        "text": text,
                        "recorded_by": by,
                    },
                )
            )


def days_after(days: Days, at_s: float) -> bool:
    """Whether `at_s` falls on a day after the reform."""
    day = int(np.searchsorted(days.midnight_s, at_s, side="right")) - 1
    return bool(days.after[max(day, 0)])
