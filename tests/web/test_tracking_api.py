"""Positions from phones (OsmAnd) and batches, through the real app and database."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.publish as publish
import pytest
import shapely
from center import Center
from sqlalchemy import select

from jiaoxun.city.models import PatrolPoint, Zone
from jiaoxun.throttle import TokenBuckets


def _unit(center: Center, call_sign: str) -> dict[str, Any]:
    return next(u for u in center.call("GET", "/api/units").json() if u["call_sign"] == call_sign)


def _register(center: Center, device: str, call_sign: str, protocol: str = "osmand") -> str:
    """Register `device` for the unit `call_sign`; its secret, shown this once."""
    unit = _unit(center, call_sign)
    body = {"device_id": device, "protocol": protocol, "unit_id": unit["id"]}
    reply = center.call("POST", "/api/devices", user="commander", json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["secret"])


def _send(center: Center, device: str, secret: str, **fields: Any) -> Any:
    """An OsmAnd fix as Traccar Client sends it, with the device's secret."""
    return center.client.get("/api/osmand", params={"id": device, "key": secret, **fields})


@pytest.fixture(scope="module")
def phone(center: Center) -> dict[str, Any]:
    """A phone registered for unit JX02-1."""
    device = f"phone-{center.kind}"
    secret = _register(center, device, "JX02-1")
    return {"device": device, "secret": secret, "unit": _unit(center, "JX02-1")["id"]}


def test_only_a_commander_registers_devices(center: Center) -> None:
    reply = center.call("POST", "/api/devices", json={"device_id": "x1", "protocol": "osmand"})
    assert reply.status_code == 403


def test_a_phone_moves_its_unit_on_the_map(center: Center, phone: dict[str, Any]) -> None:
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        reply = _send(
            center,
            phone["device"],
            phone["secret"],
            lat="45.7561",
            lon="126.6412",
            speed="20",
            timestamp=str(int(time.time())),
        )
        assert reply.status_code == 200
        assert reply.text == "OK"
        event = ws.receive_json()
    assert (event["kind"], event["action"], event["data"]["unit_id"]) == (
        "unit",
        "moved",
        phone["unit"],
    )
    assert event["data"]["speed_kph"] == pytest.approx(37.04)
    unit = _unit(center, "JX02-1")
    assert (unit["lon"], unit["lat"]) == (126.6412, 45.7561)
    assert unit["fix_age_s"] < 60


def test_a_stream_can_keep_only_one_units_moves(center: Center, phone: dict[str, Any]) -> None:
    other = _unit(center, "JX03-1")
    path = center.events_path("dispatcher", moves_of=phone["unit"])
    car = f"car3-{center.kind}"
    car_secret = _register(center, car, other["call_sign"])
    with center.client.websocket_connect(path) as ws:
        moved = _send(center, car, car_secret, lon=126.65, lat=45.74, timestamp=time.time())
        assert moved.status_code == 200, moved.text
        at = str(int(time.time()) + 1)  # after the fix of the test before, in the same second
        fix = {"lat": "45.7562", "lon": "126.6413", "timestamp": at}
        reply = _send(center, phone["device"], phone["secret"], **fix)
        assert reply.status_code == 200
        event = ws.receive_json()
        while event["kind"] != "unit":  # the other car's first fix: it enters its zone
            event = ws.receive_json()
    assert (event["kind"], event["action"]) == ("unit", "moved")
    assert event["data"]["unit_id"] == phone["unit"]


