"""The catalogue's routes through the real app: citizens read the services and a kiosk's hours
(no login), commanders change items and hours (audited); others are refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from center import Center

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLIC_FIELDS = {
    "code", "kind", "name_zh", "name_en", "eligible", "excluded", "documents", "fee_yuan",
    "fee_note", "time_limit_days", "channels", "minutes", "bookable",
}  # fmt: skip


def test_citizens_see_active_services_and_only_public_fields(center: Center) -> None:
    reply = center.client.get("/api/public/services")
    assert reply.status_code == 200, reply.text
    services = reply.json()
    assert set(services[0]) == PUBLIC_FIELDS
    codes = [s["code"] for s in services]
    assert {"JG-01", "HZ-01", "HL-01"} <= set(codes)
    kinds = [s["kind"] for s in services if s["code"][:3] in ("JG-", "HZ-", "HL-")]
    assert kinds == sorted(kinds, key=["traffic", "household", "online"].index)
    renewal = next(s for s in services if s["code"] == "JG-01")
    assert renewal["documents"][0] == {
        "name_zh": "居民身份证", "name_en": "Resident ID card", "form": "original",
        "validity": "在有效期内",
    }  # fmt: skip


def test_a_kiosks_hours_for_the_next_seven_days(center: Center) -> None:
    kiosk_id = center.client.get("/api/public/kiosks").json()[0]["id"]
    reply = center.client.get(f"/api/public/kiosks/{kiosk_id}/hours")
    assert reply.status_code == 200, reply.text
    days = reply.json()["days"]
    today = datetime.now(SHANGHAI).date()
    assert [d["date"] for d in days] == [str(today + timedelta(days=i)) for i in range(7)]
    for day in days:
        assert day["windows"], day  # the default hours open every kind of day
        if day["day_kind"] == "workday":
            assert [(w["starts"], w["ends"], w["after_hours"]) for w in day["windows"]] == [
                ("08:30", "11:30", False), ("13:30", "17:00", False), ("17:30", "20:00", True),
            ]  # fmt: skip
        if day["day_kind"] == "restday":
            assert [(w["starts"], w["ends"]) for w in day["windows"]] == [("09:00", "16:00")]
    assert center.client.get("/api/public/kiosks/2147483647/hours").status_code == 404


def test_commanders_change_an_item_and_citizens_see_it(center: Center) -> None:
    listed = center.call("GET", "/api/services/catalogue", user="commander").json()
    item = next(i for i in listed if i["code"] == "HL-08")
    body = {"version": item["version"], "name_en": "Household services online", "active": False}
    reply = center.call("PUT", "/api/services/catalogue/HL-08", user="commander", json=body)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["version"], reply.json()["active"]) == (item["version"] + 1, False)
    stale = center.call("PUT", "/api/services/catalogue/HL-08", user="admin", json=body)
    assert stale.status_code == 409
    assert "HL-08" not in [s["code"] for s in center.client.get("/api/public/services").json()]
    audit = center.call(
        "GET", "/api/audit?entity=service_item&entity_id=HL-08", user="admin"
    ).json()
    assert audit[0]["username"] == "commander"
    assert audit[0]["detail"]["before"]["active"] is True
    assert audit[0]["detail"]["after"] == {"name_en": "Household services online", "active": False}
    back = {"active": True}
    assert center.call("PUT", "/api/services/catalogue/HL-08", user="admin", json=back).is_success


def test_bodies_are_strict(center: Center) -> None:
    for body in (
        {"fee_yuan": -1},
        {"colour": "red"},
        {"name_zh": "x" * 101},
        {"channels": ["fax"]},
        {"documents": [{"name_zh": "a", "name_en": "a", "form": "scan"}]},
    ):
        reply = center.call("PUT", "/api/services/catalogue/JG-02", user="commander", json=body)
        assert reply.status_code == 422, (body, reply.text)
    new = {"code": "HL-91", "kind": "online", "name_zh": "测试", "name_en": "Test",
           "channels": ["online"], "bookable": False}  # fmt: skip
    made = center.call("POST", "/api/services/catalogue", user="admin", json=new)
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1
    again = center.call("POST", "/api/services/catalogue", user="admin", json=new)
    assert again.status_code == 409
    bad_code = {**new, "code": "hl 91"}
    assert (
        center.call("POST", "/api/services/catalogue", user="admin", json=bad_code).status_code
        == 422
    )
    assert (
        center.call("PUT", "/api/services/catalogue/ZZ-99", user="admin", json={}).status_code
        == 404
    )


def test_hours_of_a_kiosk_override_the_default(center: Center) -> None:
    kiosk_id = center.client.get("/api/public/kiosks").json()[-1]["id"]
    windows = [
        {"day_kind": kind, "starts": "10:00", "ends": "12:00", "capacity": 3}
        for kind in ("workday", "restday", "holiday")
    ]
    body = {"kiosk_id": kiosk_id, "windows": windows}
    reply = center.call("PUT", "/api/services/hours", user="commander", json=body)
    assert reply.status_code == 200, reply.text
    days = center.client.get(f"/api/public/kiosks/{kiosk_id}/hours").json()["days"]
    assert all(
        [(w["starts"], w["ends"]) for w in d["windows"]] == [("10:00", "12:00")] for d in days
    )
    scopes = center.call("GET", f"/api/services/hours?kiosk_id={kiosk_id}", user="admin").json()
    assert [s["kiosk_id"] for s in scopes] == [None, kiosk_id]
    overlap = {
        "kiosk_id": kiosk_id,
        "windows": [windows[0], {**windows[0], "starts": "11:00", "ends": "13:00"}],
    }
    refused = center.call("PUT", "/api/services/hours", user="commander", json=overlap)
    assert refused.status_code == 422
    assert "do not overlap" in refused.json()["message"]
    cleared = center.call(
        "PUT", "/api/services/hours", user="commander", json={"kiosk_id": kiosk_id, "windows": []}
    )
    assert cleared.status_code == 200
    assert cleared.json()["windows"] == []
    days = center.client.get(f"/api/public/kiosks/{kiosk_id}/hours").json()["days"]
    for day in days:  # the city's default again
        expected = {"workday": 3, "restday": 1, "holiday": 2}[day["day_kind"]]
        assert len(day["windows"]) == expected, day


def test_only_configurers_touch_the_catalogue(center: Center) -> None:
    for user in ("dispatcher", "officer", "kiosk_clerk"):
        for method, path, body in (
            ("GET", "/api/services/catalogue", None),
            ("PUT", "/api/services/catalogue/JG-01", {"minutes": 30}),
            ("GET", "/api/services/hours", None),
            ("PUT", "/api/services/hours", {"windows": []}),
        ):
            reply = center.call(method, path, user=user, json=body)
            assert reply.status_code == 403, (user, method, path, reply.text)
    assert center.client.get("/api/services/catalogue").status_code == 401
