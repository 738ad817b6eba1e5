"""Traffic violations through the real app and database: the code table, recording, handling,
lookups at the counter and by citizens, the statistics."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center

SPOT = {"lon": 126.65, "lat": 45.745}
_plates = itertools.count(1)


def _unit_of(center: Center, user: str = "officer") -> int:
    unit_id: int = center.call("GET", "/api/me", user=user).json()["unit"]["id"]
    return unit_id


def _plate() -> str:
    """A plate no other test uses: each test's lookups see only its own violations."""
    return f"吉B{datetime.now(UTC).strftime('%S')}{next(_plates) % 1000:03d}"


def _record(center: Center, user: str = "officer", **change: Any) -> Any:
    body = {"plate": _plate(), "code": "1625", "unit_id": _unit_of(center), **SPOT, **change}
    return center.call("POST", "/api/traffic/violations", user=user, json=body)


def _code(center: Center, code: str) -> dict[str, Any]:
    rows = center.call("GET", "/api/traffic/codes").json()
    found: dict[str, Any] = next(c for c in rows if c["code"] == code)
    return found


def test_the_table_is_seeded_for_jilin_with_points_of_163(center: Center) -> None:
    rows = center.call("GET", "/api/traffic/codes", user="kiosk_clerk").json()
    points = {c["code"]: c["points"] for c in rows}
    assert {k: points[k] for k in ("1625", "1039", "1223", "1301", "1240")} == {
        "1625": 6,
        "1039": 0,
        "1223": 3,
        "1301": 3,
        "1240": 1,
    }
    red = _code(center, "1625")
    assert (red["province"], red["fine_min_yuan"], red["fine_max_yuan"]) == ("吉林省", 20, 200)
    assert "163号令" in red["source"]


def test_a_violation_is_recorded_handled_and_found_by_plate(center: Center) -> None:
    plate = _plate()
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        reply = _record(
            center, plate=plate.replace("B", "b·"), engine_tail="a1b2c3", place="人民大街"
        )
        assert reply.status_code == 201, reply.text
        event = ws.receive_json()
    v = reply.json()
    assert (event["kind"], event["action"], event["data"]["id"]) == (
        "violation",
        "created",
        v["id"],
    )
    assert (v["plate"], v["plate_kind"], v["code"], v["points"], v["fine_yuan"]) == (
        plate,
        "ordinary",
        "1625",
        6,
        200,
    )
    assert (v["state"], v["recorded_by"], v["call_sign"], v["photos"]) == (
        "pending",
        "officer",
        "JX01-1",
        [],
    )
    assert v["number"] == f"W{datetime.fromisoformat(v['at']):%Y%m%d}{v['id']:06d}"
    log = center.call(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "traffic_violation", "entity_id": str(v["id"])},
    ).json()
    assert [e["action"] for e in log] == ["create"]
    assert "a1b2c3" not in str(log).lower()
    listed = center.call("GET", "/api/traffic/violations", user="officer").json()
    assert v["id"] in [r["id"] for r in listed]
    # at the counter, by plate
    found = center.call(
        "POST", "/api/traffic/violations/lookup", user="kiosk_clerk", json={"plate": plate}
    ).json()
    assert (found["plate"], [r["id"] for r in found["violations"]]) == (plate, [v["id"]])
    # by the citizen: the right tail finds it, masked; a wrong tail is a plate without any
    public = center.client.post(
        "/api/public/violations/lookup", json={"plate": plate, "engine_tail": "A1B2C3"}
    ).json()
    assert public["available"] is True
    assert public["violations"] == [
        {
            "number": v["number"],
            "at": public["violations"][0]["at"],
            "place": "人民大街",
            "code": "1625",
            "name_zh": v["name_zh"],
            "name_en": v["name_en"],
            "points": 6,
            "fine_yuan": 200,
            "state": "pending",
        }
    ]
    wrong = center.client.post(
        "/api/public/violations/lookup", json={"plate": plate, "engine_tail": "A1B2C4"}
    )
    nobody = center.client.post(
        "/api/public/violations/lookup", json={"plate": _plate(), "engine_tail": "A1B2C3"}
    )
    assert wrong.status_code == nobody.status_code == 200
    assert wrong.json() == nobody.json()
    assert wrong.json()["violations"] == []
    # decided, then paid, by a clerk at the counter
    path = f"/api/traffic/violations/{v['id']}"
    decided = center.call("POST", f"{path}/decide", user="kiosk_clerk", json={"version": 1})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["state"], decided.json()["decision_number"]) == (
        "decided",
        f"D{v['number'][1:]}",
    )
    stale = center.call("POST", f"{path}/pay", user="kiosk_clerk", json={"version": 1})
    assert stale.status_code == 409
    assert "at version 2, not 1" in stale.json()["message"]
    again = center.call("POST", f"{path}/decide", user="officer", json={"version": 2})
    assert again.status_code == 409
    assert "is decided: only a pending one can become decided" in again.json()["message"]
    paid = center.call("POST", f"{path}/pay", user="kiosk_clerk", json={"version": 2})
    assert (paid.status_code, paid.json()["state"]) == (200, "paid")
    assert paid.json()["paid_at"] is not None
    twice = center.call("POST", f"{path}/pay", user="kiosk_clerk", json={"version": 3})
    assert "pending -> decided -> paid" in twice.json()["message"]


