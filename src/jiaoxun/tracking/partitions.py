"""Which server process ingests which devices' fixes, when several share the work.

A device's fixes must go through one ingestor, in order: its track, zone fences and patrol
visits live in that process's memory. Devices fall into `count` partitions by a hash of their
id; each partition has one owner at a time, held as a lease in a NATS key-value bucket whose
keys expire `lease_s` after their last renewal. Every process says it is alive on
`<name>.members` and renews its leases a few times a lease; the partitions are dealt round the
members heard within a lease, in id order, so a process that starts takes its share and one
that dies (its leases expire) leaves its share to the others. A process gives a partition up
(stops serving it) before it deletes its lease, and one takes a partition only once no lease
is held, so two never ingest one partition at once (unless one stalls for longer than a lease:
until it notices, each fix still goes to one of them, a queue group's).

A fix that reaches a process not owning its device is asked of the owner over NATS (request and
reply on `<name>.fixes.<partition>`), and the device is answered what the owner answered: "OK"
only once the fix is stored. While a partition has no owner (its process just died) the request
is repeated until one takes it; a fix stored just before its owner died and asked again is
answered as stored (the track point's unique key drops the repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import zlib
from collections.abc import Coroutine
from dataclasses import asdict
from datetime import datetime
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from jiaoxun.errors import Unavailable
from jiaoxun.tracking.pipeline import RawFix
from jiaoxun.tracking.service import Ingestor

log = logging.getLogger(__name__)

#: how long a lease outlives its last renewal: the longest a dead process's devices wait
LEASE_S = 6.0
#: how long a fix waits for its partition's owner before the device is told to send it again
OWNER_WAIT_S = 20.0
ASK_TIMEOUT_S = 5.0


class NoOwner(Unavailable):
    """No server process takes the fixes of this device just now."""


def partition_of(device_id: str, count: int) -> int:
    return zlib.crc32(device_id.encode()) % count


def _fix_json(raw: RawFix) -> bytes:
    body = asdict(raw) | {"at": raw.at.isoformat()}
    return json.dumps(body, allow_nan=False).encode()


def _fix_of(data: bytes) -> RawFix:
    body = json.loads(data)
    return RawFix(**(body | {"at": datetime.fromisoformat(body["at"])}))


class Partitions:
    """This process's share of the devices, and the way to the owners of the others."""

    def __init__(
        self, client: Client, ingestor: Ingestor, *, name: str, count: int, lease_s: float = LEASE_S
    ) -> None:
        self._client, self._ingestor = client, ingestor
        self._name, self.count, self._lease_s = name, count, lease_s
        self.me = uuid.uuid4().hex
        self._leases: dict[int, int] = {}  # partition: revision of its lease, held by this one
        self._serving: dict[int, Subscription] = {}  # the leased ones taken over, served
        self._work: set[asyncio.Task[None]] = set()
        self._kv: KeyValue | None = None
        self._members: dict[str, float] = {}  # process id: when last heard, loop time

    @property
    def owned(self) -> set[int]:
        """The partitions whose fixes this process ingests now."""
        return set(self._serving)

    def owns(self, device_id: str) -> bool:
        return partition_of(device_id, self.count) in self._serving

    async def run(self) -> None:
        """Keep the membership and the leases until cancelled, then give every partition up.
        Taking partitions over (their duties read again) runs beside it: nothing holds up the
        renewals of the leases."""
        js = self._client.jetstream()
        self._kv = await js.create_key_value(
            KeyValueConfig(
                bucket=f"{self._name}-owners", ttl=self._lease_s, storage=StorageType.MEMORY
            )
        )
        members = await self._client.subscribe(f"{self._name}.members", cb=self._heard)
        try:
            while True:
                try:
                    await self._tick(self._kv)
                except Exception:  # the bus away a moment: the leases outlive a few misses
                    log.exception("the partitions' round failed")
                await asyncio.sleep(self._lease_s / 4)
        finally:
            await members.unsubscribe()
            for task in self._work:
                task.cancel()
            for partition in list(self._leases):
                await self._give_up(partition)

    async def _heard(self, message: Msg) -> None:
        self._members[message.data.decode()] = asyncio.get_running_loop().time()

    async def _tick(self, kv: KeyValue) -> None:
        await self._client.publish(f"{self._name}.members", self.me.encode())
        now = asyncio.get_running_loop().time()
        alive = {m for m, heard in self._members.items() if now - heard < self._lease_s}
        members = sorted(alive | {self.me})
        mine = {p for p in range(self.count) if members[p % len(members)] == self.me}
        for partition in set(self._leases) - mine:
            await self._give_up(partition)
        gained = []
        for partition in sorted(mine):
            key = f"part.{partition}"
            if partition in self._leases:
                try:
                    self._leases[partition] = await kv.update(
                        key, self.me.encode(), self._leases[partition]
                    )
                except KeyWrongLastSequenceError:  # lost it (a pause longer than the lease)
                    await self._give_up(partition, delete=False)
                continue
            try:
                self._leases[partition] = await kv.create(key, self.me.encode())
            except KeyWrongLastSequenceError:
                continue  # still held by the process that had it: it gives it up or expires
            gained.append(partition)
        if gained:
            self._spawn(self._take_over(gained))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the caller, kept until done (cancelled when the process stops)."""
        task = asyncio.create_task(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _take_over(self, gained: list[int]) -> None:
        """What a start does for these devices: their tracks anew, every duty read from the
        database; then their fixes are served here."""
        self._ingestor.forget_tracks(lambda d: partition_of(d, self.count) in gained)
        await asyncio.to_thread(self._ingestor.reload_duty)
        for partition in gained:
            if partition in self._leases and partition not in self._serving:
                subject = f"{self._name}.fixes.{partition}"
                # one queue group: should a stalled old owner still serve, a fix goes to one
                self._serving[partition] = await self._client.subscribe(
                    subject, queue=f"{self._name}-ingest", cb=self._serve
                )
        log.info("partitions %s now ingested here (%s)", gained, self.me)

    async def _give_up(self, partition: int, *, delete: bool = True) -> None:
        revision = self._leases.pop(partition)
        sub = self._serving.pop(partition, None)
        if sub is not None:
            await sub.drain()  # type: ignore[no-untyped-call]  # the fixes taken are answered first
        if delete and self._kv is not None:
            with contextlib.suppress(KeyWrongLastSequenceError, KeyNotFoundError):
                await self._kv.delete(f"part.{partition}", last=revision)  # unless it expired

    async def _serve(self, message: Msg) -> None:
        try:
            raw = _fix_of(message.data)
        except (ValueError, TypeError, KeyError) as exc:
            await message.respond(json.dumps({"refused": f"not a fix: {exc}"}).encode())
            return
        # queued now, in the order the fixes came; answered when its batch is stored, while
        # the next ones are taken (a subscription hands its messages over one at a time)
        self._spawn(self._reply(message, raw))

    async def _reply(self, message: Msg, raw: RawFix) -> None:
        reason = await self._ingestor.wait_here(raw)
        await message.respond(json.dumps({"refused": reason}).encode())

    async def ask_owner(self, raw: RawFix) -> str | None:
        """The fix stored by its device's owner: None, or why it was refused."""
        subject = f"{self._name}.fixes.{partition_of(raw.device_id, self.count)}"
        payload = _fix_json(raw)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + OWNER_WAIT_S
        while loop.time() < give_up:
            if self.owns(raw.device_id):  # became ours meanwhile
                return await self._ingestor.wait_here(raw)
            try:
                reply = await self._client.request(subject, payload, timeout=ASK_TIMEOUT_S)
            except NoRespondersError:
                await asyncio.sleep(0.2)  # between two owners
                continue
            except NatsTimeout:
                continue  # the owner died with it: ask the next one (a repeat is dropped)
            except NatsError as exc:  # the bus itself away a moment: a 503 in the end, no 500
                log.warning("fix of %s not asked of its owner yet: %s", raw.device_id, exc)
                await asyncio.sleep(0.5)
                continue
            refused: str | None = json.loads(reply.data)["refused"]
            return refused
        raise NoOwner(f"no server process takes the fixes of device {raw.device_id} now")
