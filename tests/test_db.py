from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import OperationalError

from jiaoxun.db import make_engine, transaction
from jiaoxun.models import metadata


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_every_table_is_there(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'j.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@contextmanager
def sqlite_without_busy_wait(path: Path) -> Iterator[Engine]:
    """A SQLite engine whose connections fail at once on SQLite's write lock ("database is
    locked") instead of polling for it: any writer that meets the lock shows."""
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=0"))
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE written (writer TEXT)"))
    try:
        yield engine
    finally:
        engine.dispose()


def write_in_thread(engine: Engine, writer: str) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with transaction(engine) as session:
                session.execute(text("INSERT INTO written VALUES (:w)"), {"w": writer})
        except BaseException as exc:  # the test reads it
            failures.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    return thread, failures


def write_then_fail(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(text("INSERT INTO written VALUES ('rolled back')"))
        raise RuntimeError("the request failed")


def writers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT writer FROM written ORDER BY rowid")).scalars())


def test_writers_wait_in_line_for_the_one_before_them_not_on_sqlites_lock(tmp_path: Path) -> None:
    with sqlite_without_busy_wait(tmp_path / "j.db") as engine:
        waiting = []
        with transaction(engine) as session:
            session.execute(text("INSERT INTO written VALUES ('first')"))
            for writer in ("second", "third", "fourth"):
                thread, failures = write_in_thread(engine, writer)
                thread.join(timeout=0.3)
                assert thread.is_alive()  # waiting for the first to commit, not failed
                waiting.append((thread, failures))
        for thread, failures in waiting:
            thread.join(timeout=3)
            assert not thread.is_alive()
            assert failures == []
        assert writers(engine) == ["first", "second", "third", "fourth"]  # in the order they came


def test_the_line_moves_on_after_a_rollback_and_after_a_lost_connection(tmp_path: Path) -> None:
    with sqlite_without_busy_wait(tmp_path / "j.db") as engine:
        with pytest.raises(RuntimeError, match="the request failed"):
            write_then_fail(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO written VALUES ('lost')")
            conn.invalidate()
        for writer in ("after", "and after"):
            thread, failures = write_in_thread(engine, writer)
            thread.join(timeout=3)  # a turn never given back would hold it 5 s
            assert not thread.is_alive()
            assert failures == []
        assert writers(engine) == ["after", "and after"]


def test_a_writer_of_another_process_still_holds_sqlites_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with sqlite_without_busy_wait(path) as engine:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="database is locked"):
                write_then_fail(engine)
            other.execute("INSERT INTO written VALUES ('other')")
            other.execute("COMMIT")
        finally:
            other.close()
        thread, failures = write_in_thread(engine, "then this one")
        thread.join(timeout=3)
        assert failures == []
        assert writers(engine) == ["other", "then this one"]
