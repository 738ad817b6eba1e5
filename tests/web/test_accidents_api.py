"""Traffic accidents through the real app and database: the procedure decided by the check, the
record of Art. 24, photos, liability, signatures, settlement and the general accident's scene."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center
from PIL import Image

SPOT = {"lon": 126.65, "lat": 45.745}
A_ID, B_ID = "11010519491231002X", "220102198503071237"  # GB 11643's example; a made-up one
PARTY_A = {
    "name": "张三",
    "id_number": A_ID,
    "phone": "13800138000",
    "vehicle_type": "小型轿车",
    "plate": "吉A12345",
    "insurer": "中国人保",
    "policy_number": "PDZA202622010000001",
}
PARTY_B = {
    "name": "李四",
    "id_number": B_ID,
    "phone": "+86 139-0013-9000",
    "vehicle_type": "小型轿车",
    "plate": "吉g·d12345",
    "insurer": "平安保险",
    "policy_number": "11201002600000002",
}


def _unit_of(center: Center, user: str = "officer") -> int:
    unit_id: int = center.call("GET", "/api/me", user=user).json()["unit"]["id"]
    return unit_id


def _accident(center: Center, user: str = "officer", **fields: Any) -> Any:
    body = {
        "unit_id": _unit_of(center),
        **SPOT,
        "weather": "snow",
        "collision": "rear_end",
        "collision_point": "甲车前部与乙车尾部",
        "damage": "乙车后保险杠凹陷",
        "place": "中央大街与西十二道街交口",
        **fields,
    }
    return center.call("POST", "/api/traffic/accidents", user=user, json=body)


def _created(center: Center, **fields: Any) -> dict[str, Any]:
    reply = _accident(center, **fields)
    assert reply.status_code == 201, reply.text
    accident: dict[str, Any] = reply.json()
    return accident


def _post(center: Center, accident: dict[str, Any], what: str, body: Any) -> Any:
    return center.call(
        "POST", f"/api/traffic/accidents/{accident['id']}/{what}", user="officer", json=body
    )


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    accident: dict[str, Any] = reply.json()
    return accident


def _parties(center: Center, accident: dict[str, Any], *parties: dict[str, Any]) -> Any:
    return center.call(
        "PUT",
        f"/api/traffic/accidents/{accident['id']}/parties",
        user="officer",
        json={"version": accident["version"], "parties": list(parties)},
    )


def _photo(center: Center, accident: dict[str, Any], kind: str) -> Any:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image, format="JPEG")
    return center.call(
        "POST",
        f"/api/traffic/accidents/{accident['id']}/photos",
        user="officer",
        data={"kind": kind},
        files={"file": (f"{kind}.jpg", image.getvalue(), "image/jpeg")},
    )


def _error(reply: Any, status: int, *words: str) -> str:
    assert reply.status_code == status, reply.text
    message: str = reply.json()["message"]
    for word in words:
        assert word in message, message
    return message


def test_the_check_answers_without_storing(center: Center) -> None:
    questions = center.call("GET", "/api/traffic/eligibility").json()["questions"]
    assert {q["key"] for q in questions} >= {"motor_vehicles", "injured", "insurance_valid"}
    assert all(q["zh"] and q["en"] for q in questions)
    reply = center.call("POST", "/api/traffic/eligibility", json={"answers": {"fled": True}})
    decided = reply.json()
    assert decided["procedure"] == "general"
    assert "art13.fled" in {r["rule"] for r in decided["reasons"]}
    assert decided["answers"]["motor_vehicles"] == 2  # the defaults filled in
    bad = center.call("POST", "/api/traffic/eligibility", json={"answers": {"injured": True}})
    _error(bad, 422, "injured is a count")


def test_a_fender_bender_is_settled_by_the_parties_with_photos(center: Center) -> None:
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        accident = _created(center)
        event = ws.receive_json()
    assert (event["kind"], event["action"], event["data"]["id"]) == (
        "accident",
        "created",
        accident["id"],
    )
    assert accident["procedure"] == "self_settlement"
    assert accident["state"] == "open"
    assert accident["number"].endswith(f"{accident['id']:06d}")
    assert accident["road"]  # the place snapped to a named road
    assert accident["missing_photos"] == ["front_side", "rear_side", "impact"]
    assert (accident["weather"], accident["collision"]) == ("snow", "rear_end")

    accident = _ok(
        _parties(
            center,
            accident,
            {**PARTY_A, "liability": "full"},
            {**PARTY_B, "liability": "none"},
        )
    )
    a, b = accident["parties"]
    assert (a["seq"], a["id_number"], a["phone"], a["plate"]) == (
        1,
        A_ID,
        "13800138000",
        "吉A12345",
    )
    assert (b["phone"], b["plate"]) == ("13900139000", "吉GD12345")

    stale = {"version": accident["version"] - 1}
    _error(_post(center, accident, "settle", stale), 409, "version")
    settle = {"version": accident["version"]}
    _error(_post(center, accident, "settle", settle), 422, "front_side, rear_side, impact")
    for kind in ("front_side", "rear_side"):
        assert _photo(center, accident, kind).status_code == 201
    _error(_post(center, accident, "settle", settle), 422, "missing: impact")
    assert _photo(center, accident, "impact").status_code == 201

    _error(_post(center, accident, "settle", settle), 422, "neither signed nor refused")
    wrong = _post(center, accident, "signatures", {"seq": 1, "name": "王五"})
    _error(wrong, 422, "own name")
    assert "张三" not in wrong.json()["message"]  # masked
    _ok(_post(center, accident, "signatures", {"seq": 1, "name": "张三"}))
    again = _post(center, accident, "signatures", {"seq": 1, "name": "张三"})
    _error(again, 409, "already signed")
    accident = _ok(_post(center, accident, "signatures", {"seq": 2, "name": "李四"}))

    settled = _ok(_post(center, accident, "settle", {"version": accident["version"]}))
    assert settled["state"] == "settled"
    assert settled["agreement_number"].startswith("XY")
    assert settled["ruling_number"] == ""
    assert settled["missing_photos"] == []
    assert sorted(p["kind"] for p in settled["photos"]) == ["front_side", "impact", "rear_side"]
    assert all(p["signed_at"] for p in settled["parties"])
    # settled is final
    _error(_parties(center, settled, PARTY_A, PARTY_B), 409, "settled")

    read = center.call("GET", f"/api/traffic/accidents/{accident['id']}", user="commander")
    assert read.json()["agreement_number"] == settled["agreement_number"]
    log = center.call(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "accident", "entity_id": str(accident["id"])},
    ).json()
    assert {"created", "parties", "signed", "settled"} <= {e["action"] for e in log}
    assert A_ID not in str(log)
    assert "13800138000" not in str(log)
    assert "张三" not in str(log)


def test_an_injury_goes_the_general_way_with_its_scene_steps_timed(center: Center) -> None:
    answers = {"injured": 1, "minor_injuries_only": False}
    accident = _created(center, answers=answers, collision="pedestrian")
    assert accident["procedure"] == "general"
    assert "art22.injury" in {r["rule"] for r in accident["reasons"]}
    assert (accident["injured"], accident["missing_photos"]) == (1, [])
    needed = ["cordon", "injured_helped", "vehicles_placed", "parties_found", "evidence_fixed"]
    assert accident["missing_steps"] == needed

    _error(_post(center, accident, "settle", {"version": accident["version"]}), 409, "general")
    hand = {"version": accident["version"], "to": "交警支队事故处理大队"}
    _error(_post(center, accident, "hand-over", hand), 422, ", ".join(needed))
    times = []
    for step in ["cordon", "traffic_directed", "injured_helped", "vehicles_placed"]:
        accident = _ok(_post(center, accident, "steps", {"step": step, "note": ""}))
        times.append(accident["steps"][-1]["done_at"])
    _error(_post(center, accident, "steps", {"step": "cordon"}), 409, "cordon", "was done at")
    accident = _ok(_post(center, accident, "steps", {"step": "parties_found"}))
    hand = {"version": accident["version"], "to": "交警支队事故处理大队"}
    _error(_post(center, accident, "hand-over", hand), 422, "not done: evidence_fixed")
    accident = _ok(_post(center, accident, "steps", {"step": "evidence_fixed", "note": "已拍照"}))
    assert accident["missing_steps"] == []
    done = _ok(
        _post(center, accident, "hand-over", {"version": accident["version"], "to": "事故大队"})
    )
    assert done["state"] == "handed_over"
    assert done["handed_over_to"] == "事故大队"
    steps = [s["step"] for s in done["steps"]]
    assert steps == [
        "cordon",
        "traffic_directed",
        "injured_helped",
        "vehicles_placed",
        "parties_found",
        "evidence_fixed",
    ]
    stamps = [datetime.fromisoformat(s["done_at"]) for s in done["steps"]]
    assert stamps == sorted(stamps)
    assert all(s["done_by"] == "officer" for s in done["steps"])
    assert datetime.fromisoformat(done["handed_over_at"]) >= stamps[-1]


def test_the_simple_procedure_is_ruled_even_when_a_party_refuses_to_sign(center: Center) -> None:
    accident = _created(center, answers={"insurance_valid": False})
    assert accident["procedure"] == "simple"
    assert accident["missing_photos"] == []  # photos are the quick-handling flow's
    _error(
        _post(center, accident, "steps", {"step": "cordon"}), 409, "steps are those of a general"
    )
    accident = _ok(
        _parties(
            center,
            accident,
            {**PARTY_A, "liability": "main"},
            {**PARTY_B, "liability": "secondary"},
        )
    )
    _ok(_post(center, accident, "signatures", {"seq": 1, "name": "张三"}))
    accident = _ok(_post(center, accident, "signatures", {"seq": 2, "refused": True}))
    assert accident["parties"][1]["refused"] is True
    ruled = _ok(_post(center, accident, "settle", {"version": accident["version"]}))
    assert (ruled["state"], ruled["agreement_number"]) == ("settled", "")
    assert ruled["ruling_number"].startswith("JY")


def test_a_refusal_ends_self_settlement_and_a_new_answer_changes_the_procedure(
    center: Center,
) -> None:
    accident = _created(center)
    accident = _ok(
        _parties(
            center, accident, {**PARTY_A, "liability": "equal"}, {**PARTY_B, "liability": "equal"}
        )
    )
    for kind in ("front_side", "rear_side", "impact"):
        assert _photo(center, accident, kind).status_code == 201
    _ok(_post(center, accident, "signatures", {"seq": 1, "name": "张三"}))
    accident = _ok(_post(center, accident, "signatures", {"seq": 2, "refused": True}))
    _error(
        _post(center, accident, "settle", {"version": accident["version"]}),
        422,
        "parties [2] refused",
        "simple procedure",
    )
    reassessed = _ok(
        _post(
            center,
            accident,
            "answers",
            {"version": accident["version"], "answers": {"facts_agreed": False}},
        )
    )
    assert reassessed["procedure"] == "simple"
    assert "art19.facts_agreed" in {r["rule"] for r in reassessed["reasons"]}
    ruled = _ok(_post(center, reassessed, "settle", {"version": reassessed["version"]}))
    assert ruled["ruling_number"].startswith("JY")


@pytest.mark.parametrize(
    ("parties", "words"),
    [
        (
            [{**PARTY_A, "liability": "full"}, {**PARTY_B, "liability": "full"}],
            ["liability", "fully liable leaves every other party none"],
        ),
        (
            [{**PARTY_A, "liability": "main"}, {**PARTY_B, "liability": "none"}],
            ["main liability is one party's"],
        ),
        (
            [{**PARTY_A, "liability": "equal"}, {**PARTY_B, "liability": "secondary"}],
            ["main liability"],
        ),
        (
            [{**PARTY_A, "liability": "none"}, {**PARTY_B, "liability": "none"}],
            ["only the accident unit rules"],
        ),
        ([{**PARTY_A, "liability": "full"}, PARTY_B], ["must be set"]),
        ([PARTY_A], ["exactly 2 parties", "got 1"]),
        ([PARTY_A, {**PARTY_B, "plate": ""}], ["each with a plate", "1 plates"]),
        ([PARTY_A, PARTY_B, {**PARTY_B, "name": "王五"}], ["exactly 2 parties", "got 3"]),
        ([PARTY_A, {**PARTY_B, "plate": "吉A1234O"}], ["party 2"]),
        ([PARTY_A, {**PARTY_B, "plate": "ABC123"}], ["party 2"]),
        ([{**PARTY_A, "id_number": "110105194912310021"}, PARTY_B], ["party 1", "check"]),
        ([{**PARTY_A, "id_number": "110105194913310029"}, PARTY_B], ["party 1"]),
        ([PARTY_A, {**PARTY_B, "phone": "0431-88888888"}], ["party 2"]),
        ([PARTY_A, {**PARTY_B, "name": "1234"}], ["party 2"]),
        ([PARTY_A, {**PARTY_B, "id_kind": "passport", "id_number": "E12/45"}], ["party 2"]),
    ],
)
def test_impossible_parties_are_refused_by_their_rule(
    center: Center, parties: list[dict[str, Any]], words: list[str]
) -> None:
    accident = _created(center)
    reply = _parties(center, accident, *parties)
    message = _error(reply, 422, *words)
    assert "110105194912310021" not in message  # an ID number is never echoed whole
    still = center.call("GET", f"/api/traffic/accidents/{accident['id']}", user="officer").json()
    assert (still["parties"], still["version"]) == ([], accident["version"])


def test_a_passport_holder_is_a_party(center: Center) -> None:
    accident = _created(center)
    foreigner = {**PARTY_B, "name": "John Smith", "id_kind": "passport", "id_number": "e1234567"}
    accident = _ok(_parties(center, accident, PARTY_A, foreigner))
    assert accident["parties"][1]["id_number"] == "E1234567"


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"lon": 30.0, "lat": 0.0}, 422, []),
        ({"weather": "sunny"}, 422, []),
        ({"answers": {"injured": -1}}, 422, ["injured is a count"]),
        ({"answers": {"sober": True}}, 422, ["unknown eligibility questions"]),
        ({"answers": {"motor_vehicles": 0}}, 422, ["motor_vehicles must be >= 1"]),
        ({"occurred_at": "2100-01-01T00:00:00+00:00"}, 422, []),
        ({"unit_id": 2_147_483_647}, 403, ["own unit"]),
        ({"incident_id": 2_147_483_647}, 404, ["incident 2147483647"]),
    ],
)
def test_a_bad_accident_is_refused_and_nothing_is_recorded(
    center: Center, fields: dict[str, Any], status: int, words: list[str]
) -> None:
    before = len(center.call("GET", "/api/traffic/accidents", user="commander").json())
    _error(_accident(center, **fields), status, *words)
    after = len(center.call("GET", "/api/traffic/accidents", user="commander").json())
    assert after == before


def test_a_time_in_the_future_or_long_past_is_refused(center: Center) -> None:
    now = datetime.now(UTC)
    future = (now + timedelta(minutes=10)).isoformat()
    _error(_accident(center, occurred_at=future), 422, "occurred_at", "future")
    past = (now - timedelta(days=8)).isoformat()
    _error(_accident(center, occurred_at=past), 422, "occurred_at", "before now")


def test_non_standard_json_is_refused(center: Center) -> None:
    body = (
        f'{{"unit_id": {_unit_of(center)}, "lon": NaN, "lat": 45.745, "weather": "clear", '
        '"collision": "side"}'
    )
    reply = center.client.post(
        "/api/traffic/accidents",
        content=body,
        headers={**center.as_("officer"), "Content-Type": "application/json"},
    )
    assert reply.status_code == 422, reply.text


def test_an_accident_links_to_its_traffic_incident_once(center: Center) -> None:
    def incident(code: str) -> int:
        body = {**SPOT, "category_code": code, "address": "中央大街"}
        reply = center.call("POST", "/api/incidents", user="dispatcher", json=body)
        assert reply.status_code == 201, reply.text
        number: int = reply.json()["id"]
        return number

    robbery = incident("010100")
    _error(_accident(center, incident_id=robbery), 422, "not a traffic one")
    crash = incident("030100")
    linked = _created(center, incident_id=crash, place="")
    assert linked["incident_id"] == crash
    assert linked["place"] == "中央大街"  # from the call
    _error(_accident(center, incident_id=crash), 409, "already has accident", linked["number"])
    for number in (robbery, crash):
        center.call("POST", f"/api/incidents/{number}/cancel", json={"reason": "test"})


def test_who_may_record_and_read(center: Center) -> None:
    own = _unit_of(center)
    units = center.call("GET", "/api/units").json()
    other = next(u["id"] for u in units if u["id"] != own)
    _error(_accident(center, unit_id=other), 403, "own unit")
    _error(_accident(center, user="kiosk_clerk"), 403)
    _error(_accident(center, user="dispatcher"), 403, "handle traffic")
    by_commander = _accident(center, user="commander", unit_id=other)
    assert by_commander.status_code == 201, by_commander.text
    theirs = by_commander.json()
    # the officer neither reads nor changes another unit's accident
    path = f"/api/traffic/accidents/{theirs['id']}"
    _error(center.call("GET", path, user="officer"), 403)
    _error(_parties(center, theirs, PARTY_A, PARTY_B), 403, "own unit")
    listed = center.call("GET", "/api/traffic/accidents", user="officer").json()
    assert listed
    assert {a["unit_id"] for a in listed} == {own}
    assert theirs["id"] in {
        a["id"] for a in center.call("GET", "/api/traffic/accidents", user="dispatcher").json()
    }
    _error(center.call("GET", "/api/traffic/accidents", user="kiosk_clerk"), 403)
    assert center.client.get("/api/traffic/accidents").status_code == 401
