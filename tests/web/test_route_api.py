"""The road route of a unit to an incident, through the real app and database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from center import Center
from sqlalchemy import delete
from sqlalchemy.orm import Session

from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus

SCENE = (126.65, 45.745)
FIX = (126.6412, 45.7561)  # on a road, about 1.5 km north-west of the scene


def _travel_times(center: Center) -> TravelTimes:
    travel_times: TravelTimes = center.client.app.state.jiaoxun.city.travel_times  # type: ignore[attr-defined]
    return travel_times


def _place(center: Center, unit_id: int, lon: float, lat: float, at: datetime) -> None:
    """Put the unit at (lon, lat) by a position of its own device (one path for positions)."""
    device = f"route-{unit_id}-{center.kind}"
    body = {"device_id": device, "protocol": "osmand", "unit_id": unit_id}
    center.call("POST", "/api/devices", user="commander", json=body)  # 409 once it exists
    fix = {"device_id": device, "lon": lon, "lat": lat, "at": at.isoformat()}
    reply = center.call("POST", "/api/positions", user="commander", json={"positions": [fix]})
    assert reply.json()["accepted"] == 1, reply.text


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(np.array(a[0]), np.array(a[1]), np.array(b[0]), np.array(b[1])))


@pytest.fixture(scope="module")
def incident(center: Center) -> Iterator[dict[str, Any]]:
    center.fleet_at_kiosks()  # every car where its terminal says: at its kiosk
    reply = center.call(
        "POST",
        "/api/incidents",
        json={"lon": SCENE[0], "lat": SCENE[1], "category_code": "020100"},
    )
    assert reply.status_code == 201, reply.text
    yield reply.json()
    center.call("POST", f"/api/incidents/{reply.json()['id']}/cancel", json={"reason": "test"})


@pytest.fixture(scope="module")
def patrolling(center: Center, incident: dict[str, Any]) -> dict[str, Any]:
    """A free unit on patrol, its last fix at `FIX`."""
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    unit_id = next(
        c["unit_id"] for c in rec["candidates"] if c["status"] in {"available", "at_kiosk"}
    )
    _place(center, unit_id, *FIX, datetime.now(UTC))
    status = center.call("POST", f"/api/units/{unit_id}/status", json={"status": "available"})
    assert status.status_code == 200, status.text
    return status.json()


def _route(center: Center, incident_id: int, unit_id: int, user: str = "dispatcher") -> Any:
    return center.call(
        "GET", f"/api/incidents/{incident_id}/route", params={"unit_id": unit_id}, user=user
    )


def test_the_route_runs_from_the_unit_to_the_scene(
    center: Center, incident: dict[str, Any], patrolling: dict[str, Any]
) -> None:
    reply = _route(center, incident["id"], patrolling["id"])
    assert reply.status_code == 200, reply.text
    route = reply.json()
    assert (route["unit_id"], route["incident_id"]) == (patrolling["id"], incident["id"])
    coords = [tuple(c) for c in route["coordinates"]]
    tt = _travel_times(center)
    start, end = tt.snap(*FIX), tt.snap(*SCENE)
    assert _metres(coords[0], FIX) <= start.distance_m + 1.0
    assert _metres(coords[-1], SCENE) <= end.distance_m + 1.0
    drawn_m = sum(_metres(a, b) for a, b in itertools.pairwise(coords))
    assert drawn_m == pytest.approx(route["length_m"], rel=0.01)
    exact = tt.route(start, end)
    assert route["eta_s"] == pytest.approx(exact.travel_time_s, abs=0.1)
    # the dispatcher sees the same road time, with the car's turnout before it (on patrol)
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    (candidate,) = [c for c in rec["candidates"] if c["unit_id"] == patrolling["id"]]
    turnout_s = center.client.app.state.jiaoxun.settings.turnout_s[patrolling["status"]]  # type: ignore[attr-defined]
    assert turnout_s > 0
    assert candidate["eta_s"] == pytest.approx(route["eta_s"] + turnout_s, abs=0.5)


def test_an_officer_may_see_only_his_own_units_route(
    center: Center, incident: dict[str, Any], patrolling: dict[str, Any]
) -> None:
    mine = center.call("GET", "/api/me", user="officer").json()["unit"]["id"]
    if mine != patrolling["id"]:
        other = _route(center, incident["id"], patrolling["id"], user="officer")
        assert other.status_code == 403
        assert "his own unit's" in other.json()["message"]
    own = _route(center, incident["id"], mine, user="officer")
    assert own.status_code in (200, 403, 409), own.text  # 403: an incident of another zone
    assert _route(center, incident["id"], patrolling["id"], user="kiosk_clerk").status_code == 403
    no_token = center.client.get(
        f"/api/incidents/{incident['id']}/route", params={"unit_id": patrolling["id"]}
    )
    assert no_token.status_code == 401


def test_unknown_incidents_and_units_are_404(
    center: Center, incident: dict[str, Any], patrolling: dict[str, Any]
) -> None:
    missing = _route(center, 2_000_000_000, patrolling["id"])
    assert missing.status_code == 404
    assert "2000000000" in missing.json()["message"]
    nobody = _route(center, incident["id"], 2_000_000_000)
    assert nobody.status_code == 404
    assert "unit 2000000000 does not exist" in nobody.json()["message"]
    assert _route(center, incident["id"], 0).status_code == 422
    assert center.call("GET", f"/api/incidents/{incident['id']}/route").status_code == 422


@pytest.fixture
def unplaced(center: Center) -> Iterator[int]:
    """A unit without a fix and without a kiosk, removed after the test."""
    with Session(center.engine) as session, session.begin():
        unit = Unit(call_sign=f"TEST-{center.kind}", status=UnitStatus.OFF_DUTY)
        session.add(unit)
        session.flush()
        unit_id = unit.id
    yield unit_id
    with Session(center.engine) as session, session.begin():
        session.execute(delete(Unit).where(Unit.id == unit_id))


def test_a_unit_without_a_position_has_no_route(
    center: Center, incident: dict[str, Any], unplaced: int
) -> None:
    reply = _route(center, incident["id"], unplaced)
    assert reply.status_code == 409
    assert f"unit TEST-{center.kind} has no position yet" in reply.json()["message"]


def test_a_unit_far_from_any_road_has_no_route(
    center: Center, incident: dict[str, Any], patrolling: dict[str, Any]
) -> None:
    unit_id = patrolling["id"]
    _place(center, unit_id, 126.2, 45.2, datetime.now(UTC) + timedelta(seconds=1))
    try:
        reply = _route(center, incident["id"], unit_id)
        assert reply.status_code == 422
        assert "from the nearest road" in reply.json()["message"]
    finally:
        _place(center, unit_id, *FIX, datetime.now(UTC) + timedelta(seconds=2))
