"""The event bus between server processes, on the local NATS server with JetStream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import pytest

from jiaoxun.events import Event
from jiaoxun.events_jetstream import EVENTS_PER_MESSAGE, BusUnreachable, JetStreamBus


async def _next(events: AsyncIterator[Event], timeout_s: float = 5.0) -> Event:
    return await asyncio.wait_for(anext(events), timeout_s)


@asynccontextmanager
async def _two_processes(url: str, name: str) -> AsyncIterator[tuple[JetStreamBus, JetStreamBus]]:
    """The buses of two server processes on one stream, the stream deleted after."""
    a, b = JetStreamBus(url, name=name), JetStreamBus(url, name=name)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()
        client = await nats.connect(url)
        await client.jetstream().delete_stream(name)
        await client.close()


async def _two_processes_publishing(
    url: str, name: str
) -> tuple[list[Event], list[str], list[str]]:
    async with _two_processes(url, name) as (a, b):
        with a.subscribe() as on_a, b.subscribe() as on_b:
            events = [Event("incident", "changed", {"n": n}) for n in range(60)]

            def commit(bus: JetStreamBus, mine: list[Event]) -> None:
                for event in mine:  # as the commits of request threads publish
                    bus.publish(event)

            await asyncio.gather(
                asyncio.to_thread(commit, a, events[::2]),
                asyncio.to_thread(commit, b, events[1::2]),
            )
            a.publish(events[0])  # a publish repeated (its acknowledgement lost, say)
            b.publish(events[0])  # and the same event from the other process
            seen = {}
            for side, stream in (("a", aiter(on_a)), ("b", aiter(on_b))):
                seen[side] = [(await _next(stream)).id for _ in events]
                with pytest.raises(TimeoutError):
                    await _next(stream, timeout_s=0.5)  # no repeat comes after them
        return events, seen["a"], seen["b"]


def test_every_process_sees_every_event_once_and_all_in_one_order(nats_url: str) -> None:
    events, on_a, on_b = asyncio.run(
        _two_processes_publishing(nats_url, f"test-{uuid.uuid4().hex[:12]}")
    )
    ids = [e.id for e in events]
    assert sorted(on_a) == sorted(ids)  # every event, once, on both
    assert on_a == on_b  # in the stream's one order
    # each process's events in the order it published them
    assert [i for i in on_a if i in set(ids[::2])] == ids[::2]
    assert [i for i in on_a if i in set(ids[1::2])] == ids[1::2]


async def _a_batch_published(url: str, name: str) -> tuple[list[Event], list[str], int]:
    async with _two_processes(url, name) as (a, b):
        with b.subscribe() as on_b:
            moves = [Event("unit", "moved", {"n": n}) for n in range(EVENTS_PER_MESSAGE * 2 + 7)]
            await asyncio.to_thread(a.publish_many, moves)  # as an ingestion batch's moves
            await asyncio.to_thread(a.publish_many, moves[:5])  # a repeat of the first five
            # messages that are no events: dropped, and the stream goes on
            for junk in (b"[1, 2]", b'{"events": 5}', b'{"events": [{"kind": "unit"}]}', b"\xff"):
                await a.client.publish(f"{name}.events", junk)
            after = Event("incident", "changed", {})
            a.publish(after)
            stream = aiter(on_b)
            seen = [(await _next(stream)).id for _ in range(len(moves) + 1)]
            with pytest.raises(TimeoutError):
                await _next(stream, timeout_s=0.5)
        info = await a.client.jetstream().stream_info(name)
        return [*moves, after], seen, info.state.messages


def test_events_published_together_travel_in_few_messages_and_arrive_each_once(
    nats_url: str,
) -> None:
    events, seen, messages = asyncio.run(
        _a_batch_published(nats_url, f"test-{uuid.uuid4().hex[:12]}")
    )
    assert seen == [e.id for e in events]  # every one, once, in order, the junk dropped
    # 1,007 moves in three messages, the repeat of five in one, four of junk, the last event
    assert messages == 3 + 1 + 4 + 1


def test_a_bus_that_does_not_answer_fails_the_start_naming_it_without_credentials() -> None:
    bus = JetStreamBus("nats://someone:secret@127.0.0.1:9", name="nowhere")
    with pytest.raises(BusUnreachable, match=r"the event bus at 127\.0\.0\.1:9 does not answer"):
        asyncio.run(bus.open())
    with pytest.raises(BusUnreachable) as caught:
        asyncio.run(bus.open())
    assert "secret" not in str(caught.value)
