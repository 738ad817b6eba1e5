"""The 110 workflow through the real app and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from center import Center
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from jiaoxun.geo.coords import wgs84_to_gcj02
from jiaoxun.units.models import Unit

ROBBERY = "010200"  # priority 1: three units from three zones
CENTRE = (126.65, 45.745)


@pytest.fixture
def incident(center: Center) -> Iterator[dict[str, Any]]:
    """A robbery in the city centre, closed after the test if still open; every car has just
    reported its position from its kiosk."""
    center.fleet_at_kiosks()
    reply = center.call(
        "POST",
        "/api/incidents",
        json={
            "lon": CENTRE[0],
            "lat": CENTRE[1],
            "category_code": ROBBERY,
            "caller_phone": "13900000000",
            "description": "抢劫 robbery at the square",
        },
    )
    assert reply.status_code == 201, reply.text
    created = reply.json()
    yield created
    now = center.call("GET", f"/api/incidents/{created['id']}").json()
    if now["state"] not in {"closed", "cancelled", "merged", "transferred"}:
        closed = center.call(
            "POST",
            f"/api/incidents/{created['id']}/close",
            json={"outcome_code": "test", "outcome_text": "cleanup"},
        )
        assert closed.status_code == 200, closed.text


def test_health_needs_no_token(center: Center) -> None:
    reply = center.client.get("/api/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/api/incidents", "/api/units", "/api/audit", "/api/categories"])
def test_every_other_endpoint_needs_a_token(center: Center, path: str) -> None:
    reply = center.client.get(path)
    assert reply.status_code == 401
    assert reply.json()["error"] == "not_authenticated"
    bad = center.client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert "not valid" in bad.json()["message"]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/audit", "since"), ("/api/patrol/report", "at"), ("/api/activities", "since")],
)
def test_a_time_without_offset_is_refused_by_name(center: Center, path: str, name: str) -> None:
    reply = center.call("GET", path, user="commander", params={name: "2026-01-01T00:00:00"})
    assert reply.status_code == 422, reply.text
    assert name in reply.json()["message"]
    assert "timezone" in reply.json()["message"]


def test_login_refuses_a_wrong_password(center: Center) -> None:
    reply = center.client.post("/api/auth/token", json={"username": "dispatcher", "password": "x"})
    assert reply.status_code == 401
    assert reply.json()["message"] == "wrong user name or password"


@pytest.mark.parametrize(
    ("user", "method", "path", "body"),
    [
        ("kiosk_clerk", "GET", "/api/incidents", None),
        (
            "officer",
            "POST",
            "/api/incidents",
            {"lon": 126.65, "lat": 45.745, "category_code": ROBBERY},
        ),
        ("dispatcher", "GET", "/api/audit", None),
    ],
)
def test_roles_decide(center: Center, user: str, method: str, path: str, body: Any) -> None:
    reply = center.call(method, path, user=user, json=body)
    assert reply.status_code == 403
    assert reply.json()["error"] == "forbidden"
    assert user in reply.json()["message"]


def test_a_call_is_taken_numbered_located_and_audited(
    center: Center, incident: dict[str, Any]
) -> None:
    assert incident["state"] == "taken"
    assert incident["number"].startswith("220800")
    assert len(incident["number"]) == 20
    assert incident["category_name"] == "抢劫"
    assert (incident["priority"], incident["required_units"], incident["distinct_zones"]) == (
        1,
        3,
        True,
    )
    assert incident["zone"] is not None
    steps = [(e["action"], e["from_state"], e["to_state"]) for e in incident["timeline"]]
    assert steps == [("create", None, "taking"), ("transition", "taking", "taken")]
    listed = center.call("GET", "/api/incidents", params={"status": "taken"}).json()
    assert incident["id"] in [i["id"] for i in listed]
    others = center.call("GET", "/api/incidents", params={"status": "closed"}).json()
    assert incident["id"] not in [i["id"] for i in others]


def test_a_gcj02_location_is_stored_in_wgs84(center: Center) -> None:
    lon, lat = wgs84_to_gcj02(126.66, 45.75)
    reply = center.call(
        "POST",
        "/api/incidents",
        json={
            "lon": lon,
            "lat": lat,
            "datum": "gcj02",
            "category_code": "020100",
        },
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["lon"] == pytest.approx(126.66, abs=1e-6)
    assert reply.json()["lat"] == pytest.approx(45.75, abs=1e-6)
    center.call("POST", f"/api/incidents/{reply.json()['id']}/cancel", json={"reason": "test"})


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"lat": 91}, "body.lat", "less than or equal to 90"),
        ({"category_code": "12ab"}, "body.category_code", "pattern"),
        ({"category_code": "123400"}, None, "not a known incident category"),
        ({"lon": 126.2, "lat": 45.2}, None, "from the nearest road"),
        ({"datum": "utm"}, "body.datum", "wgs84"),
        ({"priority": 9}, "body.priority", "less than or equal to 4"),
        ({"call_at": "2099-01-01T00:00:00Z"}, None, "lies in the future"),
        ({"surprise": 1}, "body.surprise", "Extra inputs"),
    ],
)
def test_bad_intake_is_refused_with_the_rule_and_value(
    center: Center, change: dict[str, Any], field: str | None, words: str
) -> None:
    body = {"lon": 126.65, "lat": 45.745, "category_code": ROBBERY, **change}
    reply = center.call("POST", "/api/incidents", json=body)
    assert reply.status_code == 422
    answer = reply.json()
    assert answer["error"] == "invalid_input"
    assert words in answer["message"]
    if field:
        assert answer["problems"][0]["field"] == field


def test_recommendations_rank_every_unit_by_road_eta(
    center: Center, incident: dict[str, Any]
) -> None:
    reply = center.call("GET", f"/api/incidents/{incident['id']}/recommendations")
    assert reply.status_code == 200, reply.text
    rec = reply.json()
    candidates = rec["candidates"]
    assert len(candidates) == 27
    etas = [c["eta_s"] for c in candidates if c["eligible"]]
    assert etas == sorted(etas)
    assert all(e > 0 for e in etas)
    # multi-point: three units, each from another zone
    chosen = [c for c in candidates if c["unit_id"] in rec["chosen"]]
    assert len(chosen) == 3
    assert len({c["zone"] for c in chosen}) == 3
    assert rec["shortfall"] == 0
    assert {v["tier"] for v in rec["verdicts"]} >= {"3分钟", "5分钟"}


def test_recommendations_read_the_fleet_as_rows_not_as_unit_objects(
    center: Center, incident: dict[str, Any]
) -> None:
    """The fleet is read as plain rows: loading every unit as an ORM object cost a
    province-sized fleet most of its recommendation."""
    loaded: list[Unit] = []

    def count(unit: Unit, _context: object) -> None:
        loaded.append(unit)

    event.listen(Unit, "load", count)
    try:
        reply = center.call("GET", f"/api/incidents/{incident['id']}/recommendations")
    finally:
        event.remove(Unit, "load", count)
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["candidates"]) == 27
    assert loaded == []


def test_a_requests_token_and_its_user_are_read_in_one_query(
    center: Center, incident: dict[str, Any]
) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(center.engine, "before_cursor_execute", seen)
    try:
        reply = center.call("GET", f"/api/incidents/{incident['id']}")
    finally:
        event.remove(center.engine, "before_cursor_execute", seen)
    assert reply.status_code == 200, reply.text
    users = [s for s in statements if "app_user" in s]
    assert len(users) == 1
    assert "api_token" in users[0]


def test_multi_point_dispatch_and_the_order_lifecycle(
    center: Center, incident: dict[str, Any]
) -> None:
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    chosen = rec["chosen"]
    reply = center.call(
        "POST",
        f"/api/incidents/{incident['id']}/dispatch",
        json={"unit_ids": chosen, "reason": "一点报警，多点响应"},
    )
    assert reply.status_code == 201, reply.text
    orders = reply.json()
    assert [o["state"] for o in orders] == ["issued"] * 3
    assert all(o["eta_s"] is not None for o in orders)
    units = {u["id"]: u for u in center.call("GET", "/api/units").json()}
    assert all(units[i]["status"] == "dispatched" for i in chosen)

    first = orders[0]["id"]
    for state in ("acknowledged", "en_route", "arrived"):
        moved = center.call("POST", f"/api/orders/{first}/status", json={"state": state})
        assert moved.status_code == 200, moved.text
    detail = center.call("GET", f"/api/incidents/{incident['id']}").json()
    assert detail["state"] == "on_scene"
    assert detail["arrived_at"] is not None
    first_tier = next(v for v in detail["verdicts"] if v["tier"] == "3分钟")
    assert first_tier["met_from_dispatch"] is True  # arrived within seconds of the dispatch
    assert first_tier["from_dispatch_s"] < 60

    illegal = center.call("POST", f"/api/orders/{first}/status", json={"state": "issued"})
    assert illegal.status_code == 409
    assert "cannot go from arrived to issued" in illegal.json()["message"]

    for order in orders[1:]:
        center.call(
            "POST",
            f"/api/orders/{order['id']}/status",
            json={"state": "returned", "reason": "needed elsewhere"},
        )
    done = center.call(
        "POST",
        f"/api/orders/{first}/status",
        json={"state": "done", "feedback": "suspect detained"},
    )
    assert done.status_code == 200
    detail = center.call("GET", f"/api/incidents/{incident['id']}").json()
    assert detail["state"] == "reported"
    closed = center.call(
        "POST",
        f"/api/incidents/{incident['id']}/close",
        json={"outcome_code": "arrest", "outcome_text": "1 detained"},
    )
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    path = [e["to_state"] for e in closed.json()["timeline"] if e["entity"] == "incident"]
    assert path == [
        "taking",
        "taken",
        "dispatched",
        "en_route",
        "on_scene",
        "reported",
        "handled",
        "closed",
    ]
    units = {u["id"]: u for u in center.call("GET", "/api/units").json()}
    assert all(units[i]["status"] == "available" for i in chosen)


def test_a_busy_unit_cannot_be_dispatched_twice(center: Center, incident: dict[str, Any]) -> None:
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    unit = rec["chosen"][0]
    assert (
        center.call(
            "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [unit]}
        ).status_code
        == 201
    )
    other = center.call(
        "POST", "/api/incidents", json={"lon": 126.62, "lat": 45.76, "category_code": "020100"}
    ).json()
    again = center.call("POST", f"/api/incidents/{other['id']}/dispatch", json={"unit_ids": [unit]})
    assert again.status_code == 409
    assert "not free" in again.json()["message"]
    # nothing half-done: the second incident has no order and is still taken
    assert center.call("GET", f"/api/incidents/{other['id']}").json()["orders"] == []
    center.call("POST", f"/api/incidents/{other['id']}/cancel", json={"reason": "test"})


def test_an_officer_acts_only_on_his_own_units_orders(
    center: Center, incident: dict[str, Any]
) -> None:
    me = center.client.post(
        "/api/auth/token", json={"username": "officer", "password": center.passwords["officer"]}
    ).json()
    units = center.call("GET", "/api/units").json()
    other = next(
        u for u in units if u["id"] != me["unit_id"] and u["status"] in {"available", "at_kiosk"}
    )
    (order,) = center.call(
        "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [other["id"]]}
    ).json()
    reply = center.call(
        "POST", f"/api/orders/{order['id']}/status", user="officer", json={"state": "acknowledged"}
    )
    assert reply.status_code == 403
    assert "own unit" in reply.json()["message"]


def test_duplicates_are_flagged_and_merged(center: Center, incident: dict[str, Any]) -> None:
    second = center.call(
        "POST",
        "/api/incidents",
        json={"lon": CENTRE[0] + 0.0005, "lat": CENTRE[1], "category_code": "010100"},
    ).json()
    assert incident["id"] in [d["incident_id"] for d in second["duplicates"]]
    merged = center.call(
        "POST", f"/api/incidents/{second['id']}/merge", json={"into": incident["id"]}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["state"] == "merged"
    assert merged.json()["main_incident_id"] == incident["id"]


def test_closed_is_final(center: Center, incident: dict[str, Any]) -> None:
    center.call("POST", f"/api/incidents/{incident['id']}/close", json={"outcome_code": "false"})
    again = center.call("POST", f"/api/incidents/{incident['id']}/cancel", json={"reason": "x"})
    assert again.status_code == 409
    assert "closed" in again.json()["message"]


def test_unknown_things_are_404(center: Center) -> None:
    assert center.call("GET", "/api/incidents/999999").status_code == 404
    reply = center.call("POST", "/api/orders/999999/status", json={"state": "acknowledged"})
    assert reply.status_code == 404
    assert "order 999999 does not exist" in reply.json()["message"]


def test_the_audit_log_records_every_change_and_cannot_be_altered(
    center: Center, incident: dict[str, Any]
) -> None:
    log = center.call(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "incident", "entity_id": str(incident["id"])},
    ).json()
    assert {(e["from_state"], e["to_state"]) for e in log} == {
        (None, "taking"),
        ("taking", "taken"),
    }
    assert {e["username"] for e in log} == {"dispatcher"}
    with center.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("UPDATE audit_entry SET reason = 'forged'"))
    with center.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("DELETE FROM audit_entry"))


def test_categories_are_searchable(center: Center) -> None:
    found = center.call("GET", "/api/categories", params={"q": "盗窃"}).json()
    assert found
    assert all("盗窃" in c["name_zh"] for c in found)
    english = center.call("GET", "/api/categories", params={"q": "theft"}).json()
    assert {c["code"] for c in found} & {c["code"] for c in english}


def test_the_event_stream_carries_changes(center: Center) -> None:
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        created = center.call(
            "POST", "/api/incidents", json={"lon": 126.63, "lat": 45.76, "category_code": "020100"}
        ).json()
        event = ws.receive_json()
        assert (event["kind"], event["data"]["id"]) == ("incident", created["id"])
    center.call("POST", f"/api/incidents/{created['id']}/cancel", json={"reason": "test"})


def test_the_event_stream_needs_a_ticket(center: Center) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        center.client.websocket_connect("/api/events?ticket=nope") as ws,
    ):
        ws.receive_json()


def test_units_are_added_later_and_reassigned(center: Center, incident: dict[str, Any]) -> None:
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    first, second, third = rec["chosen"]
    center.call("POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [first]})
    # the plan still wants two more: the next recommendation asks for them
    rec = center.call("GET", f"/api/incidents/{incident['id']}/recommendations").json()
    assert len(rec["chosen"]) == 2
    assert first not in rec["chosen"]
    added = center.call(
        "POST", f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [second]}
    )
    assert added.status_code == 201
    order = added.json()[0]
    moved = center.call(
        "POST",
        f"/api/orders/{order['id']}/reassign",
        json={"unit_id": third, "reason": "closer unit freed"},
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["unit_id"] == third
    detail = center.call("GET", f"/api/incidents/{incident['id']}").json()
    states = {o["unit_id"]: o["state"] for o in detail["orders"]}
    assert states == {first: "issued", second: "cancelled", third: "issued"}
    units = {u["id"]: u["status"] for u in center.call("GET", "/api/units").json()}
    assert units[second] in {"available", "at_kiosk"}