def test_the_fixes_that_come_while_a_batch_is_stored_are_the_next_batch(center: Center) -> None:
    """A fix waits for no timer, and a burst still costs one transaction: while one batch is
    under way, every fix that comes joins the next."""
    ingestor = center.client.app.state.jiaoxun.ingestor
    entered, release = threading.Event(), threading.Event()
    stored = ingestor._outcome

    def held(raws: Any, **kw: Any) -> Any:  # the batch under way stays in hand until released
        entered.set()
        release.wait(30)
        return stored(raws, **kw)

    device = f"burst-{center.kind}"
    phone = {"device": device, "secret": _register(center, device, "JX07-1")}
    start, batches = time.time(), ingestor.stats.batches
    fixes = [{"lat": 45.7561 + k * 1e-4, "lon": 126.6412, "timestamp": start + k} for k in range(6)]
    with ThreadPoolExecutor(len(fixes)) as pool:
        ingestor._outcome = held
        try:
            first = pool.submit(_send, center, phone["device"], phone["secret"], **fixes[0])
            assert entered.wait(30)
            rest = [
                pool.submit(_send, center, phone["device"], phone["secret"], **fix)
                for fix in fixes[1:]
            ]
            deadline = time.monotonic() + 30
            while ingestor._queue.qsize() < len(rest) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            ingestor._outcome = stored
            release.set()
        replies = [first.result(), *(r.result() for r in rest)]
    assert [(r.status_code, r.text) for r in replies] == [(200, "OK")] * len(fixes)
    assert ingestor.stats.batches - batches == 2


def test_osmand_refuses_unknown_devices_and_bad_positions(
    center: Center, phone: dict[str, Any]
) -> None:
    unknown = center.client.get("/api/osmand", params={"id": "nobody", "lat": 45.7, "lon": 126.6})
    assert unknown.status_code == 401
    message = unknown.json()["message"]
    assert message == "no registered OsmAnd device has this id and secret"
    bad = _send(center, phone["device"], phone["secret"], lat=91, lon=126.6)
    assert bad.status_code == 422
    assert "latitude out of range" in bad.json()["message"]
    missing = center.client.post("/api/osmand", data={"lat": 45.7, "lon": 126.6})
    assert missing.status_code == 401
    stats = center.call("GET", "/api/tracking/stats").json()
    assert stats["rejected"]["unrecognised device"] >= 2
    assert stats["rejected"]["latitude out of range"] >= 1


def test_a_known_id_without_its_secret_moves_nothing_and_learns_nothing(
    center: Center, phone: dict[str, Any]
) -> None:
    """Issue 11, finding 1: anyone could post a phone's fix by its guessable id, and the
    answers (404 unknown, 422 bad data) told which ids exist."""
    before = _unit(center, "JX02-1")
    forged = {"lat": 45.70, "lon": 126.60, "timestamp": int(time.time())}
    answers = [
        center.client.get("/api/osmand", params={"id": phone["device"], **forged}),
        center.client.get("/api/osmand", params={"id": phone["device"], "key": "guess", **forged}),
        center.client.get("/api/osmand", params={"id": phone["device"], "lat": 91, "lon": 1}),
        center.client.get("/api/osmand", params={"id": "no-such-phone", "lat": 91, "lon": 1}),
    ]
    assert {(a.status_code, a.json()["message"]) for a in answers} == {
        (401, "no registered OsmAnd device has this id and secret")
    }
    assert _unit(center, "JX02-1")["lon"] == before["lon"]


def test_the_secret_alone_is_a_traccar_client_identifier(
    center: Center, phone: dict[str, Any]
) -> None:
    at = int(time.time()) + 2
    reply = center.client.get(
        "/api/osmand",
        params={"id": phone["secret"], "lat": 45.7563, "lon": 126.6415, "timestamp": at},
    )
    assert reply.text == "OK"
    assert _unit(center, "JX02-1")["lon"] == 126.6415


def test_a_terminal_phone_number_is_no_osmand_id(center: Center) -> None:
    terminal = f"01390000{'1' if center.kind == 'sqlite' else '2'}001"
    unit = _unit(center, "JX06-1")
    body = {"device_id": terminal, "protocol": "jt808", "unit_id": unit["id"]}
    unnamed = center.call("POST", "/api/devices", user="commander", json=body)
    assert unnamed.status_code == 422
    assert "needs its plate and terminal_id" in unnamed.json()["message"]
    body |= {"plate": "吉G12345", "terminal_id": "T0000001"}
    registered = center.call("POST", "/api/devices", user="commander", json=body)
    assert registered.status_code == 201, registered.text
    assert "secret" not in registered.json()  # a terminal proves itself by JT/T 808
    reply = center.client.get("/api/osmand", params={"id": terminal, "lat": 45.7, "lon": 126.6})
    assert reply.status_code == 401


