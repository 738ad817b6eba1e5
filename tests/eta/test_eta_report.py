"""The ETA report on stored orders: the stored forecast and the trips timed again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from jiaoxun.data import DEMO_PBF
from jiaoxun.eta.service import eta_report
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.models import DispatchOrder, Incident, Source
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.tracking.models import TrackPoint
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> TravelTimes:
    return TravelTimes(network_from_pbf(DEMO_PBF))


def test_stored_and_replayed_forecasts_against_the_gps(session: Session, demo: TravelTimes) -> None:
    """Two orders proved by GPS (forecast 100 s and 200 s, driven in 160 s and 170 s), one not:
    the stored forecasts err by -60 and +30 s. Replayed from the car's fix before each order,
    the forecast is the demo network's road time to the scene."""
    seed_reference(session)
    net = demo.network
    unit = Unit(call_sign="T-1", status=UnitStatus.AVAILABLE)
    session.add(unit)
    session.flush()
    scene = demo.snap(float(net.node_lon[100]), float(net.node_lat[100]))
    start = demo.snap(float(net.node_lon[900]), float(net.node_lat[900]))
    road_s = float(demo.times_from(start, Snaps.of([scene]))[0])
    trips = [(100.0, 160.0), (200.0, 170.0), (150.0, None)]
    for i, (eta_s, driven_s) in enumerate(trips):
        issued = T0 + timedelta(hours=i)
        incident = Incident(
            number=f"T{i}",
            source=Source.POLICE_110,
            lon=scene.lon,
            lat=scene.lat,
            category_code="050200",
            priority=3,
            state=IncidentState.DISPATCHED,
            created_by="test",
            call_at=issued,
        )
        session.add(incident)
        session.flush()
        gps_at = None if driven_s is None else issued + timedelta(seconds=driven_s)
        session.add(
            DispatchOrder(
                incident_id=incident.id,
                unit_id=unit.id,
                state=OrderState.DONE,
                eta_s=eta_s,
                issued_by="test",
                issued_at=issued,
                gps_arrived_at=gps_at,
            )
        )
        session.add(
            TrackPoint(
                device_id="D1",
                unit_id=unit.id,
                at=issued - timedelta(seconds=5),
                lon=start.lon,
                lat=start.lat,
                edge=start.edge,
                fraction=start.fraction,
                source="test",
            )
        )
    session.flush()
    report = eta_report(
        session,
        since=T0,
        until=T0 + timedelta(days=1),
        replay_with={"class table": lambda _: demo},
        turnout_s=15.0,
    )
    assert report.stored.count == 2
    assert report.stored.median_abs_error_s == pytest.approx(45.0)
    assert report.stored.bias_s == pytest.approx(-15.0)
    replayed = report.replayed["class table"]
    assert replayed.count == 2
    errors = np.array([road_s + 15 - 160, road_s + 15 - 170])
    assert replayed.bias_s == pytest.approx(errors.mean(), abs=1e-3)
    assert replayed.median_abs_error_s == pytest.approx(np.median(np.abs(errors)), abs=1e-3)
    nothing = eta_report(session, since=T0 - timedelta(days=2), until=T0)
    assert nothing.stored.count == 0
    assert nothing.replayed == {}
