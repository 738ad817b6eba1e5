"""Field activities (管事率, 盘查率) recorded by officers, through the real app and database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from center import Center

from jiaoxun.city.context import CityContext

SPOT = {"lon": 126.65, "lat": 45.745}


def _unit_of(center: Center, user: str = "officer") -> int:
    unit_id: int = center.call("GET", "/api/me", user=user).json()["unit"]["id"]
    return unit_id


def _record(center: Center, body: dict[str, Any], user: str = "officer") -> Any:
    return center.call("POST", "/api/activities", user=user, json=body)


def test_an_officer_records_a_violation_for_his_unit(center: Center) -> None:
    unit_id = _unit_of(center)
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        reply = _record(
            center,
            {
                "kind": "violation",
                "unit_id": unit_id,
                **SPOT,
                "plate": "黑a·d12345",
                "violation": "illegal_parking",
                "note": "占用消防通道",
            },
        )
        assert reply.status_code == 201, reply.text
        event = ws.receive_json()
    activity = reply.json()
    city: CityContext = center.client.app.state.jiaoxun.city  # type: ignore[attr-defined]
    zone = city.zone_at(SPOT["lon"], SPOT["lat"])
    assert zone is not None
    assert {k: v for k, v in activity.items() if k not in {"id", "at"}} == {
        "kind": "violation",
        "unit_id": unit_id,
        "call_sign": "JX01-1",
        "zone": zone.code,
        **SPOT,
        "recorded_by": "officer",
        "details": {"plate": "黑AD12345", "violation": "illegal_parking", "note": "占用消防通道"},
    }
    assert (event["kind"], event["action"], event["data"]["id"]) == (
        "activity",
        "created",
        activity["id"],
    )
    log = center.call(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "activity", "entity_id": str(activity["id"])},
    ).json()
    assert [(e["action"], e["username"]) for e in log] == [("create", "officer")]
    assert log[0]["detail"]["plate"] == "黑AD12345"


def test_assistance_and_stop_checks_are_recorded_and_listed(center: Center) -> None:
    unit_id = _unit_of(center)
    helped = _record(
        center,
        {
            "kind": "assistance",
            "unit_id": unit_id,
            **SPOT,
            "assistance": "directions",
            "people_helped": 3,
        },
    )
    assert helped.status_code == 201, helped.text
    checked = _record(
        center,
        {
            "kind": "stop_check",
            "unit_id": unit_id,
            **SPOT,
            "persons": 2,
            "vehicles": 1,
            "plate": "黑A12345",
            "result": "further_check",
        },
    )
    assert checked.status_code == 201, checked.text
    assert checked.json()["details"] == {
        "persons": 2,
        "vehicles": 1,
        "plate": "黑A12345",
        "result": "further_check",
        "note": "",
    }
    mine = center.call("GET", "/api/activities", params={"unit_id": unit_id}).json()
    assert [a["id"] for a in mine[:2]] == [checked.json()["id"], helped.json()["id"]]
    times = [datetime.fromisoformat(a["at"]) for a in mine]
    assert times == sorted(times, reverse=True)
    checks = center.call("GET", "/api/activities", params={"kind": "stop_check"}).json()
    assert checks
    assert {a["kind"] for a in checks} == {"stop_check"}
    since = center.call(
        "GET", "/api/activities", params={"since": checked.json()["at"], "unit_id": unit_id}
    ).json()
    assert [a["id"] for a in since] == [checked.json()["id"]]
    naive = center.call("GET", "/api/activities", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert "timezone" in naive.json()["message"]


def test_an_officer_records_only_for_his_own_unit(center: Center) -> None:
    own = _unit_of(center)
    units = center.call("GET", "/api/units").json()
    other = next(u["id"] for u in units if u["id"] != own)
    body = {
        "kind": "assistance",
        "unit_id": other,
        **SPOT,
        "assistance": "medical",
        "people_helped": 1,
    }
    refused = _record(center, body)
    assert refused.status_code == 403
    assert f"not unit {other}" in refused.json()["message"]
    assert _record(center, body, user="dispatcher").status_code == 201
    assert _record(center, body, user="kiosk_clerk").status_code == 403
    assert center.client.post("/api/activities", json=body).status_code == 401
    missing = _record(center, {**body, "unit_id": 2_000_000_000}, user="dispatcher")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"plate": "AB12345"},
            "body.violation.plate",
            "plate 'AB12345' is not a Chinese number plate",
        ),
        ({"plate": "黑A1234"}, "body.violation.plate", "'黑A1234'"),
        ({"violation": "littering"}, "body.violation.violation", "illegal_parking"),
        ({"note": "长" * 501}, "body.violation.note", "at most 500"),
        ({"lat": 91}, "body.violation.lat", "less than or equal to 90"),
        ({"kind": "patrol"}, "body", "does not match any of the expected tags"),
        ({"lon": 126.2, "lat": 45.2}, None, "from the nearest road"),
    ],
)
def test_bad_activities_are_refused_with_the_rule_and_value(
    center: Center, change: dict[str, Any], field: str | None, words: str
) -> None:
    body = {
        "kind": "violation",
        "unit_id": _unit_of(center),
        **SPOT,
        "plate": "黑A12345",
        "violation": "red_light",
        **change,
    }
    reply = _record(center, body)
    assert reply.status_code == 422
    assert words in reply.json()["message"]
    if field:
        assert reply.json()["problems"][0]["field"] == field


def test_a_stop_check_checks_someone(center: Center) -> None:
    reply = _record(
        center,
        {
            "kind": "stop_check",
            "unit_id": _unit_of(center),
            **SPOT,
            "persons": 0,
            "vehicles": 0,
            "result": "cleared",
        },
    )
    assert reply.status_code == 422
    assert "persons + vehicles must be >= 1, got 0 + 0" in reply.json()["message"]


def test_the_kinds_fill_the_selects(center: Center) -> None:
    reply = center.call("GET", "/api/activities/kinds", user="officer")
    assert reply.status_code == 200
    kinds = reply.json()
    assert set(kinds) == {"violation", "assistance", "stop_check_result"}
    assert {"code": "illegal_parking", "zh": "违法停车", "en": "illegal parking"} in kinds[
        "violation"
    ]
    assert [c["code"] for c in kinds["stop_check_result"]] == [
        "cleared",
        "further_check",
        "taken_in",
    ]
    assert [c["zh"] for c in kinds["assistance"]] == ["指路", "送医", "车辆故障", "寻人", "其他"]
    assert center.call("GET", "/api/activities/kinds", user="kiosk_clerk").status_code == 403
