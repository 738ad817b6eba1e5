"""The ETA report on a replayed morning: speeds learned from one Monday's tracks time the
next Monday's dispatches better than the class table.

The truth is a city whose main roads crawl at rush hour: 45 % of the class speed from 07:00 to
09:00, 75 % after; side streets at 80 % all morning. Cars drive the fastest routes of the truth
from place to place, sending a fix every second with 5 m of GPS noise, snapped to the roads as
the pipeline snaps them. Each trip of the second Monday is a dispatch order: issued where the
car stood, forecast by the class table, proved arrived by GPS when the car got there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from jiaoxun.data import DEMO_PBF
from jiaoxun.eta.service import eta_report
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.speeds import (
    HOURS_OF_WEEK,
    LearnedSpeeds,
    network_fingerprint,
    network_with_speeds,
)
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.models import DispatchOrder, Incident, Source
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.tracking.models import TrackPoint
from jiaoxun.tracking.speeds import learn_from_tracks
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_7 = datetime(2026, 11, 2, 7, tzinfo=SHANGHAI)
MORNING_S = 3 * 3600


def truth_speeds(net: RoadNetwork) -> LearnedSpeeds:
    """The speeds the city is really driven at (see the module)."""
    main = net.edge_speed_kph >= 40
    factor = np.full((net.n_edges, HOURS_OF_WEEK), 0.8)
    for hour in range(HOURS_OF_WEEK):
        rush = hour % 24 in (7, 8) and hour < 5 * 24  # weekdays
        factor[main, hour] = 0.45 if rush else 0.75
    kph = net.edge_speed_kph[:, np.newaxis] * factor
    return LearnedSpeeds(network_fingerprint(net), kph, np.zeros_like(kph))


@dataclass
class Trip:
    start: datetime
    origin: Snap
    target: Snap
    driven_s: float


def point_along(net: RoadNetwork, edge: int, fractions: np.ndarray) -> np.ndarray:
    """Longitude and latitude of `fractions` of the length of `edge`, (n, 2)."""
    coords = net.edge_coords(edge)
    step = np.hypot(*np.diff(coords * [np.cos(np.radians(coords[0, 1])), 1.0], axis=0).T)
    at = np.concatenate([[0.0], np.cumsum(step)]) / max(step.sum(), 1e-12)
    return np.column_stack([np.interp(fractions, at, coords[:, i]) for i in (0, 1)])


def drive_morning(
    truth: Traffic, rng: np.random.Generator, start: datetime, cars: int
) -> tuple[dict[str, list], list[tuple[int, Trip]]]:
    """Each car drives the truth's fastest route to a random node, and again, for the morning:
    its 1 Hz fixes (true position plus 5 m noise) and its trips."""
    net = truth.base.network
    fixes: dict[str, list] = {"car": [], "at_s": [], "lon": [], "lat": []}
    trips: list[tuple[int, Trip]] = []
    t0 = start.timestamp()
    for car in range(cars):
        here = truth.base.snap(*net_node(net, rng))
        clock = 0.0
        while clock < MORNING_S:
            now = start + timedelta(seconds=clock)
            driving = truth.at(now)
            there = truth.base.snap(*net_node(net, rng))
            route = driving.route(here, there)
            if len(route.edges) < 3 or not np.isfinite(route.travel_time_s):
                continue
            piece_s = driving.network.edge_travel_time_s[list(route.edges)]
            ends = np.concatenate([[0.0], np.cumsum(piece_s)])
            seconds = np.arange(0.0, ends[-1], 1.0)
            which = np.searchsorted(ends, seconds, side="right") - 1
            for k, edge in enumerate(route.edges):
                mine = seconds[which == k]
                if len(mine):
                    fraction = (mine - ends[k]) / piece_s[k]
                    xy = point_along(net, edge, fraction)
                    fixes["lon"].append(xy[:, 0])
                    fixes["lat"].append(xy[:, 1])
                    fixes["at_s"].append(t0 + clock + mine)
                    fixes["car"].append(np.full(len(mine), car))
            trips.append((car, Trip(now, here, there, float(ends[-1]))))
            clock += np.ceil(ends[-1])
            here = there
    columns = {k: np.concatenate(v) for k, v in fixes.items()}
    noise_deg = rng.normal(0, 5.0, (2, len(columns["lon"]))) / 111_000
    columns["lon"] = columns["lon"] + noise_deg[0] / np.cos(np.radians(columns["lat"]))
    columns["lat"] = columns["lat"] + noise_deg[1]
    return columns, trips


def net_node(net: RoadNetwork, rng: np.random.Generator) -> tuple[float, float]:
    node = int(rng.integers(net.n_nodes))
    return float(net.node_lon[node]), float(net.node_lat[node])


def store_tracks(session: Session, base: TravelTimes, fixes: dict, units: list[Unit]) -> None:
    """The fixes snapped to the roads, as the pipeline stores them."""
    snaps = base.snap_many(fixes["lon"], fixes["lat"], strict=False)
    rows = [
        {
            "device_id": f"car-{car}",
            "unit_id": units[car].id,
            "at": datetime.fromtimestamp(at_s, UTC),
            "lon": lon,
            "lat": lat,
            "edge": edge,
            "fraction": fraction,
            "zone": "",
            "source": "replay",
        }
        for car, at_s, lon, lat, edge, fraction in zip(
            fixes["car"].tolist(),
            fixes["at_s"].tolist(),
            fixes["lon"].tolist(),
            fixes["lat"].tolist(),
            snaps.edge.tolist(),
            snaps.fraction.tolist(),
            strict=True,
        )
    ]
    for start in range(0, len(rows), 20_000):
        session.execute(insert(TrackPoint), rows[start : start + 20_000])


def store_orders(
    session: Session, base: TravelTimes, trips: list[tuple[int, Trip]], units: list[Unit]
) -> None:
    """Each trip as a dispatch order, forecast by the class table, arrived by GPS."""
    for i, (car, trip) in enumerate(trips):
        incident = Incident(
            number=f"R{i:04d}",
            source=Source.POLICE_110,
            lon=trip.target.lon,
            lat=trip.target.lat,
            category_code="050200",
            priority=3,
            state=IncidentState.CLOSED,
            created_by="test",
            call_at=trip.start,
        )
        session.add(incident)
        session.flush()
        eta_s = float(base.times_from(trip.origin, Snaps.of([trip.target]))[0])
        session.add(
            DispatchOrder(
                incident_id=incident.id,
                unit_id=units[car].id,
                state=OrderState.DONE,
                eta_s=eta_s,
                issued_by="test",
                issued_at=trip.start,
                gps_arrived_at=trip.start + timedelta(seconds=trip.driven_s),
            )
        )
    session.flush()


@pytest.fixture(scope="module")
def demo() -> TravelTimes:
    return TravelTimes(network_from_pbf(DEMO_PBF))


def test_learned_speeds_beat_the_class_table_on_a_replayed_morning(
    session: Session, demo: TravelTimes
) -> None:
    seed_reference(session)
    rng = np.random.default_rng(20261102)
    truth = Traffic(demo, truth_speeds(demo.network), tz=SHANGHAI)
    units = [Unit(call_sign=f"R-{i}", status=UnitStatus.AVAILABLE) for i in range(12)]
    session.add_all(units)
    session.flush()
    learned_from, _ = drive_morning(truth, rng, MONDAY_7, cars=8)
    store_tracks(session, demo, learned_from, units)
    next_monday = MONDAY_7 + timedelta(days=7)
    judged, trips = drive_morning(truth, rng, next_monday, cars=4)
    judged["car"] = judged["car"] + 8
    store_tracks(session, demo, judged, units)
    store_orders(session, demo, [(car + 8, trip) for car, trip in trips], units)

    speeds, read = learn_from_tracks(
        session, network=demo.network, since=MONDAY_7, until=next_monday, tz=SHANGHAI
    )
    assert read == len(learned_from["at_s"])  # the second Monday is not learned from
    learned = Traffic(demo, speeds, tz=SHANGHAI)
    week = TravelTimes(network_with_speeds(demo.network, speeds), snapper=demo.snapper)
    report = eta_report(
        session,
        since=next_monday,
        until=next_monday + timedelta(hours=4),
        replay_with={
            "class table": lambda _: demo,
            "learned speeds": learned.at,
            "learned, week average": lambda _: week,
        },
    )
    class_table = report.replayed["class table"]
    hourly = report.replayed["learned speeds"]
    averaged = report.replayed["learned, week average"]
    assert report.stored.count == hourly.count == len(trips) > 40
    # the replayed class table is the stored forecast, the car's fix at the order snapped again
    stored_median = report.stored.median_abs_error_s
    assert class_table.median_abs_error_s == pytest.approx(stored_median, rel=0.1)
    assert class_table.bias_s < -60  # main roads crawl: the class table is optimistic
    assert hourly.median_abs_error_s < 0.25 * class_table.median_abs_error_s
    assert hourly.p90_abs_error_s < 0.25 * class_table.p90_abs_error_s
    assert abs(hourly.bias_s) < 0.5 * abs(class_table.bias_s)
    # the hour matters: the week's average pace learns rush hour and after as one
    assert hourly.median_abs_error_s < averaged.median_abs_error_s
