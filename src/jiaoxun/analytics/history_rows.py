"""The rows of a simulated history: drawn with `analytics.history_draw`, placed on the city's
roads and zones, judged by the real 1-3-5 code, shaped as the tables' columns.

Incidents are located as intake locates them: snapped to the road network, their zone and
place class by the city's own rules (`CityContext.zone_at`, `place_class_at`); their priority
is their category's and their units the stored response plan's. Orders go to the city's real
units: after the reform the cars of the zone's kiosk first, then of the nearest other kiosks;
before it the few patrol cars of the simulator's `before` scenario, from their posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.analytics import history_draw as draw
from jiaoxun.analytics.history_draw import MAX_UNITS, Days, Floats, Ints
from jiaoxun.analytics.history_scenario import CALL_HOURS, Scenario
from jiaoxun.city.context import CityContext
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.snap import Snaps
from jiaoxun.incidents import reference
from jiaoxun.incidents.models import CategoryRow, Source
from jiaoxun.settings import Settings
from jiaoxun.sim.scenario import load_scenario
from jiaoxun.units.models import Unit

Row = dict[str, Any]
INVALID_CODE = "990000"  # an invalid call is filed under "other"
PHONE_PRIORITY = 4  # consultations, lost property, tip-offs: answered on the phone
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


def zones_at(city: CityContext, lon: Floats, lat: Floats) -> Ints:
    """`CityContext.zone_at` for many points: the index into `city.zones` of the zone whose
    polygon covers each point, else of the nearest one."""
    if not city.zones:
        raise InvalidInput("a simulated history needs a city with zones: build the city first")
    points = shapely.points(lon, lat)
    inside = np.stack([shapely.intersects(shape, points) for shape in city.zone_shapes])
    zone: Ints = np.argmax(inside, axis=0).astype(np.int64)
    outside = np.flatnonzero(~inside.any(axis=0))
    if len(outside):
        distance = np.stack(
            [shapely.distance(shape, points[outside]) for shape in city.zone_shapes]
        )
        zone[outside] = np.argmin(distance, axis=0)
    return zone


@dataclass
class Rows:
    """Rows to insert; children name their incident by its place in the insert order (the
    main incidents, then the merged duplicates), turned into ids once those are known."""

    batch: str
    incidents: list[Row] = field(default_factory=list)
    duplicates: list[tuple[int, Row]] = field(default_factory=list)  # (main's place, row)
    orders: list[tuple[int, Row]] = field(default_factory=list)
    verdicts: list[tuple[int, Row]] = field(default_factory=list)
    activities: list[Row] = field(default_factory=list)
    recognitions: list[tuple[int | None, Row]] = field(default_factory=list)
    invalid: int = 0

    def count(self) -> int:
        return (
            len(self.incidents)
            + len(self.duplicates)
            + len(self.orders)
            + len(self.verdicts)
            + len(self.activities)
            + len(self.recognitions)
        )

    def link_duplicates(self, ids: list[int]) -> list[Row]:
        return [{**row, "main_incident_id": ids[main]} for main, row in self.duplicates]

    def orders_for(self, ids: list[int]) -> list[Row]:
        return [{**row, "incident_id": ids[place]} for place, row in self.orders]

    def verdicts_for(self, ids: list[int]) -> list[Row]:
        return [{**row, "incident_id": ids[place]} for place, row in self.verdicts]

    def recognitions_for(self, ids: list[int]) -> list[Row]:
        return [
            {**row, "incident_id": ids[place] if place is not None else None}
            for place, row in self.recognitions
        ]


@dataclass(frozen=True)
class Calls:
    """Every call drawn, sorted by time, placed on the roads."""

    call_s: Floats
    code: list[str]
    invalid: np.ndarray
    snaps: Snaps
    zone: Ints  # index into city.zones
    road: list[str]


@dataclass(frozen=True)
class Deployment:
    """The city's units as each period answers with them."""

    zone_units: list[Ints]  # the cars of each zone (index into city.zones)
    kiosks: Snaps
    posts: Snaps  # the patrol cars' posts before the reform
    post_units: Ints


