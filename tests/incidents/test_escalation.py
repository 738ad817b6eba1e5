"""Orders nobody signed for, raised to the dispatcher once past the limit (30 s here), on SQLite
and on PostgreSQL: each exactly once (two server rounds racing too), with its audit row and
its event; never an order signed for in time, returned or cancelled; a late signature keeps the
record; a clock that went back raises nothing. And the server's duty round outlives a round
that fails."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.audit.models import AuditEntry
from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.events import Event, publish_on_commit
from jiaoxun.incidents.escalation import escalation_upkeep
from jiaoxun.incidents.lifecycle import ACTIVE_ORDER_STATES, IncidentState, OrderState
from jiaoxun.incidents.models import DispatchOrder, Incident, Source
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.incidents.transitions import move_order
from jiaoxun.settings import Settings
from jiaoxun.units.models import Unit
from jiaoxun.units.status import UnitStatus
from jiaoxun.web.app import _duty_round

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LIMIT_S = 30.0


@dataclass
class Heard:
    """An event bus that keeps what was published (the server's would push it to the pages)."""

    events: list[Event] = field(default_factory=list)

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def publish_many(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def subscribe(self) -> None:
        raise NotImplementedError("nobody listens in these tests")

    def escalated(self) -> list[Event]:
        return [e for e in self.events if (e.kind, e.action) == ("order", "escalated")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, new_database: Callable[[str], str]
) -> Iterator[tuple[sessionmaker[Session], Heard]]:
    """Sessions on a migrated database of the module's own (the rounds commit), and the events
    their commits publish."""
    engine = make_engine(new_database(request.param))
    migrate(engine)
    with transaction(engine) as session:
        seed_reference(session)
    sessions = sessionmaker(engine)
    heard = Heard()
    publish_on_commit(sessions, heard)  # type: ignore[arg-type]
    yield sessions, heard
    engine.dispose()


@pytest.fixture
def sessions(backend: tuple[sessionmaker[Session], Heard]) -> Iterator[sessionmaker[Session]]:
    """The backend's sessions; the orders a test leaves running are withdrawn after it."""
    sessions, heard = backend
    heard.events.clear()
    yield sessions
    with sessions() as session, session.begin():
        session.execute(
            update(DispatchOrder)
            .where(DispatchOrder.state.in_(ACTIVE_ORDER_STATES))
            .values(state=OrderState.CANCELLED, cancelled_at=T0)
        )


@pytest.fixture
def heard(backend: tuple[sessionmaker[Session], Heard]) -> Heard:
    return backend[1]


SETTINGS = Settings(ack_limit_s=LIMIT_S)


def _issue(sessions: sessionmaker[Session], *, at: datetime, units: int = 1) -> list[int]:
    """One incident and `units` units each sent to it at `at`; the orders' ids."""
    tag = uuid.uuid4().hex[:8]
    with sessions() as session, session.begin():
        incident = Incident(
            number=f"E{tag}",
            source=Source.POLICE_110,
            lon=126.65,
            lat=45.745,
            category_code="050200",
            priority=2,
            state=IncidentState.DISPATCHED,
            created_by="dispatcher",
            call_at=at - timedelta(seconds=60),
        )
        session.add(incident)
        orders = []
        for n in range(units):
            unit = Unit(call_sign=f"E{tag}-{n}", status=UnitStatus.DISPATCHED)
            order = DispatchOrder(
                incident=incident,
                unit=unit,
                state=OrderState.ISSUED,
                issued_by="dispatcher",
                issued_at=at,
            )
            session.add(order)
            orders.append(order)
        session.flush()
        return [o.id for o in orders]


def _move(sessions: sessionmaker[Session], order_id: int, to: OrderState, *, at: datetime) -> None:
    with sessions() as session, session.begin():
        order = session.get_one(DispatchOrder, order_id)
        move_order(session, order, to, by="officer", reason="test", now=at)


def _order(sessions: sessionmaker[Session], order_id: int) -> DispatchOrder:
    with sessions() as session:
        return session.get_one(DispatchOrder, order_id)


def _audit(sessions: sessionmaker[Session], order_id: int) -> list[AuditEntry]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "order",
                    AuditEntry.entity_id == str(order_id),
                    AuditEntry.action == "escalate",
                )
            )
        )


