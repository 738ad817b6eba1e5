"""The event stream: every incident, order and unit change, pushed to whoever listens.

Services `emit` events into the session; they are published only once the transaction commits
(a rolled-back change never shows on a dispatcher's screen). The `EventBus` is an interface: the
in-process bus serves one server process; `events_jetstream.JetStreamBus` shares the events of
several through NATS JetStream. Every event has an id, so that a listener drops a repeat.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Event:
    kind: str  # incident, order, unit
    action: str  # created, changed…
    data: dict[str, Any]
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "action": self.action,
            "at": self.at,
            "data": self.data,
        }

    @cached_property
    def text(self) -> str:
        """`as_json` as compact JSON text: encoded once, however many clients it goes to."""
        return json.dumps(self.as_json(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Event:
        return cls(body["kind"], body["action"], body["data"], at=body["at"], id=body["id"])


def emit(session: Session, kind: str, action: str, data: dict[str, Any]) -> None:
    """Queue an event to be published when `session` commits."""
    session.info.setdefault("events", []).append(Event(kind, action, data))


class Subscription(Protocol):
    """Events from the moment of subscribing on, until closed (a context manager)."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def __enter__(self) -> Subscription: ...

    def __exit__(self, *exc: object) -> None: ...


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Publish `event`, from any thread."""

    def publish_many(self, events: Sequence[Event]) -> None:
        """Publish `events` in their order, from any thread, at once: a commit's events, an
        ingestion batch's moves (one wake of the loop, one message on a shared bus)."""

    def subscribe(self) -> Subscription:
        """Every event published from now on, on the running loop."""

    async def open(self) -> None:
        """Start delivering to subscribers on the running loop (the server's)."""

    async def close(self) -> None: ...


class LocalBus:
    """In-process bus: thread-safe `publish`, one asyncio queue per subscriber."""

    def __init__(self, *, queue_size: int = 10_000) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._queue_size = queue_size

    def publish(self, event: Event) -> None:
        self.publish_many((event,))

    def publish_many(self, events: Sequence[Event]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not events:
            return
        loop.call_soon_threadsafe(self._offer, events)  # one wake of the loop, however many

    def _offer(self, events: Sequence[Event]) -> None:
        """On the loop: `events` to every subscriber's queue."""
        with self._lock:
            queues = list(self._queues)
        for queue in queues:
            for published in events:
                if queue.full():  # a client too slow to keep up loses its oldest events
                    queue.get_nowait()
                queue.put_nowait(published)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the subscribers run on (the server's), unless a live one is bound."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = loop

    async def open(self) -> None:
        self.bind(asyncio.get_running_loop())

    async def close(self) -> None:
        pass  # nothing held outside the process

    def subscribe(self) -> LocalSubscription:
        """A subscription that receives every event published from now on: a client that
        subscribes before it reads a snapshot misses nothing in between."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._queues.add(queue)
        return LocalSubscription(self, queue)

    def _unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        with self._lock:
            self._queues.discard(queue)


class LocalSubscription:
    """One subscriber's queue on a `LocalBus`."""

    def __init__(self, bus: LocalBus, queue: asyncio.Queue[Event]) -> None:
        self._bus, self._queue = bus, queue

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def __enter__(self) -> LocalSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bus._unsubscribe(self._queue)


def publish_on_commit(sessions: sessionmaker[Session], bus: EventBus) -> None:
    """Route the events of the sessions `sessions` makes to `bus` once they commit; those of a
    rolled-back session are dropped."""

    @event.listens_for(sessions, "after_commit")
    def _published(session: Session) -> None:
        queued = session.info.pop("events", [])
        if queued:
            bus.publish_many(queued)

    @event.listens_for(sessions, "after_rollback")
    def _dropped(session: Session) -> None:
        session.info.pop("events", None)
