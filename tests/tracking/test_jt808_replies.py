"""The gateway without a network: a reply the terminal does not read closes its connection,
and a database that fails costs one answer, not the gateway."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import OperationalError

from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.jt808 import Header, decode_frame, encode_frame
from jiaoxun.tracking.jt808_link import Limits, Link
from jiaoxun.tracking.jt808_messages import GeneralResponse, decode_message
from jiaoxun.tracking.jt808_stream import FrameSplitter, unescape

PHONE = "013511221122"


class StuckWriter:
    """A connection whose terminal reads nothing: replies pile up, `drain` never returns."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    async def drain(self) -> None:
        await asyncio.Event().wait()


def failing_sessions() -> None:
    raise OperationalError("SELECT 1", {}, Exception("the database is gone"))


def gateway(**limits: float) -> Gateway:
    return Gateway(sessions=failing_sessions, ingestor=None, limits=Limits(**limits))  # type: ignore[arg-type]


def test_a_reply_not_read_in_time_closes_the_connection() -> None:
    gw = gateway(write_timeout_s=0.05)
    link = Link(remote="10.0.0.1", opened_s=0.0)
    writer = StuckWriter()
    heartbeat = encode_frame(Header(0x0002, PHONE, 1), b"")
    asyncio.run(gw._take(link, FrameSplitter(), heartbeat, writer))  # type: ignore[arg-type]
    assert link.closing == "write timeout"
    assert len(writer.written) == 1  # the refusal was written, then the wait gave up


def test_a_failing_database_costs_one_answer() -> None:
    gw = gateway()
    raw = unescape(encode_frame(Header(0x0102, PHONE, 9), b"code")[1:-1])[0]
    reply = gw.answer(raw, Link(remote="10.0.0.1", opened_s=0.0))
    assert reply is not None
    (frame,) = FrameSplitter().feed(reply)
    assert decode_message(decode_frame(frame)) == GeneralResponse(9, 0x0102, 1)
    assert gw.stats["failed messages"] == 1
