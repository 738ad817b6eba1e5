"""The 1-3-5 record of a real server process: a closed incident's verdicts read the same after a
tier edit and after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from live import Server, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[tuple[Server, dict[str, dict[str, str]]]]:
    server, passwords = start_server(
        database_url=new_database(request.param),
        data=tmp_path_factory.mktemp("server"),
        cache_dir=cache_dir,
    )
    headers = {}
    for name in ("dispatcher", "commander"):
        reply = httpx.post(
            f"{server.url}/api/auth/token", json={"username": name, "password": passwords[name]}
        )
        headers[name] = {"Authorization": f"Bearer {reply.json()['access_token']}"}
    yield server, headers
    server.stop()


def _ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def test_a_closed_incidents_verdicts_survive_a_tier_edit_and_a_restart(
    server: tuple[Server, dict[str, dict[str, str]]],
) -> None:
    srv, headers = server
    url, dispatcher = srv.url, headers["dispatcher"]
    body = {"lon": 126.65, "lat": 45.745, "category_code": "020100", "description": "record"}
    incident = _ok(httpx.post(f"{url}/api/incidents", headers=dispatcher, json=body), 201)
    path = f"{url}/api/incidents/{incident['id']}"
    # any free car: a dispatcher may send one the recommender cannot place (no fix yet)
    units = _ok(httpx.get(f"{url}/api/units", headers=dispatcher))
    chosen = [next(u["id"] for u in units if u["status"] in {"at_kiosk", "available"})]
    (order,) = _ok(
        httpx.post(f"{path}/dispatch", headers=dispatcher, json={"unit_ids": chosen}), 201
    )
    time.sleep(0.5)  # the arrival takes half a second: met under 3 minutes, missed under 0.3 s
    for state in ("acknowledged", "en_route", "arrived"):
        moved = httpx.post(
            f"{url}/api/orders/{order['id']}/status", headers=dispatcher, json={"state": state}
        )
        _ok(moved)
    closed = _ok(httpx.post(f"{path}/close", headers=dispatcher, json={"outcome_code": "resolved"}))
    at_close = closed["verdicts"]
    assert next(v for v in at_close if v["tier"] == "3分钟")["met_from_dispatch"] is True
    tiers = {t["name"]: t for t in _ok(httpx.get(f"{url}/api/tiers", headers=dispatcher))}
    edited = {**tiers["3分钟"], "bound_min": 0.005}
    _ok(httpx.put(f"{url}/api/tiers", headers=headers["commander"], json=edited))
    assert _ok(httpx.get(path, headers=dispatcher))["verdicts"] == at_close
    srv.stop()
    srv.start()
    assert _ok(httpx.get(path, headers=dispatcher))["verdicts"] == at_close
