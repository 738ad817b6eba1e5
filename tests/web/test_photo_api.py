"""Photos of accidents and violations, and the road stretches with the most accidents, through
the real app and database: real images made here, every bad upload refused naming its rule,
the bytes served back only to a bearer token of someone who may see them.

The accidents and violations are written in the database directly (their own routes are
tested in test_accidents_api and test_violations_api).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from center import Center
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.traffic.models import (
    Accident,
    AccidentState,
    Collision,
    Procedure,
    TrafficViolation,
    ViolationState,
    Weather,
)
from jiaoxun.units.models import Unit
from jiaoxun.web.deps import AppState

SPOT = {"lon": 126.65, "lat": 45.745}
_numbers = itertools.count(1)


def image(fmt: str = "JPEG", size: tuple[int, int] = (320, 240), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    colour: Any = 0 if mode == "1" else (next(_numbers) % 256, 120, 40)  # each one different
    Image.new(mode, size, color=colour).save(out, format=fmt)
    return out.getvalue()


def _state(center: Center) -> AppState:
    state: AppState = center.client.app.state.jiaoxun  # type: ignore[attr-defined]
    return state


def _unit_of(center: Center, user: str = "officer") -> int:
    unit_id: int = center.call("GET", "/api/me", user=user).json()["unit"]["id"]
    return unit_id


def _other_unit(center: Center) -> int:
    with Session(center.engine) as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.id != _unit_of(center)))
    assert unit_id is not None
    return unit_id


def accident(
    center: Center,
    *,
    unit_id: int | None = None,
    state: AccidentState = AccidentState.OPEN,
    at: datetime | None = None,
    edge: int | None = None,
    road: str = "",
    incident_id: int | None = None,
    zone_id: int | None = None,
) -> int:
    """An accident row as an officer's record would leave it."""
    now = datetime.now(UTC)
    row = Accident(
        number=f"TEST-{uuid.uuid4().hex[:20]}",
        incident_id=incident_id,
        unit_id=unit_id if unit_id is not None else _unit_of(center),
        zone_id=zone_id,
        recorded_by="officer",
        occurred_at=at or now,
        recorded_at=now,
        **SPOT,
        road=road,
        edge=edge,
        weather=Weather.CLEAR,
        collision=Collision.REAR_END,
        answers={},
        procedure=Procedure.SELF_SETTLEMENT,
        reasons=[],
        state=state,
    )
    with Session(center.engine) as session, session.begin():
        session.add(row)
        session.flush()
        return row.id


def violation(
    center: Center, *, unit_id: int | None = None, state: ViolationState = ViolationState.PENDING
) -> int:
    now = datetime.now(UTC)
    row = TrafficViolation(
        number=f"TEST-{uuid.uuid4().hex[:20]}",
        plate="吉G12345",
        plate_kind="ordinary",
        code="1039",
        code_version=1,
        name_zh="违反规定停放",
        name_en="Illegal parking",
        points=0,
        fine_yuan=100.0,
        at=now,
        recorded_at=now,
        **SPOT,
        unit_id=unit_id if unit_id is not None else _unit_of(center),
        recorded_by="officer",
        state=state,
    )
    with Session(center.engine) as session, session.begin():
        session.add(row)
        session.flush()
        return row.id


def upload(
    center: Center,
    path: str,
    data: bytes,
    *,
    content_type: str = "image/jpeg",
    kind: str = "front_side",
    user: str = "officer",
) -> Any:
    return center.call(
        "POST",
        path,
        user=user,
        data={"kind": kind},
        files={"file": ("photo.jpg", data, content_type)},
    )


def _error(reply: Any, status: int, *words: str) -> None:
    assert reply.status_code == status, reply.text
    message = reply.json()["message"]
    for word in words:
        assert word in message, message


