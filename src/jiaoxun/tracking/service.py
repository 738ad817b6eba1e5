"""The ingestion service: positions from every input, through the pipeline, into the live
fleet state, the database (in batches) and the event stream.

Inputs (OsmAnd HTTP, JT/T 808 TCP, MQTT, JSON batches) only `submit` raw fixes; one background
task drains them in batches, so that a burst of thousands of positions costs one transaction.
The live fleet state (each device's last fix, each unit's position) lives here in memory and is
rebuilt from the database at start; the database stays the source of truth.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, object_session, sessionmaker

from jiaoxun.city.context import CityContext
from jiaoxun.db import insert_new
from jiaoxun.events import Event, EventBus, emit
from jiaoxun.geo.matching import Matcher
from jiaoxun.incidents.arrival import UnitFix, gps_arrivals
from jiaoxun.throttle import TokenBuckets
from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.credentials import secret_sha256
from jiaoxun.tracking.duty_rules import duty_rules, home_zones
from jiaoxun.tracking.duty_store import DutyKeeper, UnitFixIn
from jiaoxun.tracking.found import Found, announced
from jiaoxun.tracking.geofence import ZoneFences
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.tracking.pipeline import (
    DEFAULT_LIMITS,
    DeviceTrack,
    Fix,
    Limits,
    Outcome,
    RawFix,
    run,
)
from jiaoxun.units.models import Unit

log = logging.getLogger(__name__)


class Router(Protocol):
    """The way to the server process that ingests a device's fixes (`partitions.Partitions`)."""

    def owns(self, device_id: str) -> bool: ...

    async def ask_owner(self, raw: RawFix) -> str | None: ...


#: a fix waiting for its batch, with the future of a device waiting for the answer
Queued = tuple[RawFix, "asyncio.Future[str | None] | None"]


def _reason(refused: dict[int, str] | str, raw: RawFix) -> str | None:
    return refused if isinstance(refused, str) else refused.get(id(raw))


def _settle(future: asyncio.Future[str | None], reason: str | None) -> None:
    if not future.done():  # the waiting request may have gone
        future.set_result(reason)