def test_a_decision_number_given_is_kept(center: Center) -> None:
    v = _record(center, code="1039").json()
    reply = center.call(
        "POST",
        f"/api/traffic/violations/{v['id']}/decide",
        user="officer",
        json={"version": 1, "decision_number": "2201041234567890"},
    )
    assert reply.json()["decision_number"] == "2201041234567890"


def test_an_edit_of_the_code_leaves_recorded_violations_as_they_were(center: Center) -> None:
    new = {
        "code": "1116",
        "name_zh": "测试代码",
        "name_en": "a test code",
        "points": 1,
        "fine_min_yuan": 20,
        "fine_max_yuan": 200,
        "fine_yuan": 100,
    }
    added = center.call("POST", "/api/traffic/codes", user="admin", json=new)
    assert added.status_code in (201, 409), added.text  # the other backend's run added it
    code = _code(center, "1116")
    before = _record(center, code="1116").json()
    changed = center.call(
        "PUT",
        "/api/traffic/codes/1116",
        user="admin",
        json={"version": code["version"], "fine_yuan": code["fine_yuan"] + 50},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == code["version"] + 1
    stale = center.call(
        "PUT", "/api/traffic/codes/1116", user="admin", json={"version": code["version"]}
    )
    assert stale.status_code == 409
    found = center.call(
        "POST", "/api/traffic/violations/lookup", user="officer", json={"plate": before["plate"]}
    ).json()["violations"][0]
    assert (found["fine_yuan"], found["code_version"]) == (before["fine_yuan"], code["version"])
    after = _record(center, code="1116").json()
    assert (after["fine_yuan"], after["code_version"]) == (
        code["fine_yuan"] + 50,
        code["version"] + 1,
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"points": 2}, "points are one of (0, 1, 3, 6, 9, 12)"),
        ({"fine_yuan": 500}, "fine_min_yuan <= fine_yuan <= fine_max_yuan, got 20.0 <= 500"),
        ({"fine_max_yuan": 10}, "fine_min_yuan <= fine_yuan <= fine_max_yuan"),
        ({"name_zh": None}, "cannot be set to null: name_zh"),
    ],
)
def test_bad_code_edits_are_refused(center: Center, change: dict[str, Any], words: str) -> None:
    code = _code(center, "1344")
    reply = center.call(
        "PUT", "/api/traffic/codes/1344", user="admin", json={"version": code["version"], **change}
    )
    assert reply.status_code == 422, reply.text
    assert words in reply.json()["message"]
    assert center.call(
        "PUT", "/api/traffic/codes/1344", user="commander", json={"version": 1}
    ).status_code in (200, 409)  # commanders configure too
    assert (
        center.call(
            "PUT", "/api/traffic/codes/1344", user="officer", json={"version": 1}
        ).status_code
        == 403
    )


