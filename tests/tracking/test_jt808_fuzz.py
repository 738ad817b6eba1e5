"""`Gateway.answer` fuzzed: random bytes, frames built from random fields, and mutations of
published frames never raise; a reply is always a well-formed 0x8001 or 0x8100 to the caller;
an unauthenticated connection never gets a fix in; an authenticated one only sound fixes.

The gateway works on the real database (each test's writes rolled back) with a stand-in for
the ingestor that keeps what it is given."""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.jt808 import (
    Header,
    Jt808Error,
    check_code,
    decode_frame,
    encode_frame,
    escape,
    frame_fits,
)
from jiaoxun.tracking.jt808_link import Link
from jiaoxun.tracking.jt808_messages import decode_message
from jiaoxun.tracking.jt808_stream import FrameSplitter, unescape
from jiaoxun.tracking.models import Device
from jiaoxun.tracking.pipeline import RawFix

FRAMES = Path(__file__).parent / "frames"
PHONE = "013511221122"
MESSAGE_IDS = [0x0001, 0x0002, 0x0100, 0x0102, 0x0200, 0x0704, 0x0900, 0x8001, 0x8100]
FUZZ = settings(
    max_examples=600,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class KeptFixes:
    """Stands in for the `Ingestor`: keeps what the gateway submits."""

    def __init__(self) -> None:
        self.fixes: list[RawFix] = []

    def submit(self, raws: Sequence[RawFix]) -> None:
        self.fixes.extend(raws)


class EveryPhone(dict[str, str]):
    """The terminals of a link on which every phone number has authenticated."""

    def get(self, phone: str, default: str | None = None) -> str:  # type: ignore[override]
        return f"fuzz-{phone}"

    def __contains__(self, phone: object) -> bool:
        return True


def published() -> list[bytes]:
    """Every frame of tests/tracking/frames that passes its check code, unescaped."""
    raws = []
    for path in sorted(FRAMES.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                raws += FrameSplitter().feed(bytes.fromhex("".join(line.split()[1:])))
    return [raw for raw in raws if frame_fits(raw)]


PUBLISHED = published()


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions whose commits are savepoints of one transaction rolled back at the end; the
    fuzzed phone number is an enrolled terminal, so registration and authentication run."""
    with engine.connect() as connection:
        outer = connection.begin()
        made = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        with made() as session, session.begin():
            session.add(Device(device_id=PHONE, protocol="jt808", auth_code="fuzz-code"))
        yield made
        outer.rollback()


@pytest.fixture
def gateway(sessions: sessionmaker[Session]) -> Gateway:
    return Gateway(sessions=sessions, ingestor=KeptFixes())  # type: ignore[arg-type]


def fixes_of(gateway: Gateway) -> list[RawFix]:
    kept: KeptFixes = gateway.ingestor  # type: ignore[assignment]
    return kept.fixes


def check_reply(raw: bytes, reply: bytes | None) -> None:
    """A reply is a frame of the platform, to the phone number of the frame it answers."""
    if reply is None:
        return
    (answer,) = FrameSplitter().feed(reply)
    frame = decode_frame(answer)
    assert frame.header.message_id in {0x8001, 0x8100}
    assert frame.header.phone == decode_frame(raw).header.phone
    decode_message(frame)


def check_fixes(fixes: list[RawFix]) -> None:
    for fix in fixes:
        assert math.isfinite(fix.lat)
        assert math.isfinite(fix.lon)
        assert -90 <= fix.lat <= 90
        assert -180 <= fix.lon <= 180
        assert fix.at.tzinfo is not None


def reframed(data: bytes) -> bytes:
    return data[:-1] + bytes([check_code(data[:-1])]) if len(data) > 1 else data


@st.composite
def frames_from_fields(draw: st.DrawFn) -> bytes:
    """An unescaped frame with a drawn header (either layout) and body, check code right."""
    version = draw(st.none() | st.integers(0, 255))
    header = Header(
        draw(st.sampled_from(MESSAGE_IDS) | st.integers(0, 0xFFFF)),
        PHONE if version is None else "0" * 8 + PHONE,
        draw(st.integers(0, 0xFFFF)),
        protocol_version=version,
    )
    return unescape(encode_frame(header, draw(st.binary(max_size=120)))[1:-1])[0]


@FUZZ
@given(raw=st.binary(max_size=300) | frames_from_fields())
def test_no_frame_breaks_an_unauthenticated_connection(gateway: Gateway, raw: bytes) -> None:
    reply = gateway.answer(raw, Link(remote="fuzz", opened_s=0.0))
    check_reply(raw, reply)
    assert fixes_of(gateway) == []


@FUZZ
@given(raw=frames_from_fields(), data=st.data())
def test_no_frame_breaks_an_authenticated_connection(
    gateway: Gateway, raw: bytes, data: st.DataObject
) -> None:
    link = Link(remote="fuzz", opened_s=0.0, terminals=EveryPhone())
    if data.draw(st.booleans()):  # the body of a published frame under the drawn header
        body = data.draw(st.sampled_from(PUBLISHED))[12:-1]
        raw = reframed(raw[:12] + body[:1023] + raw[-1:])
    check_reply(raw, gateway.answer(raw, link))
    check_fixes(fixes_of(gateway))
    assert gateway.stats["failed messages"] == 0


def mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 5)):
        pos = rng.randrange(len(data) + 1)
        match rng.randrange(6):
            case 0 if data:
                data[pos % len(data)] = rng.randrange(256)
            case 1:
                data.insert(pos, rng.randrange(256))
            case 2 if data:
                del data[pos % len(data)]
            case 3:
                del data[pos:]
            case 4 if len(data) > 3:
                data[2 + rng.randrange(2)] ^= 1 << rng.randrange(8)  # version, length bits
            case _ if data:
                start = rng.randrange(len(data))
                data[pos:pos] = data[start : start + rng.randint(1, 30)]  # a repeated run
    return reframed(bytes(data)) if rng.random() < 0.8 else bytes(data)


def test_the_codec_raises_only_its_own_error() -> None:
    rng = random.Random(80_808)
    for case in range(9000):
        if case % 3 == 0:  # noise
            stream = b"\x7e" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        elif case % 3 == 1:  # broken framing: header, length, check code
            stream = b"\x7e" + escape(mutate(rng.choice(PUBLISHED), rng)) + b"\x7e"
        else:  # sound framing around a broken body, to reach the message decoders
            frame = decode_frame(rng.choice(PUBLISHED))
            stream = encode_frame(frame.header, mutate(frame.body, rng)[:1023])
        for raw in FrameSplitter(max_frame_bytes=512).feed(stream + b"\x7e"):
            with contextlib.suppress(Jt808Error):
                decode_message(decode_frame(raw))


def test_mutated_published_frames(gateway: Gateway) -> None:
    rng = random.Random(80_808)
    authenticated = Link(remote="fuzz", opened_s=0.0, terminals=EveryPhone())
    answered = 0
    for _ in range(4000):
        raw = mutate(rng.choice(PUBLISHED), rng)
        stranger = Link(remote="fuzz", opened_s=0.0)
        for link in (stranger, authenticated):
            reply = gateway.answer(raw, link)
            check_reply(raw, reply)
            answered += reply is not None
    check_fixes(fixes_of(gateway))
    assert gateway.stats["failed messages"] == 0
    assert answered > 1000  # many mutations still reach a message decoder


def test_random_streams_through_the_splitter(gateway: Gateway) -> None:
    rng = random.Random(808)
    link = Link(remote="fuzz", opened_s=0.0, terminals=EveryPhone())
    splitter = FrameSplitter()
    for case in range(3000):
        if case % 2:
            chunk = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        else:  # published frames with bare or broken delimiters and escapes put in
            chunk = bytearray(rng.choice(PUBLISHED))
            for _ in range(rng.randint(1, 3)):
                chunk.insert(rng.randrange(len(chunk) + 1), rng.choice([0x7E, 0x7D]))
            chunk = b"\x7e" + bytes(chunk) + b"\x7e"
        for raw in splitter.feed(bytes(chunk)):
            check_reply(raw, gateway.answer(raw, link))
    check_fixes(fixes_of(gateway))
    assert gateway.stats["failed messages"] == 0