@dataclass
class Stats:
    """What ingestion has done since start: accepted, and rejected by reason."""

    accepted: int = 0
    batches: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class Ingestor:
    """Turns raw fixes into tracks, live positions and events. Thread-safe `submit`."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        city: CityContext,
        bus: EventBus,
        limits: Limits = DEFAULT_LIMITS,
        batch_size: int = 5000,
        throttle: TokenBuckets | None = None,
        arrival_radius_m: float = 50.0,
        shifts: ShiftClock | None = None,
    ) -> None:
        self.sessions, self.city, self.bus, self.limits = sessions, city, bus, limits
        #: a fix this close to the scene of its unit's open order proves the arrival
        self.arrival_radius_m = arrival_radius_m
        self.batch_size = batch_size
        self.tracks: dict[str, DeviceTrack] = {}
        self.unit_of: dict[str, int | None] = {}
        #: (protocol, SHA-256 of a secret) → the device it proves
        self.owner_of_secret: dict[tuple[str, str], str] = {}
        #: how often one device may send: a backlog after a tunnel, then a few fixes a second
        self.throttle = throttle or TokenBuckets(rate_per_s=5.0, burst=120)
        self.stats = Stats()
        self._queue: asyncio.Queue[Queued] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._processing = threading.Lock()
        #: when several server processes share the devices: who ingests which (`partitions`)
        self.router: Router | None = None
        self._away: set[asyncio.Future[str | None]] = set()
        self.fences = ZoneFences.from_polygons(
            [z.code for z in city.zones], city.zone_shapes, xy=city.travel_times.snapper.to_xy
        )
        self.matcher = Matcher(city.travel_times)
        self.shifts = shifts or ShiftClock.of(["08:00", "20:00"], ZoneInfo("Asia/Shanghai"))
        self.reload_devices()
        self.reload_duty()

    def reload_devices(self) -> None:
        """Read which devices exist, which unit each belongs to, and their secrets."""
        with self.sessions() as session:
            devices = list(session.scalars(select(Device)))
        self.unit_of = {d.device_id: d.unit_id for d in devices}
        self.owner_of_secret = {
            (d.protocol, d.secret_sha256): d.device_id for d in devices if d.secret_sha256
        }

    def know_device(self, device: Device) -> None:
        """Take a device registered or changed in the request under way into the live state;
        once the request commits, the other server processes read it again (`reload_device`)."""
        self._take_device(device)
        session = object_session(device)
        if session is not None:
            data = {"device_id": device.device_id, "unit_id": device.unit_id}
            emit(session, "device", "changed", data)

    def reload_device(self, device_id: str) -> None:
        """Read one device again (changed by another server process): its unit and secret."""
        with self.sessions() as session:
            device = session.scalar(select(Device).where(Device.device_id == device_id))
            if device is not None:
                self._take_device(device)
                return
        self.unit_of.pop(device_id, None)
        for key in [k for k, owner in self.owner_of_secret.items() if owner == device_id]:
            del self.owner_of_secret[key]

    def _take_device(self, device: Device) -> None:
        self.unit_of[device.device_id] = device.unit_id
        for key in [k for k, owner in self.owner_of_secret.items() if owner == device.device_id]:
            del self.owner_of_secret[key]
        if device.secret_sha256:
            self.owner_of_secret[(device.protocol, device.secret_sha256)] = device.device_id

    def identify(self, device_id: str, *, secret: str | None, protocol: str) -> str | None:
        """The registered `protocol` device that `secret` proves, or None. Without a separate
        secret the id itself must be the secret (how Traccar Client is set up: its device
        identifier field holds the secret). A known id with a wrong secret and an unknown id
        get the same None."""
        owner = self.owner_of_secret.get((protocol, secret_sha256(secret or device_id)))
        if owner is None or (secret is not None and device_id and owner != device_id):
            return None
        return owner

    def forget_tracks(self, whose: Callable[[str], bool]) -> None:
        """Drop what this process remembers of the tracks of the devices `whose` picks (their
        fixes were ingested elsewhere meanwhile)."""
        with self._processing:
            for device_id in [d for d in self.tracks if whose(d)]:
                del self.tracks[device_id]

    def reload_duty(self, *, now: datetime | None = None) -> None:
        """Read the mandatory points and lines and the units' home zones, and resume every
        unit's duty of the current shift from the database (`DutyKeeper.resume`)."""
        with self.sessions() as session, session.begin():
            self.duty = DutyKeeper(
                duty_rules(session, self.city, fences=self.fences, matcher=self.matcher),
                clock=self.shifts,
                homes=home_zones(session, self.city),
                zone_codes={z.id: z.code for z in self.city.zones},
            )
            with self._processing:
                self.duty.resume(session, now=now or datetime.now(UTC))

    # -- input side ---------------------------------------------------------------------------

    def submit(self, raws: Sequence[RawFix]) -> None:
        """Queue fixes for the next batch (from any thread); without a running loop, process
        them at once. Those of devices another server process ingests go to it."""
        if self._queue is None or self._loop is None:
            self.process(raws, now=datetime.now(UTC))
            return
        for raw in raws:
            if self.router is not None and not self.router.owns(raw.device_id):
                self._loop.call_soon_threadsafe(self._send_away, raw)
            else:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, (raw, None))

    def _send_away(self, raw: RawFix) -> None:
        assert self.router is not None
        task = asyncio.ensure_future(self.router.ask_owner(raw))
        self._away.add(task)
        task.add_done_callback(self._sent_away)

    def _sent_away(self, task: asyncio.Future[str | None]) -> None:
        self._away.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a fix for another process was lost: %s", task.exception())

    async def submit_and_wait(self, raw: RawFix) -> str | None:
        """The fix through its batch: the reason it was refused, or None once it is stored.
        A device is told the truth about each fix, also by the process that ingests it when
        that is another."""
        if self.router is not None and not self.router.owns(raw.device_id):
            return await self.router.ask_owner(raw)
        return await self.wait_here(raw)

    async def wait_here(self, raw: RawFix) -> str | None:
        """Queue one fix (on the server's loop) and wait for its batch in this process."""
        if self._queue is None or self._loop is None:
            return _reason(await asyncio.to_thread(self._refusals, [raw]), raw)
        # the answer comes back to the caller's loop, whichever loop the queue runs on
        here = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = here.create_future()
        if here is self._loop:
            self._queue.put_nowait((raw, future))
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (raw, future))
        return await future

    async def run_forever(self, *, wait_s: float = 0.0) -> None:
        """Drain the queue in batches until cancelled: what came while the batch before was
        being stored (and in `wait_s` more) is the next batch, so that a fix waits for no
        timer, and a burst still costs one transaction. When cancelled (the server stops), the
        batch in hand and every fix still queued are stored first: each was answered "OK"."""
        self._loop, queue = asyncio.get_running_loop(), asyncio.Queue[Queued]()
        self._queue = queue
        batch: list[Queued] = []
        job: asyncio.Future[None] | None = None
        try:
            while True:
                batch.append(await queue.get())
                await asyncio.sleep(wait_s)  # the fixes handed over with this one join it
                while len(batch) < self.batch_size and not queue.empty():
                    batch.append(queue.get_nowait())
                job = asyncio.ensure_future(asyncio.to_thread(self._answer, batch))
                batch = []
                await asyncio.shield(job)  # a stop waits for the batch under way, below
        finally:
            self._loop = self._queue = None  # from here on, `submit` processes at once
            if job is not None:
                await job
            while not queue.empty():
                batch.append(queue.get_nowait())
            if batch:
                self._answer(batch)

    def _answer(self, batch: Sequence[Queued]) -> None:
        """Process a batch from the queue and tell each waiting device what became of its fix
        (futures are resolved on the loop's thread)."""
        refused = self._refusals([raw for raw, _ in batch])
        for raw, future in batch:
            if future is not None:
                future.get_loop().call_soon_threadsafe(_settle, future, _reason(refused, raw))

    def _refusals(self, raws: Sequence[RawFix]) -> dict[int, str] | str:
        """Process `raws`; the reason of each refused one by `id(raw)`, or one reason for all
        when the batch failed as a whole."""
        try:
            outcome = self._outcome(raws, now=datetime.now(UTC), replay=False)
        except Exception:  # a bad batch must not stop ingestion for everyone
            log.exception("ingestion batch of %d fixes failed", len(raws))
            self.stats.rejected["batch failed"] += len(raws)
            return "batch failed"
        return {id(raw): reason for raw, reason in outcome.refused}

    # -- processing ---------------------------------------------------------------------------

    def process(
        self, raws: Sequence[RawFix], *, now: datetime, replay: bool = False
    ) -> tuple[list[Fix], Counter[str]]:
        """One batch: pipeline, persist, live state, publish. Returns the accepted fixes and
        the rejected ones by reason. A `replay` (an import of past positions) is ordered and
        de-duplicated within itself, stored, and moves a unit only if it is newer. One batch at
        a time: the batches of the queue and those of direct callers share the device state."""
        outcome = self._outcome(raws, now=now, replay=replay)
        return outcome.accepted, outcome.rejected

    def _outcome(self, raws: Sequence[RawFix], *, now: datetime, replay: bool) -> Outcome:
        with self._processing:
            return self._process(raws, now=now, replay=replay)

    def _process(self, raws: Sequence[RawFix], *, now: datetime, replay: bool) -> Outcome:
        known = [r for r in raws if r.device_id in self.unit_of]
        outcome = run(
            known,
            {} if replay else self.tracks,
            snapper=self.city.travel_times.snapper,
            now=now,
            limits=self.limits,
        )
        for raw in raws:
            if raw.device_id not in self.unit_of:
                outcome.rejected["unknown device"] += 1
                outcome.refused.append((raw, "unknown device"))
        found: list[Found] = []
        if outcome.accepted:
            with self.sessions() as session, session.begin():
                self._persist(session, outcome.accepted, now=now)
                found = self._duty(session, outcome.accepted, now=now)
                self._arrivals(session, outcome.accepted, now=now)
        # counted once stored: a figure of what the database holds
        self.stats.rejected.update(outcome.rejected)
        self.stats.accepted += len(outcome.accepted)
        self.stats.batches += 1
        if outcome.accepted and not replay:
            self.bus.publish_many([*self._moves(outcome.accepted), *announced(found)])
        return outcome

    def _persist(self, session: Session, fixes: Sequence[Fix], *, now: datetime) -> None:
        zones = self.fences.zones_at(
            np.array([f.lon for f in fixes]), np.array([f.lat for f in fixes])
        ).tolist()
        insert_new(  # a fix resent (a replay, a terminal's retry) is stored once
            session,
            TrackPoint,
            [
                {
                    "device_id": f.device_id,
                    "unit_id": self.unit_of.get(f.device_id),
                    "at": f.at,
                    "lon": f.lon,
                    "lat": f.lat,
                    "speed_kph": f.speed_kph,
                    "course_deg": f.course_deg,
                    "altitude_m": f.altitude_m,
                    "accuracy_m": f.accuracy_m,
                    "edge": f.edge,
                    "fraction": f.fraction,
                    "zone": zone,
                    "source": f.source,
                }
                for f, zone in zip(fixes, zones, strict=True)
            ],
        )
        latest = _latest_per_device(fixes)
        session.execute(
            update(Device).where(Device.device_id.in_(latest)).values(last_seen_at=now, online=True)
        )
        units = {self.unit_of[k]: f for k, f in latest.items() if self.unit_of.get(k)}
        if units:  # a unit moves only to a fix newer than the one it has (replays come late)
            session.connection().execute(
                update(Unit)
                .where(Unit.id == bindparam("unit"))
                .where(or_(Unit.last_fix_at.is_(None), Unit.last_fix_at < bindparam("at")))
                .values(
                    last_lon=bindparam("lon"),
                    last_lat=bindparam("lat"),
                    last_fix_at=bindparam("at"),
                ),
                [
                    {"unit": unit_id, "lon": f.lon, "lat": f.lat, "at": f.at}
                    for unit_id, f in units.items()
                ],
            )

    def _arrivals(self, session: Session, fixes: Sequence[Fix], *, now: datetime) -> None:
        """GPS-proved arrivals at the scenes of open orders; in a savepoint, so that a clash with
        a request writing the same incident's verdicts (a verdict written meanwhile, a deadlock)
        never loses the fixes: the next fix at the scene proves the arrival."""
        unit_fixes = [
            UnitFix(unit_id, f.lon, f.lat, f.at)
            for f in fixes
            if (unit_id := self.unit_of.get(f.device_id))
        ]
        try:
            with session.begin_nested():
                gps_arrivals(session, unit_fixes, radius_m=self.arrival_radius_m, now=now)
        except DBAPIError as exc:
            log.warning("GPS arrivals of %d fixes skipped: %s", len(unit_fixes), exc.orig)

    def _duty(self, session: Session, fixes: Sequence[Fix], *, now: datetime) -> list[Found]:
        """The patrol duty of the fixes' units, in the batch's transaction."""
        unit_fixes = [
            UnitFixIn(unit_id, f.device_id, f.at, f.lon, f.lat, f.accuracy_m)
            for f in fixes
            if (unit_id := self.unit_of.get(f.device_id))
        ]
        return self.duty.take(session, unit_fixes, now=now)

    def _moves(self, fixes: Sequence[Fix]) -> list[Event]:
        """A "unit moved" per device, to its latest fix of the batch."""
        return [
            Event(
                "unit",
                "moved",
                {
                    "device_id": device_id,
                    "unit_id": self.unit_of.get(device_id),
                    "lon": fix.lon,
                    "lat": fix.lat,
                    "at": fix.at.isoformat(),
                    "speed_kph": fix.speed_kph,
                    "course_deg": fix.course_deg,
                    "on_road": fix.edge >= 0,
                },
            )
            for device_id, fix in _latest_per_device(fixes).items()
        ]

    # -- housekeeping -------------------------------------------------------------------------

    def mark_offline(self, *, now: datetime, after: timedelta) -> list[str]:
        """Devices silent for longer than `after` go offline; returns their ids."""
        with self.sessions() as session, session.begin():
            silent = session.scalars(
                select(Device).where(Device.online, Device.last_seen_at < now - after)
            ).all()
            for device in silent:
                device.online = False
        self.bus.publish_many(
            [
                Event("device", "offline", {"device_id": d.device_id, "unit_id": d.unit_id})
                for d in silent
            ]
        )
        return [d.device_id for d in silent]

    def purge(self, *, now: datetime, keep: timedelta, chunk: int = 10_000) -> int:
        """Delete track points older than the retention period, `chunk` at a time (found by
        the index on time, so that a purge with nothing to do costs one index probe and a
        large one never holds a long lock); returns how many."""
        deleted = 0
        while True:
            with self.sessions() as session, session.begin():
                old = select(TrackPoint.id).where(TrackPoint.at < now - keep).limit(chunk)
                result = session.execute(delete(TrackPoint).where(TrackPoint.id.in_(old)))
            count = int(result.rowcount)  # type: ignore[attr-defined]
            deleted += count
            if count < chunk:
                return deleted

    def rebuild_late(self, *, now: datetime) -> int:
        """Rebuild the duties of units whose fixes came late; returns the fixes taken."""
        with self.sessions() as session, session.begin(), self._processing:
            return self.duty.rebuild_late(session, now=now)

    def flush_duty(self, *, now: datetime) -> None:
        """Map-match every unit's pending fixes now (before a report)."""
        with self.sessions() as session, session.begin(), self._processing:
            self.duty.flush_all(session, now=now)


def _latest_per_device(fixes: Sequence[Fix]) -> dict[str, Fix]:
    latest: dict[str, Fix] = {}
    for fix in fixes:
        if fix.device_id not in latest or fix.at > latest[fix.device_id].at:
            latest[fix.device_id] = fix
    return latest