def test_who_may_record_and_for_which_unit(center: Center) -> None:
    units = center.call("GET", "/api/units").json()
    other = next(u["id"] for u in units if u["id"] != _unit_of(center))
    refused = _record(center, unit_id=other)
    assert refused.status_code == 403
    assert f"not unit {other}" in refused.json()["message"]
    clerk = _record(center, user="kiosk_clerk")
    assert clerk.status_code == 403
    assert "may not handle traffic" in clerk.json()["message"]
    assert _record(center, user="dispatcher").status_code == 403
    # another unit's violation: an officer neither sees it nor decides it
    theirs = _record(center, user="commander", unit_id=other).json()
    mine = center.call("GET", "/api/traffic/violations", user="officer").json()
    assert theirs["id"] not in [r["id"] for r in mine]
    assert (
        center.call(
            "GET", "/api/traffic/violations", user="officer", params={"unit_id": other}
        ).status_code
        == 403
    )
    decide = center.call(
        "POST",
        f"/api/traffic/violations/{theirs['id']}/decide",
        user="officer",
        json={"version": 1},
    )
    assert decide.status_code == 403
    looked = center.call(
        "POST", "/api/traffic/violations/lookup", user="officer", json={"plate": theirs["plate"]}
    ).json()
    assert looked["violations"] == []


@pytest.mark.parametrize(
    ("plate", "rule"),
    [
        ("XA12345", "the first character is a province's"),
        ("吉I12345", "issuing office's letter, A-Z without I and O"),
        ("吉AO1234", "no letter I or O"),
        ("吉A1234", "a plate has 7 characters"),
        ("吉AM12345", "an 8-character plate is a new-energy one"),
        ("吉AD1234E", "small new-energy plate's last 4 characters are digits"),
        ("吉A1234港", "begins with 粤Z"),
        ("使01457", "an embassy plate is 使 and 6 digits"),
    ],
)
def test_every_bad_plate_is_refused_naming_the_rule(center: Center, plate: str, rule: str) -> None:
    for reply in (
        _record(center, plate=plate),
        center.call("POST", "/api/traffic/plates/check", user="officer", json={"plate": plate}),
        center.call(
            "POST", "/api/traffic/violations/lookup", user="kiosk_clerk", json={"plate": plate}
        ),
        center.client.post(
            "/api/public/violations/lookup", json={"plate": plate, "engine_tail": "A1B2C3"}
        ),
    ):
        assert reply.status_code == 422, reply.text
        assert rule in reply.json()["message"]
        assert repr(plate) in reply.json()["message"]


def test_a_plate_is_checked_with_its_kind(center: Center) -> None:
    reply = center.call(
        "POST", "/api/traffic/plates/check", user="kiosk_clerk", json={"plate": "粤z·1234港"}
    )
    assert reply.json() == {
        "plate": "粤Z1234港",
        "kind": "hong_kong",
        "zh": "香港入出境车号牌",
        "en": "Hong Kong cross-border vehicle plate",
    }


def _stamp(at: datetime) -> str:
    return at.isoformat()


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"code": "9999"}, 404, "there is no violation code '9999'"),
        ({"code": "16 25"}, 422, "body.code"),
        ({"at": "future"}, 422, "lies in the future"),
        ({"at": "old"}, 422, "is more than 168 h before now"),
        ({"at": "2026-01-01T00:00:00"}, 422, "timezone"),
        ({"lon": 126.2, "lat": 45.2}, 422, "from the nearest road"),
        ({"lat": 91}, 422, "less than or equal to 90"),
        ({"engine_tail": "12345"}, 422, "body.engine_tail"),
        ({"engine_tail": "12345Ä"}, 422, "body.engine_tail"),
        ({"accident_id": 2_000_000_000}, 404, "accident 2000000000 does not exist"),
        ({"unit_id": 2_000_000_000}, 403, "not unit 2000000000"),
    ],
)
def test_bad_violations_are_refused_with_the_rule(
    center: Center, change: dict[str, Any], status: int, words: str
) -> None:
    now = datetime.now(UTC)
    if change.get("at") == "future":
        change = {"at": _stamp(now + timedelta(minutes=5))}
    elif change.get("at") == "old":
        change = {"at": _stamp(now - timedelta(days=8))}
    reply = _record(center, **change)
    assert reply.status_code == status, reply.text
    assert words in str(reply.json())