def test_an_order_not_signed_for_is_raised_once_past_the_limit(
    sessions: sessionmaker[Session], heard: Heard
) -> None:
    (order_id,) = _issue(sessions, at=T0)
    assert escalation_upkeep(sessions, SETTINGS, now=T0 + timedelta(seconds=LIMIT_S)) == []
    assert _order(sessions, order_id).escalated_at is None
    now = T0 + timedelta(seconds=LIMIT_S + 1.5)
    assert escalation_upkeep(sessions, SETTINGS, now=now) == [order_id]
    assert escalation_upkeep(sessions, SETTINGS, now=now + timedelta(seconds=60)) == []
    order = _order(sessions, order_id)
    assert order.escalated_at == now
    assert order.state is OrderState.ISSUED  # raised, still waiting for its signature
    (row,) = _audit(sessions, order_id)
    assert (row.username, row.at) == ("system", now)
    assert row.reason == (
        "not acknowledged 32 s after issue, beyond the limit of 30 s: raised to the dispatcher"
    )
    (event,) = heard.escalated()
    with sessions() as session:
        incident = session.get_one(DispatchOrder, order_id).incident
        call_sign = session.get_one(DispatchOrder, order_id).unit.call_sign
        number, incident_id = incident.number, incident.id
    assert event.data == {
        "id": order_id,
        "incident_id": incident_id,
        "number": number,
        "unit_id": order.unit_id,
        "call_sign": call_sign,
        "state": "issued",
        "issued_at": T0.isoformat(),
        "escalated_at": now.isoformat(),
        "waited_s": 31.5,
    }


def test_orders_signed_for_in_time_returned_or_cancelled_are_never_raised(
    sessions: sessionmaker[Session], heard: Heard
) -> None:
    signed, returned, cancelled = _issue(sessions, at=T0, units=3)
    _move(sessions, signed, OrderState.ACKNOWLEDGED, at=T0 + timedelta(seconds=29))
    _move(sessions, returned, OrderState.RETURNED, at=T0 + timedelta(seconds=40))
    _move(sessions, cancelled, OrderState.CANCELLED, at=T0 + timedelta(seconds=40))
    assert escalation_upkeep(sessions, SETTINGS, now=T0 + timedelta(hours=1)) == []
    assert [_order(sessions, i).escalated_at for i in (signed, returned, cancelled)] == [None] * 3
    assert heard.escalated() == []


def test_a_late_signature_keeps_the_record_of_the_escalation(
    sessions: sessionmaker[Session],
) -> None:
    (order_id,) = _issue(sessions, at=T0)
    raised_at = T0 + timedelta(seconds=35)
    assert escalation_upkeep(sessions, SETTINGS, now=raised_at) == [order_id]
    _move(sessions, order_id, OrderState.ACKNOWLEDGED, at=T0 + timedelta(seconds=50))
    assert escalation_upkeep(sessions, SETTINGS, now=T0 + timedelta(seconds=90)) == []
    order = _order(sessions, order_id)
    assert (order.state, order.escalated_at) == (OrderState.ACKNOWLEDGED, raised_at)
    assert order.acknowledged_at == T0 + timedelta(seconds=50)
    assert len(_audit(sessions, order_id)) == 1


def test_a_clock_gone_back_raises_nothing(sessions: sessionmaker[Session], heard: Heard) -> None:
    (order_id,) = _issue(sessions, at=T0)
    assert escalation_upkeep(sessions, SETTINGS, now=T0 - timedelta(hours=2)) == []
    assert _order(sessions, order_id).escalated_at is None
    assert heard.escalated() == []


def test_two_rounds_racing_raise_each_order_once(
    sessions: sessionmaker[Session], heard: Heard
) -> None:
    orders = _issue(sessions, at=T0, units=12)
    now = T0 + timedelta(seconds=45)
    gate = threading.Barrier(2)
    raised: list[list[int]] = []

    def round_() -> None:
        gate.wait()
        raised.append(escalation_upkeep(sessions, SETTINGS, now=now))

    threads = [threading.Thread(target=round_) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(i for r in raised for i in r) == orders
    assert sorted(e.data["id"] for e in heard.escalated()) == orders
    assert [len(_audit(sessions, i)) for i in orders] == [1] * len(orders)


def test_the_duty_round_outlives_a_failed_round(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The first rounds fail (the database has no tables yet); once migrated, rounds raise."""
    engine = make_engine(f"sqlite:///{tmp_path / 'late.db'}")
    sessions = sessionmaker(engine)
    settings = Settings(ack_limit_s=1.0, duty_round_s=0.02)

    async def run() -> None:
        # no roster to apply in this database: the shift change never needs the fleet's ingestor
        task = asyncio.create_task(_duty_round(settings, sessions, None))  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
        assert not task.done()
        await asyncio.to_thread(migrate, engine)
        await asyncio.to_thread(_seed_and_issue, sessions)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if _escalated(sessions):
                break
        task.cancel()

    with caplog.at_level(logging.ERROR, logger="jiaoxun.web.app"):
        asyncio.run(run())
    failed = [r for r in caplog.records if "duty round's escalation" in r.getMessage()]
    assert len(failed) >= 2
    assert failed[0].exc_info is not None
    assert _escalated(sessions) == 1
    engine.dispose()


def _seed_and_issue(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        seed_reference(session)
    _issue(sessions, at=datetime.now(UTC) - timedelta(seconds=5))


def _escalated(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        raised = select(DispatchOrder).where(DispatchOrder.escalated_at.is_not(None))
        return len(session.scalars(raised).all())
