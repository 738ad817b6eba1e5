"""The JT/T 808 gateway: a TCP server for the GPS terminals of police cars.

Strict about who, lenient about what. Each connection is a `Link`: a terminal registers
(0x0100, answered 0x8100 by the rules of `jiaoxun.tracking.jt808_terminals`) and authenticates
(0x0102) on it; only then are its location reports (0x0200, 0x0704) handed to the `Ingestor`
and its heartbeats (0x0002) mark its device online. Before that, everything else is answered
0x8001 with result failure and dropped. What a terminal sends is read as leniently as Traccar
reads it (see `jiaoxun.tracking.jt808_location`), and every tolerated fault is counted.

Every drop is counted in `Gateway.stats` (shown at GET /api/tracking/stats under "jt808"):
"unauthenticated report", "unauthenticated heartbeat", "unauthenticated message", "wrong auth
code", "unknown terminal", "registration refused: unknown terminal", "registration refused:
plate mismatch", "registration refused: terminal id mismatch", "connections refused: per
address cap", "connections refused: overall cap", "frame timeout", "idle timeout", "auth
timeout", "write timeout", "connections closed: too many refusals", "connections closed:
replaced", "oversized frames", "skipped bytes", "malformed frames", "malformed messages",
"unsupported messages", "subpackaged messages given up", "failed messages", "failed
connections"; and what was let through: "connections", "authenticated", "registration:
existing code returned", "registration: new code issued", "registration unchecked: no plate
or terminal id on record", "subpackages", one count per message read ("location",
"locationbatch", "heartbeat", …) and "tolerated: <fault>" per `Leniency`. Nothing a terminal
sends can stop the gateway, and a bad connection only ever closes itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.tracking import jt808_terminals as terminals
from jiaoxun.tracking.jt808 import (
    Fault,
    Frame,
    Header,
    Jt808Error,
    RegistrationResult,
    Result,
    UnsupportedMessage,
    decode_frame,
    encode_general_response,
    encode_registration_response,
)
from jiaoxun.tracking.jt808_link import Limits, Link
from jiaoxun.tracking.jt808_location import Location, LocationBatch
from jiaoxun.tracking.jt808_messages import (
    Authentication,
    Heartbeat,
    Message,
    Registration,
    decode_message,
    faults_of,
)
from jiaoxun.tracking.jt808_stream import FrameSplitter
from jiaoxun.tracking.pipeline import RawFix
from jiaoxun.tracking.service import Ingestor

log = logging.getLogger(__name__)

READ_BYTES = 4096
#: what a terminal may send before it has authenticated on its connection
OPEN_MESSAGES = {0x0100, 0x0102}
UNAUTHENTICATED = {0x0200: "report", 0x0704: "report", 0x0002: "heartbeat"}


def raw_fix(device_id: str, location: Location) -> RawFix:
    return RawFix(
        device_id=device_id,
        lon=location.lon,
        lat=location.lat,
        at=location.at,
        speed_kph=location.speed_kph,
        course_deg=float(location.course_deg),
        altitude_m=float(location.altitude_m),
        source="jt808",
    )


def _level(link: Link) -> int:
    """Warn of what authenticated terminals send wrong; of strangers' junk only in debug (they
    are counted), or anyone could fill the log."""
    return logging.WARNING if link.authenticated else logging.DEBUG


def _remote_host(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"


class Gateway:
    """Answers terminals and hands the positions of authenticated ones to the ingestor."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        ingestor: Ingestor,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions, self.ingestor, self.clock = sessions, ingestor, clock
        self.limits, self.monotonic = limits or Limits(), monotonic
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()  # stats, caps and owners: answers run in threads
        self._open = 0
        self._unauthenticated: Counter[str] = Counter()  # by remote address
        self._owner: dict[str, Link] = {}  # device id → the link it authenticated on
        self._closers: dict[int, Callable[[], None]] = {}  # id(link) → closes its socket

    def count(self, key: str, n: int = 1) -> None:
        """Add to a stats counter (from any thread)."""
        if n:
            with self._lock:
                self.stats[key] += n

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Listen on (host, port) until the returned server is closed."""
        return await asyncio.start_server(self.connection, host, port)

    # -- connections ----------------------------------------------------------------------------

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one terminal connection until it closes, times out or misbehaves."""
        link = self._admit(_remote_host(writer))
        if link is None:
            writer.close()
            return
        loop = asyncio.get_running_loop()

        def close() -> None:  # from the thread of another connection's answer
            loop.call_soon_threadsafe(writer.close)

        self._closers[id(link)] = close
        try:
            await self._serve(link, reader, writer)
        except (ConnectionError, OSError) as exc:
            log.info("terminal connection from %s closed: %s", link.remote, exc)
        except Exception:  # a bug must cost one connection, never the gateway
            self.count("failed connections")
            log.exception("terminal connection from %s failed", link.remote)
        finally:
            self._release(link)
            writer.close()

    def _admit(self, remote: str) -> Link | None:
        with self._lock:
            if self._open >= self.limits.connections:
                refusal = "connections refused: overall cap"
            elif self._unauthenticated[remote] >= self.limits.connections_per_address:
                refusal = "connections refused: per address cap"
            else:
                self._open += 1
                self._unauthenticated[remote] += 1
                self.stats["connections"] += 1
                return Link(remote=remote, opened_s=self.monotonic(), limits=self.limits)
            self.stats[refusal] += 1
        log.info("terminal connection from %s refused: %s", remote, refusal)
        return None

    def _release(self, link: Link) -> None:
        with self._lock:
            self._open -= 1
            if not link.authenticated and link.remote in self._unauthenticated:
                self._drop_unauthenticated(link.remote)
            for device_id in link.terminals.values():
                if self._owner.get(device_id) is link:
                    del self._owner[device_id]
            self._closers.pop(id(link), None)

    def _drop_unauthenticated(self, remote: str) -> None:
        self._unauthenticated[remote] -= 1
        if self._unauthenticated[remote] <= 0:
            del self._unauthenticated[remote]

    async def _serve(
        self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        splitter = FrameSplitter()
        while link.closing is None:
            at_s, reason = link.deadline()
            try:
                async with asyncio.timeout(max(at_s - self.monotonic(), 0.0)):
                    data = await reader.read(READ_BYTES)
            except TimeoutError:
                link.closing = reason
                break
            if not data:
                return
            await self._take(link, splitter, data, writer)
        self.count(link.closing)
        log.info("terminal connection from %s closed: %s", link.remote, link.closing)

    async def _take(
        self, link: Link, splitter: FrameSplitter, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        """Answer the frames that `data` completes; a reply not read in time closes the link."""
        frames = splitter.feed(data)
        for key, n in splitter.counts.items():
            self.count(key, n)
        splitter.counts.clear()
        link.bytes_arrived(
            self.monotonic(), frames=len(frames), frame_pending=splitter.frame_pending
        )
        for raw in frames:
            if reply := await asyncio.to_thread(self.answer, raw, link):
                writer.write(reply)
            if link.closing is not None:
                break
        try:
            async with asyncio.timeout(self.limits.write_timeout_s):
                await writer.drain()
        except TimeoutError:
            link.closing = "write timeout"

    # -- frames ---------------------------------------------------------------------------------

    def answer(self, raw: bytes, link: Link) -> bytes | None:
        """The reply to one unescaped frame on `link` (None when it cannot be answered).
        Never raises: the gateway outlives any one frame."""
        try:
            return self._answer(raw, link)
        except Exception:
            self.count("failed messages")
            log.exception("JT/T 808 frame %s failed", raw.hex()[:80])
            return None

    def _answer(self, raw: bytes, link: Link) -> bytes | None:
        try:
            frame = decode_frame(raw)
        except Jt808Error as exc:
            self.count("malformed frames")
            log.log(_level(link), "malformed JT/T 808 frame %s: %s", raw.hex()[:80], exc)
            return None
        link.frame_arrived(self.monotonic())
        self._count_faults(frame.faults, frame.header)
        header = frame.header
        try:
            return self._handle(frame, link)
        except UnsupportedMessage:
            self.count("unsupported messages")
            return self._reply(header, link, Result.UNSUPPORTED)
        except Jt808Error as exc:
            self.count("malformed messages")
            log.log(
                _level(link),
                "bad JT/T 808 message 0x%04x from %s: %s",
                header.message_id,
                header.phone,
                exc,
            )
            return self._reply(header, link, Result.MESSAGE_ERROR)
        except Exception:
            self.count("failed messages")
            log.exception("JT/T 808 message 0x%04x failed", header.message_id)
            return self._reply(header, link, Result.FAILURE)

    def _reply(self, header: Header, link: Link, result: Result) -> bytes:
        return encode_general_response(header, serial=link.serials.next(), result=result)

    def _count_faults(self, faults: Iterable[Fault], header: Header) -> None:
        for fault in faults:
            self.count(f"tolerated: {fault.kind}")
            log.info("JT/T 808 0x%04x from %s: %s", header.message_id, header.phone, fault.detail)

    def _handle(self, frame: Frame, link: Link) -> bytes:
        header = frame.header
        if header.message_id & 0x8000:
            raise UnsupportedMessage(f"message id 0x{header.message_id:04x} is the platform's")
        device_id = link.terminals.get(header.phone)
        if device_id is None and header.message_id not in OPEN_MESSAGES:
            self.count(f"unauthenticated {UNAUTHENTICATED.get(header.message_id, 'message')}")
            return self._reply(header, link, Result.FAILURE)
        whole = self._whole(frame, link)
        if whole is None:
            return self._reply(header, link, Result.SUCCESS)  # a package: more to come
        message = decode_message(whole)
        self.count(type(message).__name__.lower())
        self._count_faults(faults_of(message), header)
        if isinstance(message, Registration):
            return self._register(header, message, link)
        if isinstance(message, Authentication):
            return self._authenticate(header, message, link)
        if device_id is not None:  # always: only the two above pass without one
            self._deliver(message, device_id)
        return self._reply(header, link, Result.SUCCESS)

    def _whole(self, frame: Frame, link: Link) -> Frame | None:
        """The frame, or the whole message once this package completes it, or None."""
        if frame.header.subpackage is None:
            return frame
        whole = link.packages.add(frame, now_s=self.monotonic())
        self.count("subpackages")
        self.count("subpackaged messages given up", link.packages.take_expired())
        return whole

    def _deliver(self, message: Message, device_id: str) -> None:
        """What an authenticated terminal's message does: positions in, a heartbeat seen."""
        if isinstance(message, Location):
            self.ingestor.submit([raw_fix(device_id, message)])
        elif isinstance(message, LocationBatch):
            self.ingestor.submit([raw_fix(device_id, loc) for loc in message.locations])
        elif isinstance(message, Heartbeat):
            with self.sessions() as session, session.begin():
                terminals.mark_seen(session, device_id=device_id, now=self.clock())

    # -- who is calling -------------------------------------------------------------------------

    def _register(self, header: Header, registration: Registration, link: Link) -> bytes:
        with self.sessions() as session, session.begin():
            outcome = terminals.register(
                session,
                phone=header.phone,
                registration=registration,
                caller_authenticated=header.phone in link.terminals,
            )
        self.count(outcome.reason)
        if outcome.unchecked:
            self.count("registration unchecked: no plate or terminal id on record")
        if outcome.result != RegistrationResult.SUCCESS:
            link.refused()
            log.warning("JT/T 808 registration of %s: %s", header.phone, outcome.reason)
        return encode_registration_response(
            header, serial=link.serials.next(), result=outcome.result, auth_code=outcome.auth_code
        )

    def _authenticate(self, header: Header, authentication: Authentication, link: Link) -> bytes:
        with self.sessions() as session, session.begin():
            outcome = terminals.authenticate(
                session, phone=header.phone, auth_code=authentication.auth_code, now=self.clock()
            )
        self.count(outcome.reason)
        if outcome.device_id is None:
            link.refused()
            log.warning("JT/T 808 authentication of %s: %s", header.phone, outcome.reason)
            return self._reply(header, link, Result.FAILURE)
        self._claim(link, header.phone, outcome.device_id)
        return self._reply(header, link, Result.SUCCESS)

    def _claim(self, link: Link, phone: str, device_id: str) -> None:
        """Bind the device to this link; an older link of the same device (a connection the
        terminal has abandoned, often half-open) is closed."""
        with self._lock:
            if not link.authenticated:
                self._drop_unauthenticated(link.remote)
            link.terminals[phone] = device_id
            older, self._owner[device_id] = self._owner.get(device_id), link
            close = self._closers.get(id(older)) if older not in (None, link) else None
            if close is not None:
                self.stats["connections closed: replaced"] += 1
        if close is not None:
            close()