def deployment_of(session: Session, city: CityContext) -> Deployment:
    units = session.execute(select(Unit.id, Unit.zone_id).order_by(Unit.call_sign)).all()
    place = {z.id: i for i, z in enumerate(city.zones)}
    zone_units = [
        np.array([u for u, z in units if z is not None and place.get(z) == i], dtype=np.int64)
        for i in range(len(city.zones))
    ]
    if any(z.kiosk_lon is None or z.kiosk_lat is None for z in city.zones):
        raise InvalidInput("a simulated history needs a kiosk in every zone")
    if not any(len(u) for u in zone_units):
        raise InvalidInput("a simulated history needs units: the city has none")
    tt = city.travel_times
    kiosks = tt.snap_many(
        np.array([z.kiosk_lon for z in city.zones], dtype=np.float64),
        np.array([z.kiosk_lat for z in city.zones], dtype=np.float64),
    )
    # before: the simulator's three patrol cars at their posts, where the city has those roads
    cars = load_scenario("before").patrol_cars
    posts = tt.snap_many(
        np.array([c[0] for c in cars]), np.array([c[1] for c in cars]), strict=False
    )
    if (posts.distance_m > tt.snapper.max_snap_m).any():
        posts = Snaps.of([kiosks[i] for i in range(min(3, len(kiosks)))])
    post_zone = zones_at(city, posts.lon, posts.lat)
    post_units, taken = [], set()
    for z in post_zone:
        spare = [int(u) for u in zone_units[z] if int(u) not in taken] or [
            int(u) for zone in zone_units for u in zone if int(u) not in taken
        ]
        post_units.append(spare[0])
        taken.add(spare[0])
    return Deployment(zone_units, kiosks, posts, np.array(post_units, dtype=np.int64))


def calls_of(rng: np.random.Generator, city: CityContext, scenario: Scenario, days: Days) -> Calls:
    codes = sorted(set(scenario.before_per_day) | set(scenario.after_per_day))
    before = np.array([scenario.before_per_day.get(c, 0.0) for c in codes])
    after = np.array([scenario.after_per_day.get(c, 0.0) for c in codes])
    valid_s, which = draw.draw_categories(rng, days, before=before, after=after, hours=CALL_HOURS)
    invalid_rate = np.where(days.after, after.sum(), before.sum()) * scenario.invalid_share
    invalid_s = draw.draw_times(rng, days, invalid_rate, CALL_HOURS)
    call_s = np.concatenate([valid_s, invalid_s])
    code = [codes[i] for i in which] + [INVALID_CODE] * len(invalid_s)
    invalid = np.concatenate([np.zeros(len(valid_s), bool), np.ones(len(invalid_s), bool)])
    order = np.argsort(call_s, kind="stable")
    net = city.travel_times.network
    points = draw.draw_points(rng, net, len(call_s), segments=draw.road_segments(net))
    snaps = city.travel_times.snap_many(points.lon, points.lat)
    road = [net.names[k] if k >= 0 else "" for k in net.edge_name[points.edge]]
    return Calls(
        call_s=call_s[order],
        code=[code[i] for i in order],
        invalid=invalid[order],
        snaps=take(snaps, order),
        zone=zones_at(city, snaps.lon[order], snaps.lat[order]),
        road=[road[i] for i in order],
    )


def take(snaps: Snaps, index: Ints) -> Snaps:
    return Snaps(
        snaps.edge[index],
        snaps.fraction[index],
        snaps.distance_m[index],
        snaps.lon[index],
        snaps.lat[index],
    )