def test_an_officer_adds_photos_to_his_accident_and_reads_them_back(center: Center) -> None:
    accident_id = accident(center)
    path = f"/api/traffic/accidents/{accident_id}/photos"
    jpeg, png = image("JPEG", (640, 480)), image("PNG", (200, 100))
    with center.client.websocket_connect(center.events_path("dispatcher")) as ws:
        reply = upload(center, path, jpeg)
        assert reply.status_code == 201, reply.text
        event = ws.receive_json()
    photo = reply.json()
    assert {k: v for k, v in photo.items() if k not in {"id", "uploaded_at"}} == {
        "kind": "front_side",
        "content_type": "image/jpeg",
        "size": len(jpeg),
        "sha256": hashlib.sha256(jpeg).hexdigest(),
        "width": 640,
        "height": 480,
        "uploaded_by": "officer",
    }
    assert (event["kind"], event["action"], event["data"]["id"]) == ("photo", "added", photo["id"])
    assert (event["data"]["owner"], event["data"]["owner_id"]) == ("accident", accident_id)
    second = upload(center, path, png, content_type="image/png", kind="impact").json()
    assert (second["width"], second["height"], second["content_type"]) == (200, 100, "image/png")
    # the same photo sent again (a retry) is the same photo
    assert upload(center, path, jpeg).json()["id"] == photo["id"]
    for sent, data in ((photo, jpeg), (second, png)):
        served = center.call("GET", f"/api/traffic/photos/{sent['id']}", user="dispatcher")
        assert served.status_code == 200, served.text
        assert served.content == data
        assert hashlib.sha256(served.content).hexdigest() == sent["sha256"]
        assert served.headers["content-type"] == sent["content_type"]
        assert served.headers["cache-control"] == "private, no-store"
        assert served.headers["x-content-type-options"] == "nosniff"
    # kept once, under its hash, readable by the server only
    stored = _state(center).settings.data_dir / "photos" / photo["sha256"][:2]
    assert photo["sha256"][2:] in [p.name for p in stored.iterdir()]
    assert not [p for p in stored.iterdir() if p.name.startswith(".")]  # no partial file
    assert (stored / photo["sha256"][2:]).stat().st_mode & 0o777 == 0o600
    log = center.call(
        "GET",
        "/api/audit",
        user="commander",
        params={"entity": "accident", "entity_id": str(accident_id)},
    ).json()
    assert [(e["action"], e["detail"]["kind"]) for e in log] == [
        ("add_photo", "impact"),
        ("add_photo", "front_side"),
    ]
    assert "data" not in log[0]["detail"]
    assert log[0]["detail"]["size"] == len(png)


@pytest.mark.parametrize(
    ("data", "content_type", "rule"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "image/jpeg", "not a JPEG"),
        ("这不是照片".encode(), "image/jpeg", "not a JPEG"),
        (image("PNG"), "image/jpeg", "not a JPEG"),
        (image("JPEG"), "application/pdf", "must be image/jpeg"),
        (image("JPEG", (640, 480))[:400], "image/jpeg", "not a whole JPEG"),
        (image("PNG", (640, 480))[:-40], "image/png", "not a whole PNG"),
        (b"", "image/jpeg", "empty"),
        (image("PNG", (8000, 8000), mode="1"), "image/png", "at most 50,000,000 pixels"),
        (image("PNG", (20000, 10000), mode="1"), "image/png", "too many pixels"),
    ],
    ids=["pdf", "text", "png-as-jpeg", "pdf-type", "cut-jpeg", "cut-png", "empty", "64mp", "bomb"],
)
def test_what_is_not_a_whole_photo_of_its_type_is_refused(
    center: Center, data: bytes, content_type: str, rule: str
) -> None:
    accident_id = accident(center)
    reply = upload(
        center, f"/api/traffic/accidents/{accident_id}/photos", data, content_type=content_type
    )
    _error(reply, 422, rule)
    detail = center.call("GET", "/api/audit", user="commander", params={"entity": "accident"})
    assert all(e["entity_id"] != str(accident_id) for e in detail.json())


