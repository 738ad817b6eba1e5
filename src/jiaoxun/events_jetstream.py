"""The event stream shared by several server processes through NATS JetStream.

Each process publishes the events of its own commits to one subject of a stream kept on disk,
with the event's id as `Nats-Msg-Id`: the server drops a repeat sent within its duplicate
window (a publish retried after a lost acknowledgement). Each process reads the whole stream
from the moment it starts, its own events included, so that every process's subscribers see
every event once and all of them in the stream's one order; the ids it has handed on are
remembered a while, and a repeat (an ordered consumer re-created after a gap) is dropped.
The events published together (a commit's, an ingestion batch's moves) travel in one message.
Why JetStream, not Redis Streams: see DESIGN notes in the README (measured by bench_bus).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import DeliverPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError

from jiaoxun.events import Event, LocalBus, LocalSubscription

log = logging.getLogger(__name__)

#: how long the stream keeps events (a process started later reads none of them)
KEEP_S = 24 * 3600.0
#: a publish repeated within this time is dropped by the server
DUPLICATE_WINDOW_S = 120.0
#: ids of events handed on, remembered to drop a redelivery
REMEMBERED = 100_000
CONNECT_TIMEOUT_S = 5.0
PUBLISH_TRIES = 5
PUBLISH_TIMEOUT_S = 2.0
#: events one message carries at most: an ingestion batch of thousands of moves goes in
#: several (NATS takes a message of up to 1 MB by default; a move is about 250 bytes)
EVENTS_PER_MESSAGE = 500


class BusUnreachable(RuntimeError):
    """The NATS server of the bus does not take a connection."""


async def _answers(url: str) -> None:
    parsed = urlsplit(url)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parsed.hostname, parsed.port or 4222), CONNECT_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        where = f"{parsed.hostname}:{parsed.port or 4222}"  # no credentials in a message
        raise BusUnreachable(f"the event bus at {where} does not answer: {exc}") from None
    writer.close()
    await writer.wait_closed()


async def _warn(exc: Exception) -> None:
    log.warning("event bus: %s", exc)


class JetStreamBus:
    """An `EventBus` over a JetStream stream: `publish` from any thread, `subscribe` on the
    server's loop; `open` connects (and makes the stream when missing), `close` drains."""

    def __init__(self, url: str, *, name: str = "jiaoxun") -> None:
        self._url, self._stream, self._subject = url, name, f"{name}.events"
        self._local = LocalBus()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._local.bind(self._loop)
        await _answers(self._url)  # a server never reached fails the start, not retried forever
        self._client = await nats.connect(
            self._url,
            name="jiaoxun",
            max_reconnect_attempts=-1,  # once connected, reconnect for as long as it takes
            connect_timeout=CONNECT_TIMEOUT_S,
            error_cb=_warn,
        )
        self._js = self._client.jetstream()
        config = StreamConfig(
            name=self._stream,
            subjects=[self._subject],
            storage=StorageType.FILE,
            max_age=KEEP_S,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:  # made before with other settings: this one's are used
            await self._js.update_stream(config)
        await self._js.subscribe(
            self._subject,
            stream=self._stream,
            cb=self._received,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

    async def close(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self._client is not None and not self._client.is_closed:
            await self._client.drain()
        self._client = self._js = None

    @property
    def client(self) -> Client:
        """The connection to NATS, once open."""
        if self._client is None:
            raise RuntimeError("the bus is not open")
        return self._client

    def publish(self, event: Event) -> None:
        self.publish_many((event,))

    def publish_many(self, events: Sequence[Event]) -> None:
        """`events` in messages of up to `EVENTS_PER_MESSAGE`: one event as itself, several as
        ``{"events": [...]}``, named by the first one's id and their count."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._js is None:
            self._local.publish_many(events)  # not connected (yet, or any more): this process
            return
        messages = []
        for start in range(0, len(events), EVENTS_PER_MESSAGE):
            chunk = list(events[start : start + EVENTS_PER_MESSAGE])
            body: Any = (
                chunk[0].as_json() if len(chunk) == 1 else {"events": [e.as_json() for e in chunk]}
            )
            payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
            messages.append((chunk, payload))
        loop.call_soon_threadsafe(self._start_sending, messages)

    def _start_sending(self, messages: list[tuple[list[Event], bytes]]) -> None:
        for chunk, payload in messages:
            task = asyncio.create_task(self._send(chunk, payload))  # in the order published
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, chunk: list[Event], payload: bytes) -> None:
        first = chunk[0]
        name = first.id if len(chunk) == 1 else f"{first.id}+{len(chunk)}"
        headers = {"Nats-Msg-Id": name}
        for attempt in range(PUBLISH_TRIES):
            js = self._js
            if js is None:
                break
            try:
                await js.publish(self._subject, payload, timeout=PUBLISH_TIMEOUT_S, headers=headers)
                return
            except (NatsError, TimeoutError) as exc:
                log.warning("events %s not yet on the bus (%s), try %d", name, exc, attempt + 1)
                await asyncio.sleep(0.1 * 2**attempt)
        log.error(
            "%d events from %s %s/%s never reached the bus: this process's clients only",
            len(chunk),
            first.id,
            first.kind,
            first.action,
        )
        for event in chunk:
            self._hand_on(event)

    async def _received(self, message: Msg) -> None:
        try:
            body = json.loads(message.data)
            if not isinstance(body, dict):
                raise TypeError(f"a message of {type(body).__name__}")
            bodies = body.get("events", [body])
            events = [Event.from_json(b) for b in bodies]
        except (ValueError, KeyError, TypeError):
            log.warning("a message on %s is no event: dropped", message.subject)
            return
        for event in events:
            self._hand_on(event)

    def _hand_on(self, event: Event) -> None:
        if event.id in self._seen:
            return
        self._seen[event.id] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        self._local.publish(event)

    def subscribe(self) -> LocalSubscription:
        return self._local.subscribe()
