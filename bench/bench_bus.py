"""The event bus between server processes, chosen by measurement: Redis Streams against NATS
JetStream, each on its local server, with the in-process queue of one process as the baseline.

Each bus carries `--events` domain events (about 200 bytes of JSON with an id), published one
at a time as a server emits them (each publish waits for the broker's reply: JetStream's ack
that the event is stored, Redis's stream id), and read by one consumer group / durable pull
consumer that acknowledges every event. Figures: events per second end to end, and publish →
consume latency p50 / p99; every event is checked to arrive exactly once, in order. Then the
server's own bus (`JetStreamBus`) between two instances, flat out, each event in a message of
its own against 25 in one message (`publish_many`, an ingestion batch's moves).

    .venv/bin/python bench/bench_bus.py [--events 20000] [--smoke]

`--smoke` carries 300 events. Exits 0 (non-zero on a crash, a lost or repeated event, or a
server that does not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass

import nats
import numpy as np
import redis
from nats.js.api import AckPolicy, ConsumerConfig, StorageType
from rich.console import Console
from rich.table import Table

from harness import parse_args
from jiaoxun.events import Event
from jiaoxun.events_jetstream import JetStreamBus

REDIS_URL = "redis://127.0.0.1:6379/0"
NATS_URL = "nats://127.0.0.1:4222"
#: the moves of one ingestion batch of a server (about 22 fixes a batch measured by bench_ingest)
PER_BATCH = 25


@dataclass(frozen=True)
class Result:
    bus: str
    events: int
    seconds: float
    latency_ms: np.ndarray

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def event(i: int) -> bytes:
    """A domain event as the server emits one: kind, id, the unit's new position."""
    body = {
        "id": f"{i:012d}",
        "kind": "unit",
        "unit_id": i % 300,
        "status": "patrolling",
        "lon": 122.8 + (i % 97) * 1e-4,
        "lat": 45.6 + (i % 89) * 1e-4,
        "at": "2026-12-03T08:00:00+08:00",
        "sent": time.perf_counter(),
    }
    return json.dumps(body).encode()


def received(payload: bytes, seen: list[int]) -> float:
    """The latency of one event in ms; its number appended to `seen`."""
    now = time.perf_counter()
    body = json.loads(payload)
    seen.append(int(body["id"]))
    return (now - body["sent"]) * 1000.0


def checked(bus: str, seen: list[int], n: int) -> None:
    if seen != list(range(n)):
        lost = n - len(set(seen))
        raise SystemExit(f"{bus}: {lost} events lost, {len(seen) - len(set(seen))} repeated")


def in_process(n: int) -> Result:
    """Baseline: one process's queue between a producer and a consumer thread."""
    import queue

    q: queue.Queue[bytes] = queue.Queue()
    seen: list[int] = []
    latency: list[float] = []

    def consume() -> None:
        for _ in range(n):
            latency.append(received(q.get(), seen))

    reader = threading.Thread(target=consume)
    start = time.perf_counter()
    reader.start()
    for i in range(n):
        q.put(event(i))
    reader.join()
    seconds = time.perf_counter() - start
    checked("in-process queue", seen, n)
    return Result("in-process queue (baseline)", n, seconds, np.array(latency))


def redis_streams(n: int) -> Result:
    stream, group = f"bench-{uuid.uuid4().hex[:8]}", "servers"
    producer = redis.Redis.from_url(REDIS_URL)
    consumer = redis.Redis.from_url(REDIS_URL)
    producer.xgroup_create(stream, group, id="0", mkstream=True)
    seen: list[int] = []
    latency: list[float] = []

    def consume() -> None:
        while len(seen) < n:
            reply = consumer.xreadgroup(group, "a", {stream: ">"}, count=500, block=2000)
            if not reply:
                raise SystemExit(f"redis: no event within 2 s after {len(seen)}")
            ids = []
            for message_id, fields in reply[0][1]:
                latency.append(received(fields[b"e"], seen))
                ids.append(message_id)
            consumer.xack(stream, group, *ids)

    reader = threading.Thread(target=consume)
    try:
        start = time.perf_counter()
        reader.start()
        for i in range(n):
            producer.xadd(stream, {"e": event(i)})
        reader.join()
        seconds = time.perf_counter() - start
        pending = producer.xpending(stream, group)["pending"]
        if pending:
            raise SystemExit(f"redis: {pending} events read but not acknowledged")
    finally:
        producer.delete(stream)
    checked("redis", seen, n)
    return Result("Redis Streams (XADD, XREADGROUP, XACK)", n, seconds, np.array(latency))