@pytest.fixture
def small_limit(center: Center, monkeypatch: pytest.MonkeyPatch) -> int:
    state = _state(center)
    monkeypatch.setattr(
        state, "settings", state.settings.model_copy(update={"photo_max_bytes": 4096})
    )
    return 4096


def test_a_photo_over_the_limit_is_refused(center: Center, small_limit: int) -> None:
    accident_id = accident(center)
    path = f"/api/traffic/accidents/{accident_id}/photos"
    big = image("JPEG", (1200, 900))
    assert len(big) > small_limit
    _error(upload(center, path, big), 413, "at most 4,096 bytes")
    _error(upload(center, path, b"\xff" * (small_limit + 1)), 413, "at most 4,096 bytes")
    small = image("JPEG", (64, 48))
    assert len(small) <= small_limit
    assert upload(center, path, small).status_code == 201


def test_bad_forms_are_refused(center: Center) -> None:
    accident_id = accident(center)
    path = f"/api/traffic/accidents/{accident_id}/photos"
    _error(upload(center, path, image(), kind="selfie"), 422)
    no_file = center.call("POST", path, user="officer", data={"kind": "impact"})
    assert no_file.status_code == 422, no_file.text
    as_json = center.call("POST", path, user="officer", json={"kind": "impact", "file": "eA=="})
    assert as_json.status_code == 422, as_json.text
    _error(upload(center, "/api/traffic/accidents/999999/photos", image()), 404, "999999")
    _error(upload(center, "/api/traffic/violations/999999/photos", image()), 404, "999999")


def test_only_open_accidents_and_pending_violations_take_photos(center: Center) -> None:
    for done in (AccidentState.SETTLED, AccidentState.HANDED_OVER):
        path = f"/api/traffic/accidents/{accident(center, state=done)}/photos"
        _error(upload(center, path, image()), 409, done.value)
    path = f"/api/traffic/violations/{violation(center, state=ViolationState.DECIDED)}/photos"
    _error(upload(center, path, image(), kind="evidence"), 409, "decided")


def test_a_token_only_in_the_header_and_only_of_someone_who_may_see(center: Center) -> None:
    accident_id = accident(center)
    path = f"/api/traffic/accidents/{accident_id}/photos"
    photo = upload(center, path, image()).json()
    url = f"/api/traffic/photos/{photo['id']}"
    token = center.login("officer")
    files = {"file": ("photo.jpg", image(), "image/jpeg")}
    # no token, or a token in the URL, is no token
    _error(center.client.get(url), 401, "bearer token")
    for name in ("token", "access_token", "ticket"):
        _error(center.client.get(url, params={name: token}), 401, "bearer token")
    _error(center.client.post(path, data={"kind": "scene"}, files=files), 401, "bearer token")
    # the clerk serves citizens: no accident's photos; the dispatcher handles no traffic
    _error(center.call("GET", url, user="kiosk_clerk"), 403, "violations")
    _error(upload(center, path, image(), user="kiosk_clerk"), 403, "handle traffic")
    _error(upload(center, path, image(), user="dispatcher"), 403, "handle traffic")
    # another unit's accident: the officer neither adds to it nor reads it
    theirs = accident(center, unit_id=_other_unit(center))
    _error(upload(center, f"/api/traffic/accidents/{theirs}/photos", image()), 403, "own unit")
    their_photo = upload(
        center, f"/api/traffic/accidents/{theirs}/photos", image(), user="commander"
    )
    assert their_photo.status_code == 201, their_photo.text
    _error(
        center.call("GET", f"/api/traffic/photos/{their_photo.json()['id']}", user="officer"),
        403,
        "own unit",
    )
    assert center.call("GET", url, user="officer").status_code == 200
    _error(center.call("GET", "/api/traffic/photos/999999", user="officer"), 404, "999999")