def test_a_fix_from_the_future_is_refused_and_cannot_freeze_a_car(
    center: Center, phone: dict[str, Any]
) -> None:
    """Issue 11, finding 1: a fix 5 minutes ahead was accepted, and the real phone's fixes
    after it were dropped as out of order while still answered OK."""
    ahead = _send(
        center, phone["device"], phone["secret"], lat=45.70, lon=126.60, timestamp=time.time() + 300
    )
    assert ahead.status_code == 422
    assert "time in the future" in ahead.json()["message"]
    now = _send(
        center,
        phone["device"],
        phone["secret"],
        lat=45.7564,
        lon=126.6416,
        timestamp=time.time() + 3,
    )
    assert now.text == "OK"
    assert _unit(center, "JX02-1")["lon"] == 126.6416


def test_a_dropped_fix_is_never_answered_ok(center: Center, phone: dict[str, Any]) -> None:
    newest = int(time.time()) + 5
    fix = {"lat": 45.7565, "lon": 126.6417}
    assert _send(center, phone["device"], phone["secret"], **fix, timestamp=newest).text == "OK"
    again = _send(center, phone["device"], phone["secret"], **fix, timestamp=newest)
    assert again.text == "OK"  # a retry of a stored fix: stored
    older = _send(center, phone["device"], phone["secret"], **fix, timestamp=newest - 60)
    assert older.status_code == 409
    assert "out of order" in older.json()["message"]
    jump = _send(
        center, phone["device"], phone["secret"], lat=45.2, lon=126.6, timestamp=newest + 1
    )
    assert jump.status_code == 409
    assert "impossible jump" in jump.json()["message"]


def test_a_device_that_floods_is_told_to_wait(center: Center) -> None:
    device = f"flood-{center.kind}"
    secret = _register(center, device, "JX08-2")
    ingestor = center.client.app.state.jiaoxun.ingestor
    saved, ingestor.throttle = ingestor.throttle, TokenBuckets(rate_per_s=0.5, burst=5)
    try:
        start = int(time.time()) - 3000
        answers = [
            _send(center, device, secret, lat=45.74, lon=126.65 + i * 1e-5, timestamp=start + i)
            for i in range(8)
        ]
    finally:
        ingestor.throttle = saved
    assert [a.status_code for a in answers][:5] == [200] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert int(answers[-1].headers["retry-after"]) >= 1
    stats = center.call("GET", "/api/tracking/stats").json()
    assert stats["rejected"]["rate limited"] >= 3


def test_devices_and_their_secrets_are_not_listed_to_officers(
    center: Center, phone: dict[str, Any]
) -> None:
    assert center.call("GET", "/api/devices", user="officer").status_code == 403
    listed = center.call("GET", "/api/devices", user="commander").json()
    assert phone["device"] in {d["device_id"] for d in listed}
    assert not any("secret" in d for d in listed)


def test_a_rotated_secret_stops_the_old_one(center: Center) -> None:
    device = f"lost-{center.kind}"
    old = _register(center, device, "JX09-1")
    row = next(
        d
        for d in center.call("GET", "/api/devices", user="commander").json()
        if d["device_id"] == device
    )
    rotated = center.call("POST", f"/api/devices/{row['id']}/secret", user="commander")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert rotated.json()["setup_url"].startswith("org.traccar.client://config?url=")
    assert rotated.json()["qr_svg"].startswith("<svg")
    at = int(time.time())
    assert _send(center, device, old, lat=45.74, lon=126.66, timestamp=at).status_code == 401
    assert _send(center, device, new, lat=45.74, lon=126.66, timestamp=at).text == "OK"
    audit = center.call("GET", "/api/audit", user="commander", params={"entity": "device_secret"})
    assert audit.status_code == 200


def test_the_position_path_that_skipped_the_pipeline_is_gone(center: Center) -> None:
    """Issue 11, finding 3: POST /api/units/{id}/fix let any officer move any unit."""
    unit = _unit(center, "JX03-2")
    reply = center.call(
        "POST", f"/api/units/{unit['id']}/fix", user="officer", json={"lon": 126.6, "lat": 45.7}
    )
    assert reply.status_code in (404, 405)


