"""Database plumbing: the declarative base, engines, sessions and migrations.

SQLite (WAL mode, foreign keys on) is the embedded default; PostgreSQL (psycopg 3) is for
production. The schema is owned by the Alembic migrations in `jiaoxun/migrations`; `migrate`
brings a database to the newest revision. Transactions belong to the boundary: `transaction`
opens one per request or CLI command and commits it, services only flush.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

#: requests that may hold a database session at once; the others wait without taking a worker
#: thread, so that a request holding a lock can always get a thread to finish and commit
REQUEST_SESSIONS = 8
#: connections kept per engine: every request session, plus the ingestion and housekeeping tasks
POOL_SIZE = REQUEST_SESSIONS + 4

#: how long a SQLite writer waits for the write lock before "database is locked"
BUSY_TIMEOUT_MS = 5000

#: row ids are 32-bit integers in both databases: a larger id names no row
MAX_ID = 2_147_483_647

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, opens transactions (see _sqlite_writers)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class _WriterQueue:
    """The process's SQLite writers wait in line here, first come first served, each handed the
    turn the moment the writer before it ends, rather than in SQLite's busy handler, which polls
    with sleeps of up to 100 ms and lets a late writer overtake one that has waited a second. It
    only orders writers: SQLite's own lock stays what keeps them apart (other processes, a writer
    that outwaits the line)."""

    def __init__(self, timeout_s: float) -> None:
        self._mutex = threading.Lock()
        self._taken = False
        self._line: deque[threading.Lock] = deque()
        self._holder: int | None = None
        self._timeout_s = timeout_s

    def enter(self, info: dict[str, Any]) -> None:
        me = threading.get_ident()
        if self._holder == me:
            return  # this thread already writes on another connection: SQLite decides
        with self._mutex:
            if not self._taken:
                self._taken = True
                self._take(me, info)
                return
            gate = threading.Lock()
            gate.acquire()
            self._line.append(gate)
        if gate.acquire(timeout=self._timeout_s):
            self._take(me, info)  # handed over by the writer before
            return
        with self._mutex:
            if gate in self._line:
                self._line.remove(gate)  # waited too long: SQLite's busy wait from here
            else:
                self._take(me, info)  # handed over as the wait ran out

    def _take(self, me: int, info: dict[str, Any]) -> None:
        self._holder = me
        info[_HOLDS_WRITE_TURN] = True

    def leave(self, info: dict[str, Any]) -> None:
        if not info.pop(_HOLDS_WRITE_TURN, False):
            return
        with self._mutex:
            self._holder = None
            if self._line:
                self._line.popleft().release()  # the turn passes, still taken
            else:
                self._taken = False


_HOLDS_WRITE_TURN = "jiaoxun_holds_write_turn"


def _sqlite_writers(engine: Engine) -> None:
    """A writer takes the write lock up front: a transaction that read first and writes later
    would otherwise fail at once ("database is locked") when another writer got in between;
    a reader (execution option read_only) reads its WAL snapshot without any lock."""
    queue = _WriterQueue(timeout_s=BUSY_TIMEOUT_MS / 1000)

    def begin(connection: Any) -> None:
        if connection.get_execution_options().get("read_only", False):
            connection.exec_driver_sql("BEGIN")
            return
        queue.enter(connection.info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.leave(connection.info)
            raise

    def returned(_dbapi_connection: Any, record: Any, _detail: Any = None) -> None:
        # after the commit or rollback: the pool takes the connection back, or closes or drops it
        queue.leave(record.info)

    event.listen(engine, "begin", begin)
    for name in ("reset", "invalidate", "close", "detach"):
        event.listen(engine.pool, name, returned)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=60)
        event.listen(engine, "connect", _sqlite_pragmas)
        _sqlite_writers(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=60
    )


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with sessionmaker(engine)() as session, session.begin():
        yield session


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back time-zone aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_type: type[enum.StrEnum], *, length: int = 20) -> SAEnum:
    """A column type storing a StrEnum by its value (not its member name), as plain text."""
    return SAEnum(
        enum_type,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def analyze(session: Session, *tables: str) -> None:
    """Refresh the planner's statistics of `tables` after a bulk write (PostgreSQL): a plan
    made on the counts of the empty tables (a nested loop over 15,000 rows) can take a
    thousand times as long as one made on the real counts. SQLite plans by its indexes."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f'ANALYZE "{table}"'))


def insert_new(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert `rows`, leaving out those a unique index already holds (a fix resent, a visit
    found again from the stored tracks): ``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL."""
    if not rows:
        return
    table: Any = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing()
    session.connection().execute(statement, rows)  # Core: a batch, no ORM bookkeeping
