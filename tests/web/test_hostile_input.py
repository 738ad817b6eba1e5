"""Input an attacker would send, against the real app and a real server process: JSON that is
not standard, bodies past the limit, numbers and times no device or caller can mean. Each is
refused with 4xx and a message naming the rule, never a 5xx, and every reply carries the
security headers."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from center import Center
from live import Server, start_server

LIMIT = 1_048_576  # JIAOXUN_MAX_BODY_BYTES by default
ON_ROAD = (126.65, 45.745)  # the demo city's centre, by a road
DEEP = b"[" * 1000 + b"]" * 1000
LOGIN, CALLS = "/api/auth/token", "/api/incidents"
MERGE = "application/merge-patch+json"
OSMAND_GET: dict[str, Any] = {"method": "GET", "content_type": None, "user": None}
BY_DISPATCHER: dict[str, Any] = {"user": "dispatcher"}


@dataclass(frozen=True)
class Hostile:
    """One hostile request and what it must get: a status and a part of the message."""

    name: str
    path: str
    body: bytes | None = None
    says: str = ""
    status: int = 422
    method: str = "POST"
    params: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = "application/json"
    user: str | None = "commander"  # None: no token


def _fix(**change: Any) -> dict[str, Any]:
    at = datetime.now(UTC).isoformat()
    return {"device_id": "car-x", "lon": ON_ROAD[0], "lat": ON_ROAD[1], "at": at, **change}


def _batch(*fixes: dict[str, Any]) -> bytes:
    return json.dumps({"positions": list(fixes)}).encode()


def _incident(call_at: datetime) -> bytes:
    lon, lat = ON_ROAD
    return json.dumps(
        {"lon": lon, "lat": lat, "category_code": "020100", "call_at": call_at.isoformat()}
    ).encode()


def hostile_cases(*, device: str, secret: str) -> list[Hostile]:
    """The cases of issue 11 (findings 5 and 10) and their neighbours; `device` and `secret`
    are a registered OsmAnd phone's, so that its fixes get past the check of who sends."""
    return [
        *_not_json(),
        *_implausible(device=device, secret=secret),
        *_times(),
        *_query_times(),
        *_sizes(),
    ]


def _not_json() -> list[Hostile]:
    """JSON that is not standard, to the login (no token needed) and to the API."""
    to_login = [
        ("lone surrogate", b'{"username":"\\ud800","password":"x"}', "'\\ud800' is half of a"),
        ("low surrogate name", b'{"\\udc00":"a","password":"x"}', "surrogate"),
        ("surrogate as UTF-8", b'{"username":"\xed\xa0\x80"}', "JSON text must be UTF-8"),
        ("NaN", b'{"username":NaN,"password":"x"}', "NaN is not a JSON number"),
        ("names twice", b'{"username":"a","username":"b"}', "name 'username' appears twice"),
        ("1,000 deep", DEEP, "nests deeper than 32"),
    ]
    fix = _batch(_fix())
    to_api = [
        ("course Infinity", b'{"course_deg": Infinity, ', "Infinity is not a JSON number"),
        ("accuracy NaN", b'{"accuracy_m": NaN, ', "NaN is not a JSON number"),
        ("altitude 1e309", b'{"altitude_m": 1e309, ', "1e309 is beyond the range of a double"),
        ("speed -Infinity", b'{"speed_kph": -Infinity, ', "-Infinity is not a JSON number"),
    ]
    activity = b'{"kind":"assistance","unit_id":1,"lon":NaN,"lat":45.7}'
    address = _incident(datetime.now(UTC)).replace(b"{", b'{"address": "\\udbff", ', 1)
    return [
        *[Hostile(f"login {name}", LOGIN, body, says, user=None) for name, body, says in to_login],
        Hostile("login, no type", LOGIN, b'["\\ud800"]', "surrogate", content_type=None, user=None),
        Hostile("login +json", LOGIN, b"[Infinity]", "Infinity", content_type=MERGE, user=None),
        *[
            Hostile(f"positions {name}", "/api/positions", fix.replace(b'{"dev', t + b'"dev'), s)
            for name, t, s in to_api
        ],
        Hostile("activity NaN", "/api/activities", activity, "NaN", user="officer"),
        Hostile("incident surrogate", "/api/incidents", address, "surrogate", user="dispatcher"),
        Hostile("osmand 1,000 deep", "/api/osmand", DEEP, "nests deeper", user=None),
    ]