def test_a_violations_evidence_is_shown_at_the_kiosk(center: Center) -> None:
    violation_id = violation(center)
    data = image("WEBP", (400, 300))
    reply = upload(
        center,
        f"/api/traffic/violations/{violation_id}/photos",
        data,
        content_type="image/webp",
        kind="evidence",
    )
    assert reply.status_code == 201, reply.text
    photo = reply.json()
    assert (photo["kind"], photo["width"], photo["height"]) == ("evidence", 400, 300)
    served = center.call("GET", f"/api/traffic/photos/{photo['id']}", user="kiosk_clerk")
    assert served.status_code == 200, served.text
    assert served.content == data
    theirs = violation(center, unit_id=_other_unit(center))
    _error(
        upload(center, f"/api/traffic/violations/{theirs}/photos", image(), kind="evidence"),
        403,
        "own unit",
    )


# -- the road stretches with the most accidents -----------------------------------------------


def _two_way_edges(network: RoadNetwork, n: int) -> list[int]:
    """`n` named two-way edges of different streets, each the higher of its pair."""
    picked: list[int] = []
    names: set[int] = set()
    for e in range(network.n_edges):
        twin, name = int(network.edge_twin[e]), int(network.edge_name[e])
        if 0 <= twin < e and name >= 0 and name not in names:
            picked.append(e)
            names.add(name)
        if len(picked) == n:
            return picked
    raise AssertionError(f"the city has fewer than {n} named two-way streets")


def test_the_stretches_with_the_most_accidents(center: Center) -> None:
    network = _state(center).city.travel_times.network
    a, b, c = _two_way_edges(network, 3)
    march = datetime(2022, 3, 1, tzinfo=UTC)
    # three on a (two one way, one the other), two on b, one on c, one outside the period
    for i, edge in enumerate((a, int(network.edge_twin[a]), a, b, b, c)):
        accident(center, at=march + timedelta(days=i), edge=edge, road="kept name")
    accident(center, at=datetime(2022, 5, 1, tzinfo=UTC), edge=c)
    params = {"since": "2022-03-01T00:00:00+08:00", "until": "2022-04-01T00:00:00+08:00"}
    reply = center.call("GET", "/api/traffic/accidents/stretches", user="officer", params=params)
    assert reply.status_code == 200, reply.text
    ranked = reply.json()
    twins = [int(network.edge_twin[e]) for e in (a, b, c)]  # the lower id of each pair
    assert [(s["edge"], s["accidents"]) for s in ranked] == list(zip(twins, [3, 2, 1], strict=True))
    top = ranked[0]
    assert top["road"] == network.names[int(network.edge_name[a])]
    assert top["line"] == network.edge_coords(twins[0]).tolist()
    west, south, east, north = network.bounds()
    assert west <= top["lon"] <= east
    assert south <= top["lat"] <= north
    limited = center.call(
        "GET", "/api/traffic/accidents/stretches", user="commander", params={**params, "limit": 1}
    )
    assert [s["accidents"] for s in limited.json()] == [3]


def test_bad_stretch_questions_name_the_rule(center: Center) -> None:
    path = "/api/traffic/accidents/stretches"
    backwards = {"since": "2022-04-01T00:00:00Z", "until": "2022-03-01T00:00:00Z"}
    _error(center.call("GET", path, user="officer", params=backwards), 422, "before")
    for params in ({"limit": 0}, {"since": "yesterday"}, {"until": "2022-03-01T00:00:00"}):
        assert center.call("GET", path, user="officer", params=params).status_code == 422
    _error(center.call("GET", path, user="kiosk_clerk"), 403, "read operations")
    _error(center.client.get(path), 401, "bearer token")


def test_a_phones_photo_of_a_few_megabytes_is_taken(center: Center) -> None:
    """A 12-megapixel phone photo is 2-5 MB: more than the general body limit (1 MiB)."""
    noise = Image.effect_noise((2000, 1500), 120).convert("RGB")
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    assert 2_000_000 < len(data) < _state(center).settings.photo_max_bytes
    reply = upload(center, f"/api/traffic/accidents/{accident(center)}/photos", data)
    assert reply.status_code == 201, reply.text
    assert reply.json()["size"] == len(data)
