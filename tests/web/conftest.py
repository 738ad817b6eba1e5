"""A real command center per database backend: demo city, seeded users, the real app."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from center import Center
from fastapi.testclient import TestClient

from jiaoxun.settings import Settings
from jiaoxun.users.roles import Role
from jiaoxun.web.app import create_app
from jiaoxun.web.server import prepare

MQTT_URL = os.environ.get("JIAOXUN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def center(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    settings = Settings(
        database_url=new_database(request.param),
        data_dir=tmp_path_factory.mktemp("data"),
        cache_dir=cache_dir,
        jt808_port=free_port(),
        mqtt_url=MQTT_URL,
        mqtt_topic_prefix=f"jiaoxun-test-{uuid.uuid4().hex[:8]}/devices",
    )
    engine, users = prepare(settings)
    passwords = {name: password for name, (_, password) in users.items()}
    assert set(passwords) == {r.value for r in Role}
    with TestClient(create_app(settings, engine)) as client:
        yield Center(client, engine, passwords, {}, request.param, settings.jt808_port)
    engine.dispose()