def _implausible(*, device: str, secret: str) -> list[Hostile]:
    """Finite numbers no device can mean: the field, the rule and the value named."""
    rule = "Input should be"
    fixes = [
        ({"altitude_m": 1e308}, f"altitude_m: {rule} less than or equal to 10000 (got 1e+308)"),
        ({"course_deg": 360}, f"course_deg: {rule} less than 360 (got 360)"),
        ({"course_deg": -1}, f"course_deg: {rule} greater than or equal to 0 (got -1)"),
        ({"accuracy_m": -5}, f"accuracy_m: {rule} greater than or equal to 0 (got -5)"),
        ({"accuracy_m": 1e6}, f"accuracy_m: {rule} less than or equal to 10000"),
        ({"speed_kph": 9999}, f"speed_kph: {rule} less than or equal to 500"),
        ({"lat": 1e308}, f"lat: {rule} less than or equal to 90 (got 1e+308)"),
        ({"at": "0001-01-01T00:00:00Z"}, "at: Value error, time 0001-01-01T00:00:00+00:00 is"),
        ({"at": "0001-01-01T00:00:00+23:59"}, "is out of range"),
        ({"at": "2026-01-01T00:00"}, "at: Input should have timezone info"),
    ]
    phone = {"id": device, "key": secret, "lat": 45.745, "lon": 126.65}
    readings = [
        ({"altitude": "1e308"}, "altitude 1e+308 is out of range: it should be less than or eq"),
        ({"bearing": "Infinity"}, "bearing must be a finite number, got 'Infinity'"),
        ({"accuracy": "NaN"}, "accuracy must be a finite number, got 'NaN'"),
        ({"speed": "900"}, "speed 900 (1666.8 converted) is out of range"),
        ({"batt": "101"}, "batt 101 is out of range: it should be less than or equal to 100"),
    ]
    coords = {"latitude": 45.745, "longitude": 126.65, "heading": 720}
    traccar = {"device_id": device, "key": secret, "location": {"coords": coords}}
    return [
        *[Hostile(f"position {f}", "/api/positions", _batch(_fix(**f)), s) for f, s in fixes],
        Hostile("10,001 positions", "/api/positions", _batch(*[_fix()] * 10_001), "at most 10000"),
        *[
            Hostile(f"osmand {r}", "/api/osmand", None, s, params={**phone, **r}, **OSMAND_GET)
            for r, s in readings
        ],
        Hostile("osmand JSON heading 720", "/api/osmand", json.dumps(traccar).encode(),
                "heading 720 is out of range: it should be less than 360", user=None),
    ]  # fmt: skip


def _times() -> list[Hostile]:
    """When a 110 call came in: not ahead of the clock (60 s of skew), at most 24 h ago."""
    now = datetime.now(UTC)
    refused = [
        ("in year 1", datetime(1, 1, 1, tzinfo=UTC), "call_at: Value error, time 0001-01-01T00"),
        ("2 min ahead", now + timedelta(minutes=2), "lies in the future"),
        ("25 h ago", now - timedelta(hours=25), "is more than 24 h before now"),
    ]
    taken = [
        ("30 s ahead (skew)", now + timedelta(seconds=30)),
        ("23 h ago", now - timedelta(hours=23)),
    ]
    return [
        *[
            Hostile(f"call {name}", CALLS, _incident(at), s, **BY_DISPATCHER)
            for name, at, s in refused
        ],
        *[
            Hostile(f"call {name}", CALLS, _incident(at), status=201, **BY_DISPATCHER)
            for name, at in taken
        ],
    ]