def test_a_batch_is_filtered_stored_and_read_back_as_a_track(
    center: Center, phone: dict[str, Any]
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=30)
    positions = [
        {
            "device_id": phone["device"],
            "lon": 126.64 + 0.0002 * i,
            "lat": 45.75,
            "at": (start + timedelta(seconds=10 * i)).isoformat(),
            "speed_kph": 5,
        }
        for i in range(30)
    ]
    positions.append(dict(positions[5]))  # a duplicate
    positions.append(
        {**positions[6], "at": (start + timedelta(seconds=65)).isoformat(), "lon": 127.5}
    )  # 60 km in 5 s
    before = _unit(center, "JX02-1")
    for role in ("officer", "dispatcher"):  # issue 11, finding 3: any officer could move any unit
        refused = center.call("POST", "/api/positions", user=role, json={"positions": positions})
        assert refused.status_code == 403
    reply = center.call("POST", "/api/positions", user="commander", json={"positions": positions})
    assert reply.status_code == 200, reply.text
    audit = center.call("GET", "/api/audit", user="commander").json()
    assert any(e["action"] == "import" and e["entity"] == "positions" for e in audit)
    # a replay of older positions never moves the unit back in time
    after = _unit(center, "JX02-1")
    newest = start + timedelta(seconds=290)
    if before["fix_at"] and datetime.fromisoformat(before["fix_at"]) > newest:
        assert (after["lon"], after["fix_at"]) == (before["lon"], before["fix_at"])
    else:
        assert after["lon"] == pytest.approx(126.64 + 0.0002 * 29)
    assert reply.json() == {
        "received": 32,
        "accepted": 30,
        "rejected": {"duplicate": 1, "impossible jump": 1},
    }
    track = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": start.isoformat(), "to": (start + timedelta(minutes=10)).isoformat()},
    ).json()
    assert track["total_points"] == 30
    assert [p["lon"] for p in track["points"]][:3] == pytest.approx([126.64, 126.6402, 126.6404])
    assert all(p["zone"] for p in track["points"])
    thin = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={
            "from": start.isoformat(),
            "to": (start + timedelta(minutes=10)).isoformat(),
            "step_s": 60,
        },
    ).json()
    assert len(thin["points"]) == 5  # one per minute of a 5-minute track


def test_track_requests_are_checked(center: Center, phone: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    reply = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()},
    )
    assert reply.status_code == 422
    assert "is after" in reply.json()["message"]
    assert center.call("GET", "/api/units/99999/track").status_code == 404


def _point_and_elsewhere(center: Center) -> tuple[Any, tuple[float, float], str, str]:
    """A mandatory patrol point, a spot deep in another zone, and the two zone codes."""
    with center.engine.connect() as conn:
        point = conn.execute(select(PatrolPoint).order_by(PatrolPoint.id)).first()
        zones = {z.id: z for z in conn.execute(select(Zone))}
    assert point is not None
    home = zones[point.zone_id]
    other = next(z for z in zones.values() if z.id != point.zone_id)
    inner = shapely.geometry.shape(other.polygon).buffer(-0.003).representative_point()
    return point, (inner.x, inner.y), home.code, other.code


def test_a_manual_check_in_must_be_at_the_point(center: Center) -> None:
    point, (far_lon, far_lat), _, _ = _point_and_elsewhere(center)
    me = center.client.post(
        "/api/auth/token", json={"username": "officer", "password": center.passwords["officer"]}
    ).json()
    far = center.call(
        "POST",
        f"/api/patrol/points/{point.id}/check-in",
        user="officer",
        json={"unit_id": me["unit_id"], "lon": far_lon, "lat": far_lat},
    )
    assert far.status_code == 422
    assert "m from it, the limit is" in far.json()["message"]
    near = center.call(
        "POST",
        f"/api/patrol/points/{point.id}/check-in",
        user="officer",
        json={"unit_id": me["unit_id"], "lon": point.lon, "lat": point.lat},
    )
    assert near.status_code == 201, near.text
    assert near.json()["manual"] is True
    other_unit = center.call(
        "POST",
        f"/api/patrol/points/{point.id}/check-in",
        user="officer",
        json={"unit_id": me["unit_id"] + 1, "lon": point.lon, "lat": point.lat},
    )
    assert other_unit.status_code == 403


