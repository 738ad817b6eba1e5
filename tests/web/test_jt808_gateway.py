"""A JT/T 808 terminal talking to the real gateway over TCP: registration, authentication,
positions that move its unit, and garbage that does not stop the gateway."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from center import Center

from jiaoxun.tracking.jt808 import FrameSplitter, Header, decode_frame, encode_frame
from jiaoxun.tracking.jt808_messages import (
    GeneralResponse,
    RegistrationResponse,
    decode_message,
)

# a real registration captured from a terminal (traccar/traccar,
# src/test/java/org/traccar/protocol/Jt808ProtocolDecoderTest.java): phone 013511221122
REGISTRATION = bytes.fromhex(
    "7E0100002D013511221122000500000000373031303748422D523033474244000000000000000000000032333636"
    "31303402CBD5424136383630387E"
)
PHONE = "013511221122"
BEIJING = timedelta(hours=8)


def location_body(lon: float, lat: float, at: datetime, *, speed_kph: float = 36.0) -> bytes:
    """A 0x0200 body as a terminal builds it: positioned, BCD time in UTC+8."""
    local = (at + BEIJING).strftime("%y%m%d%H%M%S")
    return struct.pack(
        ">IIIIHHH", 0, 0b10, round(lat * 1e6), round(lon * 1e6), 150, round(speed_kph * 10), 90
    ) + bytes.fromhex(local)


class Terminal:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.splitter = FrameSplitter()
        self.serial = 100

    def send(self, message_id: int, body: bytes) -> None:
        self.serial += 1
        self.sock.sendall(encode_frame(Header(message_id, PHONE, self.serial), body))

    def reply(self) -> object:
        while True:
            frames = self.splitter.feed(self.sock.recv(4096))
            if frames:
                return decode_message(decode_frame(frames[0]))


@pytest.fixture
def terminal(center: Center) -> Iterator[Terminal]:
    t = Terminal(center.jt808_port)
    yield t
    t.sock.close()


@pytest.fixture(scope="module")
def car(center: Center) -> int:
    unit = next(u for u in center.call("GET", "/api/units").json() if u["call_sign"] == "JX03-2")
    reply = center.call(
        "POST",
        "/api/devices",
        user="commander",
        json={"device_id": PHONE, "protocol": "jt808", "unit_id": unit["id"]},
    )
    assert reply.status_code in {201, 409}, reply.text
    return int(unit["id"])


def test_register_authenticate_and_report(center: Center, terminal: Terminal, car: int) -> None:
    terminal.sock.sendall(REGISTRATION)
    registered = terminal.reply()
    assert isinstance(registered, RegistrationResponse)
    assert registered.result == 0
    assert len(registered.auth_code) == 16

    terminal.send(0x0102, registered.auth_code.encode())
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0102, 0)

    at = datetime.now(UTC).replace(microsecond=0)
    terminal.send(0x0200, location_body(126.6655, 45.7333, at))
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0200, 0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        unit = next(u for u in center.call("GET", "/api/units").json() if u["id"] == car)
        if unit["lon"] == pytest.approx(126.6655):
            break
        time.sleep(0.1)
    assert (unit["lon"], unit["lat"]) == (pytest.approx(126.6655), pytest.approx(45.7333))
    assert datetime.fromisoformat(unit["fix_at"]) == at


def test_a_wrong_auth_code_is_refused(terminal: Terminal, car: int) -> None:
    terminal.send(0x0102, b"not-the-code")
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0102, 1)


def test_garbage_does_not_stop_the_gateway(center: Center, terminal: Terminal, car: int) -> None:
    broken = bytearray(REGISTRATION)
    broken[-2] ^= 0xFF  # the check code
    terminal.sock.sendall(b"\x00\x01GET / HTTP/1.1\r\n\r\n" + bytes(broken) + b"\x7e\x7e\x7d\x7e")
    terminal.send(0x0200, b"\x01\x02")  # a location report far too short
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0200, 2)
    terminal.send(0x0002, b"")  # the next good frame: a heartbeat
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0002, 0)
    terminal.send(0x0900, b"\x41hello")  # well formed, not supported
    assert terminal.reply() == GeneralResponse(terminal.serial, 0x0900, 3)
    stats = center.call("GET", "/api/tracking/stats").json()["jt808"]
    assert stats["malformed frames"] >= 1
    assert stats["malformed messages"] >= 1


def test_an_unknown_terminal_cannot_register(center: Center) -> None:
    stranger = Terminal(center.jt808_port)
    try:
        stranger.sock.sendall(
            bytes.fromhex(
                "7e0100002d0141305678720024002c012f373031313142534a2d41362d4244000000000000000000000030"
                "35363738373201d4c14238383838386d7e"
            )
        )
        reply = stranger.reply()
    finally:
        stranger.sock.close()
    assert isinstance(reply, RegistrationResponse)
    assert reply.result == 4  # no such terminal