def _query_times() -> list[Hostile]:
    """Times in a query that no calendar of ours holds (they overflowed to a 500 before)."""
    asked = [
        ("/api/units/1/track", "to", "0001-01-01T00:00:00+23:59"),
        ("/api/units/1/track", "from", "0001-01-01T00:00:00+23:59"),
        ("/api/patrol/report", "at", "9999-12-31T23:59:59-23:59"),
        ("/api/activities", "since", "0001-01-01T00:00:00+23:59"),
        ("/api/audit", "since", "9999-12-31T23:59:59-23:59"),
        ("/api/units/1/track", "to", "0001-01-01T00:00:00Z"),
    ]
    return [
        Hostile(f"{path} {name}={at}", path, None, f"{name}: Value error, time {at[:4]}",
                method="GET", params={name: at}, content_type=None)
        for path, name, at in asked
    ]  # fmt: skip


def _sizes() -> list[Hostile]:
    """Bodies past the limit (and one just at it, which is read)."""
    over = f"a body of {LIMIT + 1:,} bytes exceeds the limit of {LIMIT:,} bytes"
    at_limit = b'{"username": "a", "password": "%s"}' % (b"x" * (LIMIT - 34))
    return [
        Hostile("body over the limit", LOGIN, b" " * (LIMIT + 1), over, status=413, user=None),
        Hostile("20 MB batch", "/api/positions", b"[%s0]" % (b"0," * 10**7), "the limit", 413),
        Hostile("body at the limit", LOGIN, at_limit, "String should have at most", user=None),
    ]


def _send(client: Any, case: Hostile, token: str | None) -> httpx.Response:
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(  # type: ignore[no-any-return]
        case.method, case.path, params=case.params, content=case.body, headers=headers
    )


def assert_guarded(reply: httpx.Response) -> None:
    """The security headers of every reply, and no-store on the API's."""
    headers = reply.headers
    policy = headers["content-security-policy"]
    for part in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert part in policy, policy
    assert "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["permissions-policy"].startswith("geolocation=(self)")
    if reply.request.url.path.startswith("/api/") and reply.request.url.path != "/api/city/map":
        assert headers["cache-control"] == "no-store"


def _check(case: Hostile, reply: httpx.Response) -> None:
    assert reply.status_code == case.status, (case.name, reply.text[:500])
    assert_guarded(reply)
    assert len(reply.content) < 10_000, (case.name, "an error reply echoes too much")
    if case.says:
        assert case.says in reply.json()["message"], (case.name, reply.json())


@pytest.fixture(scope="module")
def phone(center: Center) -> dict[str, str]:
    """A phone registered for unit JX03-1: its id and its secret."""
    return _register(lambda method, path, **kw: center.call(method, path, user="commander", **kw))


def _register(call: Callable[..., httpx.Response]) -> dict[str, str]:
    unit = next(u for u in call("GET", "/api/units").json() if u["call_sign"] == "JX03-1")
    body = {"device_id": "hostile-phone", "protocol": "osmand", "unit_id": unit["id"]}
    reply = call("POST", "/api/devices", json=body)
    assert reply.status_code == 201, reply.text
    return {"device": body["device_id"], "secret": reply.json()["secret"]}


@pytest.mark.parametrize("name", [c.name for c in hostile_cases(device="d", secret="s")])
def test_the_app_refuses_hostile_input(center: Center, phone: dict[str, str], name: str) -> None:
    case = next(c for c in hostile_cases(**phone) if c.name == name)
    token = center.login(case.user) if case.user else None
    _check(case, _send(center.client, case, token))


