"""The JT/T 808 gateway: a TCP server for the GPS terminals of police cars.

Each connection gets a `FrameSplitter`; each frame is answered as the standard says: a
registration (0x0100) with 0x8100 and an authentication code, everything else with a general
response 0x8001 (success, failure, message error or unsupported). Positions (0x0200, 0x0704)
go to the `Ingestor`. A malformed frame is counted, logged and skipped; nothing a terminal sends
can stop the gateway, and a bad connection only ever closes itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.tracking.jt808 import (
    Frame,
    FrameSplitter,
    Jt808Error,
    RegistrationResult,
    Result,
    SerialCounter,
    UnsupportedMessage,
    decode_frame,
    encode_general_response,
    encode_registration_response,
)
from jiaoxun.tracking.jt808_messages import (
    Authentication,
    Location,
    LocationBatch,
    Registration,
    decode_message,
)
from jiaoxun.tracking.models import Device
from jiaoxun.tracking.pipeline import RawFix
from jiaoxun.tracking.service import Ingestor

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 600.0  # terminals send a heartbeat every minute or so


def raw_fix(phone: str, location: Location) -> RawFix:
    return RawFix(
        device_id=phone,
        lon=location.lon,
        lat=location.lat,
        at=location.at,
        speed_kph=location.speed_kph,
        course_deg=float(location.course_deg),
        altitude_m=float(location.altitude_m),
        source="jt808",
    )


class Gateway:
    """Answers terminals and hands their positions to the ingestor."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        ingestor: Ingestor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.ingestor, self.clock = sessions, ingestor, clock
        self.stats: Counter[str] = Counter()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Listen on (host, port) until the returned server is closed."""
        return await asyncio.start_server(self.connection, host, port)

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        splitter, serials = FrameSplitter(), SerialCounter()
        self.stats["connections"] += 1
        try:
            while data := await asyncio.wait_for(reader.read(4096), IDLE_TIMEOUT_S):
                for raw in splitter.feed(data):
                    reply = await asyncio.to_thread(self.answer, raw, serials)
                    if reply:
                        writer.write(reply)
                await writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            log.info("terminal connection closed: %s", exc)
        finally:
            self.stats["skipped bytes"] += splitter.skipped_bytes
            writer.close()

    def answer(self, raw: bytes, serials: SerialCounter) -> bytes | None:
        """The reply to one unescaped frame (None when it cannot be answered)."""
        try:
            frame = decode_frame(raw)
        except Jt808Error as exc:
            self.stats["malformed frames"] += 1
            log.warning("malformed JT/T 808 frame %s: %s", raw.hex()[:80], exc)
            return None
        try:
            return self._handle(frame, serials)
        except UnsupportedMessage:
            self.stats["unsupported messages"] += 1
            return encode_general_response(
                frame.header, serial=serials.next(), result=Result.UNSUPPORTED
            )
        except Jt808Error as exc:
            self.stats["malformed messages"] += 1
            log.warning(
                "bad JT/T 808 message 0x%04x from %s: %s",
                frame.header.message_id,
                frame.header.phone,
                exc,
            )
            return encode_general_response(
                frame.header, serial=serials.next(), result=Result.MESSAGE_ERROR
            )
        except Exception:  # the gateway outlives any one message
            self.stats["failed messages"] += 1
            log.exception("JT/T 808 message 0x%04x failed", frame.header.message_id)
            return encode_general_response(
                frame.header, serial=serials.next(), result=Result.FAILURE
            )

    def _handle(self, frame: Frame, serials: SerialCounter) -> bytes:
        message, phone = decode_message(frame), frame.header.phone
        self.stats[type(message).__name__.lower()] += 1
        if isinstance(message, Registration):
            code = self._register(phone)
            if code is None:
                return encode_registration_response(
                    frame.header, serial=serials.next(), result=RegistrationResult.NO_SUCH_TERMINAL
                )
            return encode_registration_response(
                frame.header,
                serial=serials.next(),
                result=RegistrationResult.SUCCESS,
                auth_code=code,
            )
        ok = True  # a heartbeat or a terminal's general response needs only a receipt
        if isinstance(message, Authentication):
            ok = self._authenticated(phone, message.auth_code)
        elif isinstance(message, Location):
            self.ingestor.submit([raw_fix(phone, message)])
        elif isinstance(message, LocationBatch):
            self.ingestor.submit([raw_fix(phone, loc) for loc in message.locations])
        if phone not in self.ingestor.unit_of:
            ok = False
            self.stats["unknown terminals"] += 1
        return encode_general_response(
            frame.header, serial=serials.next(), result=Result.SUCCESS if ok else Result.FAILURE
        )

    def _register(self, phone: str) -> str | None:
        """A new authentication code for a registered device, or None for an unknown one."""
        with self.sessions() as session, session.begin():
            device = session.scalar(select(Device).where(Device.device_id == phone))
            if device is None:
                return None
            device.auth_code = secrets.token_hex(8)
            device.last_seen_at, device.online = self.clock(), True
            return device.auth_code

    def _authenticated(self, phone: str, code: str) -> bool:
        with self.sessions() as session:
            device = session.scalar(select(Device).where(Device.device_id == phone))
            return device is not None and bool(device.auth_code) and device.auth_code == code
