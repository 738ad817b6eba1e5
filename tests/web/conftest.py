"""A real command center per database backend: demo city, seeded users, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from center import Center
from fastapi.testclient import TestClient
from live import free_port, own_passwords

from jiaoxun.settings import Settings
from jiaoxun.users.roles import Role
from jiaoxun.web.app import create_app
from jiaoxun.web.server import prepare

MQTT_URL = os.environ.get("JIAOXUN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture(scope="session", autouse=True)
def _no_demo_history() -> Iterator[None]:
    """The test centers start without the demo city's simulated history (its figures would
    mix with the tests' own incidents); tests/analytics/test_history.py asks for it."""
    saved = os.environ.get("JIAOXUN_DEMO_HISTORY")
    os.environ["JIAOXUN_DEMO_HISTORY"] = "0"
    yield
    if saved is None:
        os.environ.pop("JIAOXUN_DEMO_HISTORY", None)
    else:
        os.environ["JIAOXUN_DEMO_HISTORY"] = saved


@contextmanager
def running_center(database_url: str, data: Path, cache_dir: Path, kind: str) -> Iterator[Center]:
    """The real app on a new database: demo city, users with passwords of their own."""
    settings = Settings(
        database_url=database_url,
        data_dir=data,
        cache_dir=cache_dir,
        jt808_port=free_port(),
        mqtt_url=MQTT_URL,
        mqtt_topic_prefix=f"jiaoxun-test-{uuid.uuid4().hex[:8]}/devices",
        # every test logs in from the one address of the test client, the fuzzer with made-up
        # names too: the limit per address is tested against a server of its own
        login_failures_per_address=100_000,
        public_requests_per_min=100_000,
        # one shift a day, starting twelve hours from now: no test's track straddles two
        shift_starts=[f"{(datetime.now(ZoneInfo('Asia/Shanghai')).hour + 12) % 24:02d}:00"],
    )
    engine, users = prepare(settings)
    assert set(users) == {r.value for r in Role}
    passwords = own_passwords(engine, list(users))
    with TestClient(create_app(settings, engine)) as client:
        yield Center(client, engine, passwords, {}, kind, settings.jt808_port)
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def center(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    """The command center of a backend, shared by the session's tests."""
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("data"), cache_dir, request.param
    ) as center:
        yield center