def responders_of(
    rng: np.random.Generator,
    city: CityContext,
    settings: Settings,
    deployment: Deployment,
    *,
    calls: Calls,
    index: Ints,
    after: np.ndarray,
    required: Ints,
    distinct: np.ndarray,
    patrol_share: float,
) -> draw.Responders:
    """The units of the dispatched calls `index`: from the kiosks after, from the posts before."""
    tt = city.travel_times
    unit = np.full((len(index), MAX_UNITS), -1, dtype=np.int64)
    travel = np.full((len(index), MAX_UNITS), np.nan)
    turnout = np.zeros((len(index), MAX_UNITS))
    for is_after in (False, True):
        part = np.flatnonzero(after[index] == is_after)
        if not len(part):
            continue
        scenes = take(calls.snaps, index[part])
        if is_after:
            from_kiosks = np.stack(
                [tt.times_from(deployment.kiosks[z], scenes) for z in range(len(deployment.kiosks))]
            )
            got = draw.kiosk_responders(
                rng,
                incident_zone=calls.zone[index[part]],
                required=required[index[part]],
                distinct_zones=distinct[index[part]],
                kiosk_travel_s=from_kiosks,
                zone_units=deployment.zone_units,
                kiosk_turnout_s=settings.turnout_s.get("at_kiosk", 60.0),
                patrol_turnout_s=settings.turnout_s.get("available", 15.0),
                patrol_share=patrol_share,
            )
        else:
            from_posts = np.stack(
                [tt.times_from(deployment.posts[p], scenes) for p in range(len(deployment.posts))]
            )
            got = draw.post_responders(
                required=required[index[part]],
                post_travel_s=from_posts,
                post_units=deployment.post_units,
                turnout_s=settings.turnout_s.get("available", 15.0),
            )
        unit[part], travel[part], turnout[part] = got.unit, got.travel_s, got.turnout_s
    unreachable = ~np.isfinite(travel)
    unit[unreachable] = -1
    travel[unreachable] = np.nan
    return draw.Responders(unit=unit, travel_s=travel, turnout_s=turnout)


@dataclass(frozen=True)
class Plans:
    priority: Ints
    required: Ints
    distinct: np.ndarray


def plans_of(session: Session, codes: list[str]) -> Plans:
    """Each call's priority (its category's, as stored) and response plan (as stored)."""
    rows = session.execute(select(CategoryRow.code, CategoryRow.priority))
    stored: dict[str, int] = dict(rows.all())
    missing = sorted(set(codes) - set(stored))
    if missing:
        raise InvalidInput(
            f"categories {', '.join(missing)} are not in the database: seed the reference data"
            " (jiaoxun serve does) before simulating a history"
        )
    plans = {
        code: reference.response_plan(session, code=code, priority=stored[code])
        for code in set(codes)
    }
    return Plans(
        priority=np.array([stored[c] for c in codes], dtype=np.int64),
        required=np.array([plans[c].units for c in codes], dtype=np.int64),
        distinct=np.array([plans[c].distinct_zones for c in codes], dtype=bool),
    )


def sources_of(rng: np.random.Generator, codes: list[str]) -> list[Source]:
    draws = rng.random(len(codes))
    out = []
    for code, u in zip(codes, draws, strict=True):
        if u > 0.98:
            out.append(Source.WALK_IN)
        elif code.startswith("03") and u < 0.5:
            out.append(Source.TRAFFIC_122)
        elif code[:2] in ("06", "09") and u < 0.5:
            out.append(Source.HOTLINE_12345)
        else:
            out.append(Source.POLICE_110)
    return out


def callers_of(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    surname = rng.integers(0, len(_SURNAMES), size=n)
    title = rng.random(n)
    digits = rng.integers(0, 10**9, size=n)
    return [
        (
            "" if t > 0.7 else _SURNAMES[s] + ("先生" if t < 0.35 else "女士"),
            f"13{d:09d}",
        )
        for s, t, d in zip(surname, title, digits, strict=True)
    ]