def test_an_error_reply_never_shows_a_password(center: Center) -> None:
    for body in (
        {"password": "hunter2-correct-horse"},  # no user name: the whole body is the input
        {"username": "commander", "password": "hunter2-correct-horse" * 10},  # too long
    ):
        reply = center.client.post("/api/auth/token", json=body)
        assert reply.status_code == 422, reply.text
        assert "hunter2" not in reply.text
        assert "***" in reply.text


def test_every_reply_carries_the_security_headers(center: Center) -> None:
    token = center.login("commander")
    replies = [
        center.client.get(path)
        for path in ("/", "/officer", "/docs", "/static/js/api.js", "/api/health", "/nowhere")
    ]
    replies += [
        center.client.get("/api/units"),  # 401
        center.client.get("/api/units", headers={"Authorization": f"Bearer {token}"}),
        center.client.get("/api/city/map", headers={"Authorization": f"Bearer {token}"}),
        center.client.post("/api/auth/token", content=b"{", headers={"Content-Type": "text/x"}),
    ]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 200, 404, 401, 200, 200, 422]
    for reply in replies:
        assert_guarded(reply)
    # the city map keeps its own caching: private, for five minutes
    assert replies[-2].headers["cache-control"] == "private, max-age=300"


# the same against a real server process


@pytest.fixture(scope="module")
def live(
    new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> Iterator[tuple[Server, dict[str, str], dict[str, str]]]:
    """A real server, its users' tokens and a registered phone."""
    server, passwords = start_server(
        database_url=new_database("sqlite"),
        data=tmp_path_factory.mktemp("hostile"),
        cache_dir=cache_dir,
    )
    try:
        tokens = {}
        for name in ("commander", "dispatcher", "officer"):
            reply = httpx.post(
                f"{server.url}/api/auth/token",
                json={"username": name, "password": passwords[name]},
            )
            tokens[name] = reply.json()["access_token"]

        def call(method: str, path: str, **kw: Any) -> httpx.Response:
            headers = {"Authorization": f"Bearer {tokens['commander']}"}
            return httpx.request(method, f"{server.url}{path}", headers=headers, **kw)

        yield server, tokens, _register(call)
    finally:
        server.stop()


def test_a_real_server_refuses_hostile_input(
    live: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, tokens, phone = live
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for case in hostile_cases(**phone):
            reply = _send(client, case, tokens[case.user] if case.user else None)
            statuses.append(reply.status_code)
            _check(case, reply)
        for path in ("/", "/officer", "/docs", "/vendor/leaflet/leaflet.js", "/openapi.json"):
            assert_guarded(client.get(path))
    assert len(statuses) >= 40
    assert not [s for s in statuses if s >= 500]
    assert "Traceback" not in server.log.read_text()


def _raw_request(server: Server, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head.encode("latin-1"))
    return sock


def _reply(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 60:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_declared_20_mb_body_is_refused_before_it_is_sent(
    live: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, tokens, _ = live
    head = (
        "POST /api/positions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tokens['commander']}\r\nContent-Length: 20000000\r\n\r\n"
    )
    with _raw_request(server, head) as sock:  # not one byte of the body is sent
        reply = _reply(sock)
        assert reply.startswith(b"HTTP/1.1 413"), reply
        assert b"content-security-policy" in reply.lower()
        assert b"exceeds the limit of 1,048,576 bytes" in reply
        sock.settimeout(5)
        while sock.recv(65536):  # the server closes the connection: it will read no more
            pass


def test_a_streamed_body_is_refused_once_it_passes_the_limit(
    live: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, _, _ = live
    head = (
        "POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b" " * 65536
    sent = 0
    with _raw_request(server, head) as sock:
        while not select.select([sock], [], [], 0.005)[0]:
            assert sent < 20_000_000, "the server read 20 MB and said nothing"
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            time.sleep(0.002)
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    assert b"the body exceeds the limit of 1,048,576 bytes" in reply
    assert LIMIT < sent < 2 * LIMIT
