"""GET /api/eta/accuracy through the real app, and the live ETAs at learned speeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from center import Center

from conftest import running_center
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.speeds import (
    HOURS_OF_WEEK,
    LearnedSpeeds,
    local_hour_of_week,
    network_fingerprint,
    speeds_path,
)
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.settings import Settings


def test_the_eta_report_of_a_center_without_gps_arrivals(center: Center) -> None:
    reply = center.call("GET", "/api/eta/accuracy", params={"days": 7})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["stored"] == {
        "orders": 0,
        "median_abs_error_s": None,
        "p90_abs_error_s": None,
        "bias_s": None,
    }
    assert "class table" in body["replayed"]
    assert center.client.get("/api/eta/accuracy").status_code == 401
    assert center.call("GET", "/api/eta/accuracy", params={"days": 0}).status_code == 422


def test_a_center_with_learned_speeds_times_every_car_at_them(
    new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> None:
    """Speeds learned at half the class table this hour and the next, at the table's the rest
    of the week: each car's recommended ETA now is twice its road time by the class table
    (plus its turnout), not the week's average; the ETA report replays both."""
    data = tmp_path_factory.mktemp("learned")
    demo = TravelTimes(network_from_pbf(DEMO_PBF, cache_dir=cache_dir))
    net = demo.network
    half = np.repeat(net.edge_speed_kph[:, np.newaxis], HOURS_OF_WEEK, axis=1)
    hour = local_hour_of_week(datetime.now(UTC), Settings().tz)
    half[:, [hour, (hour + 1) % HOURS_OF_WEEK]] /= 2
    LearnedSpeeds(network_fingerprint(net), half, np.zeros_like(half)).save(speeds_path(data, net))
    with running_center(new_database("sqlite"), data, cache_dir, "sqlite") as center:
        center.fleet_at_kiosks()
        where = (126.65, 45.745)
        incident = center.call(
            "POST",
            "/api/incidents",
            json={"lon": where[0], "lat": where[1], "category_code": "020100"},
        ).json()
        rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
        units = {u["id"]: u for u in center.call("GET", "/api/units").json()}
        scene = demo.snap(*where)
        turnout = Settings().turnout_s
        timed = 0
        for candidate in rec["candidates"]:
            unit = units[candidate["unit_id"]]
            if candidate["eta_s"] is None or unit.get("lon") is None:
                continue
            here = demo.snap_many(np.array([unit["lon"]]), np.array([unit["lat"]]))
            road_s = float(demo.times_to(scene, here)[0])
            expected = 2 * road_s + turnout.get(candidate["status"], 0.0)
            assert candidate["eta_s"] == pytest.approx(expected, rel=1e-3, abs=0.5)
            timed += 1
        assert timed >= 10
        report = center.call("GET", "/api/eta/accuracy").json()
        assert set(report["replayed"]) == {"class table", "learned speeds"}
