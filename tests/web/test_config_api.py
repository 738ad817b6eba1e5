"""A commander changes the reference data, and new incidents follow it."""

from __future__ import annotations

from center import Center

THEFT = "010100"


def _new_incident(center: Center, code: str) -> dict:  # type: ignore[type-arg]
    reply = center.call(
        "POST", "/api/incidents", json={"lon": 126.67, "lat": 45.73, "category_code": code}
    )
    assert reply.status_code == 201, reply.text
    center.call("POST", f"/api/incidents/{reply.json()['id']}/cancel", json={"reason": "test"})
    return reply.json()  # type: ignore[no-any-return]


def test_only_a_commander_changes_reference_data(center: Center) -> None:
    reply = center.call("PATCH", f"/api/categories/{THEFT}", json={"priority": 1})
    assert reply.status_code == 403
    assert (
        center.call(
            "PUT", "/api/tiers", json={"name": "x", "bound_min": 2, "applies_to": "first"}
        ).status_code
        == 403
    )


def test_a_changed_priority_and_plan_reach_new_incidents(center: Center) -> None:
    was = _new_incident(center, THEFT)["priority"]
    other = was % 4 + 1
    plans = {(p["top_code"], p["priority"]): p for p in center.call("GET", "/api/plans").json()}
    old_plan = plans[("010000", other)]
    changed = center.call(
        "PATCH", f"/api/categories/{THEFT}", user="commander", json={"priority": other}
    )
    assert changed.json()["priority"] == other
    plan = center.call(
        "PUT",
        "/api/plans",
        user="commander",
        json={"top_code": "010000", "priority": other, "units": 2, "distinct_zones": True},
    )
    assert plan.status_code == 200, plan.text
    after = _new_incident(center, THEFT)
    assert (after["priority"], after["required_units"], after["distinct_zones"]) == (
        other,
        2,
        True,
    )
    center.call("PATCH", f"/api/categories/{THEFT}", user="commander", json={"priority": was})
    center.call("PUT", "/api/plans", user="commander", json=old_plan)
    log = center.call(
        "GET", "/api/audit", user="commander", params={"entity": "category", "entity_id": THEFT}
    ).json()
    assert [e["detail"]["after"]["priority"] for e in log][:2] == [was, other]


def test_a_retired_category_takes_no_new_incidents(center: Center) -> None:
    center.call("PATCH", "/api/categories/020900", user="commander", json={"active": False})
    reply = center.call(
        "POST", "/api/incidents", json={"lon": 126.67, "lat": 45.73, "category_code": "020900"}
    )
    center.call("PATCH", "/api/categories/020900", user="commander", json={"active": True})
    assert reply.status_code == 422
    assert "retired" in reply.json()["message"]


def test_new_categories_need_their_parent(center: Center) -> None:
    body = {"code": "059900", "name_zh": "测试求助", "name_en": "test help", "priority": 3}
    added = center.call("POST", "/api/categories", user="commander", json=body)
    assert added.status_code == 201, added.text
    assert (added.json()["level"], added.json()["parent_code"]) == (2, "050000")
    again = center.call("POST", "/api/categories", user="commander", json=body)
    assert again.status_code == 409
    orphan = center.call(
        "POST", "/api/categories", user="commander", json={**body, "code": "887700"}
    )
    assert orphan.status_code == 422
    assert "880000" in orphan.json()["message"]


def test_tiers_are_configurable(center: Center) -> None:
    tier = {
        "name": "2分钟测试",
        "bound_min": 2,
        "applies_to": "backup",
        "place_classes": [],
        "zones": ["Z01"],
    }
    assert center.call("PUT", "/api/tiers", user="commander", json=tier).status_code == 200
    assert "2分钟测试" in [t["name"] for t in center.call("GET", "/api/tiers").json()]
    gone = center.call("DELETE", "/api/tiers/2分钟测试", user="commander")
    assert gone.status_code == 204
    assert "2分钟测试" not in [t["name"] for t in center.call("GET", "/api/tiers").json()]
    bad = center.call("PUT", "/api/tiers", user="commander", json={**tier, "bound_min": 0})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["field"] == "body.bound_min"