def test_mqtt_positions_move_the_unit(center: Center) -> None:
    settings = center.client.app.state.jiaoxun.settings
    unit = _unit(center, "JX07-2")
    device = f"mqtt-car-{center.kind}"
    secret = center.call(
        "POST",
        "/api/devices",
        user="commander",
        json={"device_id": device, "protocol": "mqtt", "unit_id": unit["id"]},
    ).json()["secret"]
    where = settings.mqtt_url.removeprefix("mqtt://").split(":")
    topic = f"{settings.mqtt_topic_prefix}/{device}/position"
    deadline = time.monotonic() + 15
    moved = unit
    while time.monotonic() < deadline:  # the subscriber may still be connecting: publish again
        # anyone on the broker can publish on the topic: only the secret moves the unit
        forged = json.dumps({"lat": 45.70, "lon": 126.60, "timestamp": time.time() - 1})
        publish.single(topic, forged, qos=1, hostname=where[0], port=int(where[1]))
        payload = json.dumps(
            {"lat": 45.7391, "lon": 126.6833, "timestamp": time.time(), "key": secret}
        )
        publish.single(topic, payload, qos=1, hostname=where[0], port=int(where[1]))
        time.sleep(0.3)
        moved = _unit(center, "JX07-2")
        if moved["lon"] == pytest.approx(126.6833):
            break
    assert (moved["lon"], moved["lat"]) == (pytest.approx(126.6833), pytest.approx(45.7391))
    stats = center.call("GET", "/api/tracking/stats").json()
    assert stats["mqtt"]["positions"] >= 1
    assert stats["rejected"]["unrecognised device"] >= 1
    publish.single(topic, "not json", hostname=where[0], port=int(where[1]))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if center.call("GET", "/api/tracking/stats").json()["mqtt"].get("malformed messages"):
            break
        time.sleep(0.2)
    assert center.call("GET", "/api/tracking/stats").json()["mqtt"]["malformed messages"] >= 1


def test_silent_devices_go_offline_and_old_tracks_are_purged(
    center: Center, phone: dict[str, Any]
) -> None:
    ingestor = center.client.app.state.jiaoxun.ingestor
    accepted = ingestor.stats.accepted
    _send(
        center,
        phone["device"],
        phone["secret"],
        lat=45.7566,
        lon=126.6418,
        timestamp=time.time() + 7,
    )
    deadline = time.monotonic() + 10
    while ingestor.stats.accepted == accepted and time.monotonic() < deadline:
        time.sleep(0.05)  # until the fix has gone through the pipeline and is stored
    devices = {
        d["device_id"]: d for d in center.call("GET", "/api/devices", user="commander").json()
    }
    assert devices[phone["device"]]["online"]
    later = datetime.now(UTC) + timedelta(minutes=10)
    offline = ingestor.mark_offline(now=later, after=timedelta(minutes=5))
    assert phone["device"] in offline
    devices = {
        d["device_id"]: d for d in center.call("GET", "/api/devices", user="commander").json()
    }
    assert devices[phone["device"]]["online"] is False
    before = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": (datetime.now(UTC) - timedelta(days=2)).isoformat()},
    ).json()["total_points"]
    assert before > 0
    purged = ingestor.purge(now=datetime.now(UTC) + timedelta(days=1), keep=timedelta(hours=1))
    assert purged >= before
    after = center.call(
        "GET",
        f"/api/units/{phone['unit']}/track",
        params={"from": (datetime.now(UTC) - timedelta(days=2)).isoformat()},
    ).json()["total_points"]
    assert after == 0


def test_a_phone_belongs_to_an_officer(center: Center) -> None:
    unit = _unit(center, "JX04-1")
    officer = unit["crew"][0]["id"]
    reply = center.call(
        "POST",
        "/api/devices",
        user="commander",
        json={
            "device_id": f"phone-of-{officer}-{center.kind}",
            "protocol": "osmand",
            "unit_id": unit["id"],
            "officer_id": officer,
        },
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["officer_id"] == officer
    nobody = center.call(
        "POST",
        "/api/devices",
        user="commander",
        json={"device_id": f"phone-x-{center.kind}", "protocol": "osmand", "officer_id": 999999},
    )
    assert nobody.status_code == 404
    assert "officer 999999" in nobody.json()["message"]