def test_nan_is_no_longitude(center: Center) -> None:
    unit_id = _unit_of(center)
    body = f'{{"plate": "吉A12345", "code": "1625", "unit_id": {unit_id}, "lon": NaN, "lat": 45.7}}'
    reply = center.client.post(
        "/api/traffic/violations",
        content=body.encode(),
        headers={**center.as_("officer"), "content-type": "application/json"},
    )
    assert reply.status_code == 422
    assert "NaN is not a JSON number" in reply.json()["message"]


def test_a_retired_code_is_not_recorded(center: Center) -> None:
    code = _code(center, "1345")
    if code["active"]:
        retired = center.call(
            "PUT",
            "/api/traffic/codes/1345",
            user="admin",
            json={"version": code["version"], "active": False},
        )
        assert retired.status_code == 200, retired.text
    reply = _record(center, code="1345")
    assert reply.status_code == 422
    assert "violation code 1345 is retired" in reply.json()["message"]


def test_a_violation_counts_once_in_the_statistics(center: Center) -> None:
    def violations() -> int:
        reply = center.call(
            "GET",
            "/api/analytics/summary",
            user="commander",
            params={"period": "year", "date": datetime.now(UTC).date().isoformat()},
        )
        assert reply.status_code == 200, reply.text
        return int(next(f for f in reply.json()["figures"] if f["key"] == "violations")["value"])

    before = violations()
    assert _record(center, code="1240").status_code == 201
    assert violations() == before + 1
    activities = center.call("GET", "/api/activities", params={"kind": "violation", "limit": 1})
    details = activities.json()[0]["details"]
    assert (details["violation"], details["code"]) == ("no_seatbelt", "1240")


def test_the_list_filters_by_state_and_time(center: Center) -> None:
    v = _record(center, code="1223").json()
    center.call(
        "POST", f"/api/traffic/violations/{v['id']}/decide", user="officer", json={"version": 1}
    )
    decided = center.call("GET", "/api/traffic/violations", params={"state": "decided"}).json()
    assert v["id"] in [r["id"] for r in decided]
    assert {r["state"] for r in decided} == {"decided"}
    pending = center.call("GET", "/api/traffic/violations", params={"state": "pending"}).json()
    assert v["id"] not in [r["id"] for r in pending]
    since = center.call("GET", "/api/traffic/violations", params={"since": v["at"]}).json()
    assert all(r["at"] >= v["at"] for r in since)
    assert v["id"] in [r["id"] for r in since]
    bad = center.call("GET", "/api/traffic/violations", params={"state": "lost"})
    assert bad.status_code == 422
    assert "pending" in bad.json()["message"]


def test_two_clerks_deciding_one_violation_at_once_one_wins(center: Center) -> None:
    violation = _record(center).json()
    answers: list[int] = []
    gate = threading.Barrier(8)

    def clerk(n: int) -> None:
        gate.wait()
        body = {"version": violation["version"], "decision_number": f"D-RACE-{n}"}
        path = f"/api/traffic/violations/{violation['id']}/decide"
        answers.append(center.call("POST", path, user="kiosk_clerk", json=body).status_code)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [409] * 7
    found = center.call(
        "POST",
        "/api/traffic/violations/lookup",
        user="kiosk_clerk",
        json={"plate": violation["plate"]},
    ).json()["violations"]
    assert [(v["state"], v["version"]) for v in found] == [("decided", violation["version"] + 1)]
