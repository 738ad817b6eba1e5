"""Shared fixtures: real databases (SQLite file and the local PostgreSQL server), the demo city.

Every database test runs twice, on SQLite and on PostgreSQL. PostgreSQL tests are skipped when
no server answers, unless JIAOXUN_REQUIRE_POSTGRES=1 (as in CI), where that is a failure. The
event bus between server processes is tested on the local NATS server (JetStream on) the same
way: skipped when none answers, unless JIAOXUN_REQUIRE_NATS=1.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from jiaoxun.db import make_engine, migrate

POSTGRES_URL = os.environ.get(
    "JIAOXUN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

NATS_URL = os.environ.get("JIAOXUN_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server for the event bus between processes."""
    host, _, port = NATS_URL.removeprefix("nats://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        message = f"NATS at {NATS_URL} is not reachable: {exc}"
        if os.environ.get("JIAOXUN_REQUIRE_NATS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return NATS_URL


def _postgres_or_skip() -> Engine:
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc.orig}"
        if os.environ.get("JIAOXUN_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return admin


@pytest.fixture(scope="session")
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Makes fresh, empty databases: ``new_database("sqlite")`` or ``("postgresql")``.
    PostgreSQL databases are dropped at the end of the session."""
    made: list[str] = []
    admin: Engine | None = None

    def make(kind: str) -> str:
        nonlocal admin
        if kind == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'jiaoxun.db'}"
        admin = admin or _postgres_or_skip()
        name = f"jiaoxun_test_{uuid.uuid4().hex[:10]}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, new_database: Callable[[str], str]) -> str:
    """The URL of a migrated database, once per backend."""
    url = new_database(request.param)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        outer.rollback()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where network caches go during the tests."""
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(scope="session", autouse=True)
def _user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's data and cache folders (the defaults of `Settings`) are temporary ones: no
    test reads or writes the home folder of the user who runs the suite."""
    saved = {name: os.environ.get(name) for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME")}
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
