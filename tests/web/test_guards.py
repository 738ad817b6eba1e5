"""The guard in front of the app, on a small app of its own: what it hands on, what it adds."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from jiaoxun.web.guards import Guard


def _client(*, base_url: str = "http://testserver") -> TestClient:
    app = FastAPI()
    app.add_middleware(Guard, max_body_bytes=1024)

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(await request.body())

    @app.get("/own")
    def own() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "max-age=60"})

    @app.get("/api/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


def test_the_body_is_handed_on_whole() -> None:
    body = b'{"a": [1, 2, "\\u9ed1"]}'
    assert _client().post("/echo", content=body).content == body
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _client().post("/echo", content=b"a=1&b=2", headers=form).content == b"a=1&b=2"
    # no content type: FastAPI would read it as JSON, so it must be JSON
    assert _client().post("/echo", content=b"a=1&b=2").status_code == 422


def test_a_streamed_body_past_the_limit_is_refused() -> None:
    def chunks() -> Iterator[bytes]:
        yield from [b" " * 512] * 3

    reply = _client().post("/echo", content=chunks())
    assert reply.status_code == 413
    assert reply.json()["message"] == "the body exceeds the limit of 1,024 bytes"
    assert reply.headers["connection"] == "close"


def test_a_failure_answers_500_with_the_headers() -> None:
    reply = _client().get("/api/broken")
    assert reply.status_code == 500
    assert reply.json()["error"] == "server_error"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["cache-control"] == "no-store"


def test_a_reply_keeps_its_own_headers() -> None:
    reply = _client().get("/own")
    assert reply.headers["cache-control"] == "max-age=60"
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_the_event_stream_of_this_host_is_allowed() -> None:
    policy = _client().get("/own", headers={"Host": "10.0.0.5:8110"}).headers
    assert (
        "connect-src 'self' ws://10.0.0.5:8110 wss://10.0.0.5:8110;"
        in policy["content-security-policy"]
    )
    forged = _client().get("/own", headers={"Host": "x; script-src *"}).headers
    assert "script-src" not in forged["content-security-policy"]
    assert "connect-src 'self';" in forged["content-security-policy"]


def test_https_replies_ask_for_https_from_then_on() -> None:
    assert "strict-transport-security" not in _client().get("/own").headers
    secure = _client(base_url="https://testserver").get("/own").headers
    assert secure["strict-transport-security"] == "max-age=31536000"