async def _jetstream(n: int) -> Result:
    name = f"BENCH{uuid.uuid4().hex[:8].upper()}"
    subject = f"{name.lower()}.events"
    publisher = await nats.connect(NATS_URL)
    reader = await nats.connect(NATS_URL)
    js, js_reader = publisher.jetstream(), reader.jetstream()
    await js.add_stream(name=name, subjects=[subject], storage=StorageType.FILE)
    config = ConsumerConfig(durable_name="servers", ack_policy=AckPolicy.EXPLICIT)
    sub = await js_reader.pull_subscribe(subject, durable="servers", stream=name, config=config)
    seen: list[int] = []
    latency: list[float] = []

    async def consume() -> None:
        while len(seen) < n:
            for message in await sub.fetch(batch=500, timeout=2):
                latency.append(received(message.data, seen))
                await message.ack()

    try:
        start = time.perf_counter()
        reading = asyncio.create_task(consume())
        for i in range(n):
            # the message id lets JetStream drop a repeated publish (at-least-once senders)
            await js.publish(subject, event(i), headers={"Nats-Msg-Id": f"{name}-{i}"})
        await reading
        seconds = time.perf_counter() - start
    finally:
        await js.delete_stream(name)
        await reader.close()
        await publisher.close()
    checked("jetstream", seen, n)
    return Result("NATS JetStream (file store, pull, ack)", n, seconds, np.array(latency))


async def _server_bus(n: int, per_message: int) -> Result:
    """The server's own bus (`JetStreamBus`) between two processes' instances, flat out: `n`
    "unit moved" events published `per_message` at a time (`publish_many`, as an ingestion
    batch publishes its moves; 1: each on its own, as before), read on the other instance."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    a, b = JetStreamBus(NATS_URL, name=name), JetStreamBus(NATS_URL, name=name)
    await a.open()
    await b.open()
    seen: list[int] = []
    latency: list[float] = []
    try:
        with b.subscribe() as events:

            async def consume() -> None:
                async for e in events:
                    latency.append((time.perf_counter() - e.data["sent"]) * 1000.0)
                    seen.append(e.data["n"])
                    if len(seen) == n:
                        return

            reading = asyncio.create_task(consume())
            start = time.perf_counter()
            for first in range(0, n, per_message):
                moves = [
                    Event(
                        "unit", "moved", {"n": i, "unit_id": i % 300, "sent": time.perf_counter()}
                    )
                    for i in range(first, min(first + per_message, n))
                ]
                a.publish_many(moves)
                await asyncio.sleep(0)  # the loop sends while the next batch is made
            await asyncio.wait_for(reading, timeout=120)
            seconds = time.perf_counter() - start
    finally:
        await a.close()
        await b.close()
        client = await nats.connect(NATS_URL)
        await client.jetstream().delete_stream(name)
        await client.close()
    checked(f"JetStreamBus {per_message} a message", seen, n)
    what = "one event a message" if per_message == 1 else f"{per_message} events a message"
    return Result(f"the server's JetStreamBus, {what}", n, seconds, np.array(latency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parse_args(parser, smoke={"events": 300})
    console = Console(width=120)
    results = [in_process(args.events), redis_streams(args.events)]
    results.append(asyncio.run(_jetstream(args.events)))
    results += [asyncio.run(_server_bus(args.events, k)) for k in (1, PER_BATCH)]
    table = Table(title=f"{args.events:,} events, one publisher and one consumer, loopback")
    for column in ("bus", "events/s", "p50 ms", "p99 ms", "vs baseline"):
        table.add_column(column)
    base = results[0].rate
    for r in results:
        p50, p99 = np.percentile(r.latency_ms, [50, 99])
        table.add_row(r.bus, f"{r.rate:,.0f}", f"{p50:.2f}", f"{p99:.2f}", f"{r.rate / base:.3f}")
    console.print(table)
    redis_rate, nats_rate = results[1].rate, results[2].rate
    console.print(f"Redis Streams / JetStream throughput: {redis_rate / nats_rate:.2f}x")
    single, batched = results[3].rate, results[4].rate
    console.print(
        f"the server's bus, {PER_BATCH} events a message / one a message: {batched / single:.2f}x"
    )


if __name__ == "__main__":
    main()
