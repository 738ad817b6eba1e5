"""JT/T 808 terminals talking to the real gateway over TCP, against the real app and database:
registration and authentication by the standard, positions only from authenticated
connections, bent frames still moving their unit, garbage that does not stop the gateway.

Devices are enrolled through the ORM (with the plate and terminal id a terminal must register
with), each test on a phone number and a unit of its own."""

from __future__ import annotations

import itertools
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from center import Center
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.tracking.jt808 import (
    Header,
    Subpackage,
    check_code,
    decode_frame,
    encode_frame,
    escape,
)
from jiaoxun.tracking.jt808_messages import (
    GeneralResponse,
    Message,
    RegistrationResponse,
    decode_message,
)
from jiaoxun.tracking.jt808_stream import FrameSplitter, unescape
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.tracking.service import Ingestor

# a real registration captured from a terminal (traccar/traccar,
# src/test/java/org/traccar/protocol/Jt808ProtocolDecoderTest.java): terminal id 2366104,
# plate 苏BA6860; its body is sent under each test's own phone number
REGISTRATION = bytes.fromhex(
    "7E0100002D013511221122000500000000373031303748422D523033474244000000000000000000000032333636"
    "31303402CBD5424136383630387E"
)
REGISTRATION_BODY = decode_frame(FrameSplitter().feed(REGISTRATION)[0]).body
TERMINAL_ID, PLATE = "2366104", "苏BA6860"
BEIJING = timedelta(hours=8)
SUCCESS, FAILURE, MESSAGE_ERROR, UNSUPPORTED = 0, 1, 2, 3
_numbers = itertools.count(1)
_units = itertools.count(0)


def location_body(lon: float, lat: float, at: datetime, *, speed_kph: float = 36.0) -> bytes:
    """A 0x0200 body as a terminal builds it: positioned, BCD time in UTC+8."""
    local = (at + BEIJING).strftime("%y%m%d%H%M%S")
    return struct.pack(
        ">IIIIHHH", 0, 0b10, round(lat * 1e6), round(lon * 1e6), 150, round(speed_kph * 10), 90
    ) + bytes.fromhex(local)


def now_s() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Terminal:
    """A terminal on a TCP connection of its own: 2013 header, or 2019 with ``version``."""

    def __init__(self, port: int, phone: str, *, version: int | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.phone, self.version = phone, version
        self.splitter = FrameSplitter()
        self.frames: list[bytes] = []
        self.serial = 100
        self.header: Header | None = None  # of the last reply

    def send(self, message_id: int, body: bytes) -> None:
        self.serial += 1
        header = Header(message_id, self.phone, self.serial, protocol_version=self.version)
        self.sock.sendall(encode_frame(header, body))

    def reply(self) -> Message:
        while not self.frames:
            data = self.sock.recv(4096)
            assert data, "the gateway closed the connection"
            self.frames += self.splitter.feed(data)
        frame = decode_frame(self.frames.pop(0))
        self.header = frame.header
        return decode_message(frame)

    def ask(self, message_id: int, body: bytes) -> Message:
        self.send(message_id, body)
        return self.reply()

    def result(self, message_id: int, body: bytes) -> int:
        """Send a message; the result of the general response that answers it."""
        reply = self.ask(message_id, body)
        assert isinstance(reply, GeneralResponse), reply
        assert (reply.reply_serial, reply.reply_id) == (self.serial, message_id)
        return reply.result

    def register(self, body: bytes = REGISTRATION_BODY) -> RegistrationResponse:
        reply = self.ask(0x0100, body)
        assert isinstance(reply, RegistrationResponse), reply
        return reply

    def authenticate(self, code: str) -> int:
        if self.version is None:
            return self.result(0x0102, code.encode())
        imei, software = b"866496077582164", b"3.7.15".ljust(20, b"\x00")
        return self.result(0x0102, bytes([len(code)]) + code.encode() + imei + software)

    def closed_by_gateway(self, within_s: float = 10.0) -> bool:
        self.sock.settimeout(within_s)
        try:
            while self.sock.recv(4096):
                pass
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class Enrolled:
    """A JT/T 808 device in the database, bound to a unit."""

    phone: str
    device_id: str
    unit_id: int


def ingestor_of(center: Center) -> Ingestor:
    ingestor: Ingestor = center.client.app.state.jiaoxun.ingestor
    return ingestor


def enrol(
    center: Center,
    *,
    phone: str | None = None,
    device_id: str | None = None,
    plate: str | None = PLATE,
    terminal_id: str | None = TERMINAL_ID,
) -> Enrolled:
    """A new device (phone number of its own unless given) on a unit no other test moves."""
    phone = phone or f"0139{next(_numbers):08d}"
    units = sorted(center.call("GET", "/api/units").json(), key=lambda u: u["id"])
    unit_id = int(units[next(_units) % len(units)]["id"])
    with Session(center.engine) as session, session.begin():
        session.add(
            Device(
                device_id=device_id or phone,
                protocol="jt808",
                unit_id=unit_id,
                plate=plate,
                terminal_id=terminal_id,
            )
        )
    ingestor_of(center).reload_devices()
    return Enrolled(phone, device_id or phone, unit_id)


def device_row(center: Center, device_id: str) -> Device:
    with Session(center.engine) as session:
        device = session.scalar(select(Device).where(Device.device_id == device_id))
        assert device is not None
        return device


def track_points(center: Center, device_id: str) -> int:
    with Session(center.engine) as session:
        query = select(func.count()).select_from(TrackPoint)
        return int(session.scalar(query.where(TrackPoint.device_id == device_id)) or 0)


def unit_fix(center: Center, unit_id: int) -> tuple[float | None, float | None]:
    unit = next(u for u in center.call("GET", "/api/units").json() if u["id"] == unit_id)
    return unit["lon"], unit["lat"]


def wait_for_fix(center: Center, unit_id: int, lon: float, lat: float) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if unit_fix(center, unit_id) == (pytest.approx(lon), pytest.approx(lat)):
            return
        time.sleep(0.1)
    raise AssertionError(f"unit {unit_id} is at {unit_fix(center, unit_id)}, not {lon}, {lat}")


def report_moves(
    center: Center, terminal: Terminal, unit_id: int, lon: float, lat: float
) -> datetime:
    """Send a report from `terminal`; it is answered success and moves the unit."""
    at = now_s()
    assert terminal.result(0x0200, location_body(lon, lat, at)) == SUCCESS
    wait_for_fix(center, unit_id, lon, lat)
    return at


def jt808_stats(center: Center) -> dict[str, int]:
    stats: dict[str, int] = center.call("GET", "/api/tracking/stats").json()["jt808"]
    return stats


def bent(header: Header, body: bytes, *, length_off_by: int) -> bytes:
    """A frame as on the wire whose body length field is off by ``length_off_by`` bytes."""
    content = bytearray(unescape(encode_frame(header, body)[1:-1])[0][:-1])
    content[3] += length_off_by
    content.append(check_code(bytes(content)))
    return b"\x7e" + escape(bytes(content)) + b"\x7e"


Connect = Callable[..., Terminal]


@pytest.fixture
def connect(center: Center) -> Iterator[Connect]:
    """Opens terminals on the app's gateway; all are closed after the test."""
    opened: list[Terminal] = []

    def open_terminal(phone: str, *, version: int | None = None) -> Terminal:
        terminal = Terminal(center.jt808_port, phone, version=version)
        opened.append(terminal)
        return terminal

    yield open_terminal
    for terminal in opened:
        terminal.close()


# Registration, authentication, reports


def test_register_authenticate_and_report(center: Center, connect: Connect) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    registered = terminal.register()
    assert registered.result == SUCCESS
    assert len(registered.auth_code) == 32  # 128 bits
    assert terminal.authenticate(registered.auth_code) == SUCCESS
    assert device_row(center, car.device_id).online

    at = report_moves(center, terminal, car.unit_id, 126.6655, 45.7333)
    unit = next(u for u in center.call("GET", "/api/units").json() if u["id"] == car.unit_id)
    assert datetime.fromisoformat(unit["fix_at"]) == at


def test_a_report_without_authentication_moves_nothing(center: Center, connect: Connect) -> None:
    # issue 11, finding 2: a fresh connection sending only 0x0200 was answered result 0 and
    # moved the unit
    car = enrol(center)
    before = jt808_stats(center).get("unauthenticated report", 0)
    stranger = connect(car.phone)
    assert stranger.result(0x0200, location_body(126.61, 45.71, now_s())) == FAILURE
    batch = struct.pack(">HB", 1, 0) + struct.pack(">H", 28) + location_body(126.62, 45.72, now_s())
    assert stranger.result(0x0704, batch) == FAILURE
    time.sleep(0.5)  # what was queued is stored by now
    assert track_points(center, car.device_id) == 0
    assert unit_fix(center, car.unit_id) != (pytest.approx(126.61), pytest.approx(45.71))
    assert jt808_stats(center)["unauthenticated report"] == before + 2


def test_a_heartbeat_before_authentication_fails_and_marks_nothing(
    center: Center, connect: Connect
) -> None:
    car = enrol(center)
    stranger = connect(car.phone)
    assert stranger.result(0x0002, b"") == FAILURE
    device = device_row(center, car.device_id)
    assert (device.online, device.last_seen_at) == (False, None)
    assert jt808_stats(center)["unauthenticated heartbeat"] >= 1


def test_authentication_holds_on_its_own_connection_only(center: Center, connect: Connect) -> None:
    car = enrol(center)
    first = connect(car.phone)
    assert first.authenticate(first.register().auth_code) == SUCCESS
    second = connect(car.phone)
    assert second.result(0x0200, location_body(126.63, 45.73, now_s())) == FAILURE
    assert first.result(0x0002, b"") == SUCCESS
    assert device_row(center, car.device_id).online


def test_re_registration_returns_the_working_code(center: Center, connect: Connect) -> None:
    # issue 11, finding 2: anyone who knew the phone number could rotate the code
    car = enrol(center)
    code = connect(car.phone).register().auth_code
    again = connect(car.phone).register()  # a terminal after a power cycle, or a stranger
    assert (again.result, again.auth_code) == (SUCCESS, code)
    assert device_row(center, car.device_id).auth_code == code
    # a terminal that goes straight to 0x0102 with its stored code is let in
    straight = connect(car.phone)
    assert straight.authenticate(code) == SUCCESS
    report_moves(center, straight, car.unit_id, 126.64, 45.74)


def test_an_authenticated_terminal_may_renew_its_code(center: Center, connect: Connect) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    old = terminal.register().auth_code
    assert terminal.authenticate(old) == SUCCESS
    new = terminal.register().auth_code
    assert new != old
    assert connect(car.phone).authenticate(old) == FAILURE
    assert connect(car.phone).authenticate(new) == SUCCESS


@pytest.mark.parametrize(
    ("plate", "terminal_id", "result", "reason"),
    [
        ("吉G12345", TERMINAL_ID, 2, "registration refused: plate mismatch"),
        (PLATE, "9999999", 4, "registration refused: terminal id mismatch"),
    ],
)
def test_registration_must_match_the_vehicle_on_record(
    center: Center, connect: Connect, plate: str, terminal_id: str, result: int, reason: str
) -> None:
    car = enrol(center, plate=plate, terminal_id=terminal_id)
    refused = connect(car.phone).register()
    assert (refused.result, refused.auth_code) == (result, "")
    assert device_row(center, car.device_id).auth_code is None
    assert jt808_stats(center)[reason] >= 1


def test_a_device_without_plate_or_terminal_id_accepts_any(
    center: Center, connect: Connect
) -> None:
    car = enrol(center, plate=None, terminal_id=None)
    assert connect(car.phone).register().result == SUCCESS
    assert jt808_stats(center)["registration unchecked: no plate or terminal id on record"] >= 1


def test_an_unknown_terminal_cannot_register(center: Center, connect: Connect) -> None:
    stranger = connect("041305678720")
    stranger.sock.sendall(
        bytes.fromhex(
            "7e0100002d0141305678720024002c012f373031313142534a2d41362d424400000000000000000000"
            "003035363738373201d4c14238383838386d7e"
        )
    )
    reply = stranger.reply()
    assert isinstance(reply, RegistrationResponse)
    assert reply.result == 4  # no such terminal


def test_a_wrong_auth_code_leaves_the_connection_unauthenticated(
    center: Center, connect: Connect
) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    code = terminal.register().auth_code
    before = jt808_stats(center).get("wrong auth code", 0)
    assert terminal.authenticate("not-the-code") == FAILURE
    assert terminal.result(0x0200, location_body(126.65, 45.75, now_s())) == FAILURE
    assert jt808_stats(center)["wrong auth code"] == before + 1
    assert terminal.authenticate(code) == SUCCESS  # the real code still works


def test_too_many_refusals_close_the_connection(center: Center, connect: Connect) -> None:
    car = enrol(center)
    guesser = connect(car.phone)
    guesser.register()
    for attempt in range(4):
        assert guesser.authenticate(f"guess-{attempt}") == FAILURE
    guesser.send(0x0102, b"guess-4")
    assert isinstance(guesser.reply(), GeneralResponse)
    assert guesser.closed_by_gateway()
    assert jt808_stats(center)["connections closed: too many refusals"] >= 1


def test_a_2019_terminal_from_registration_to_report(center: Center, connect: Connect) -> None:
    # enrolled under its 12-digit number; the 2019 header pads it to 20 digits
    car = enrol(center)
    terminal = connect("00000000" + car.phone, version=1)
    body_2019 = (
        REGISTRATION_BODY[:4]
        + b"70107".ljust(11, b"\x00")
        + b"HB-R03GBD".ljust(30, b"\x00")
        + TERMINAL_ID.encode().ljust(30, b"\x00")
        + REGISTRATION_BODY[36:]
    )
    registered = terminal.register(body_2019)
    assert terminal.header is not None
    assert (terminal.header.protocol_version, terminal.header.phone) == (1, terminal.phone)
    assert terminal.authenticate(registered.auth_code) == SUCCESS
    report_moves(center, terminal, car.unit_id, 126.6601, 45.7401)


def test_a_bent_report_still_moves_its_unit(center: Center, connect: Connect) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    assert terminal.authenticate(terminal.register().auth_code) == SUCCESS
    before = jt808_stats(center)
    # a repeated mileage item, a last item cut short, a body length field 2 bytes too long
    body = location_body(126.6677, 45.7444, now_s()) + bytes.fromhex("01040000000a010400000014")
    body += bytes.fromhex("300a00")
    terminal.serial += 1
    terminal.sock.sendall(bent(Header(0x0200, car.phone, terminal.serial), body, length_off_by=2))
    reply = terminal.reply()
    assert reply == GeneralResponse(terminal.serial, 0x0200, SUCCESS)
    wait_for_fix(center, car.unit_id, 126.6677, 45.7444)
    after = jt808_stats(center)
    for kind in ("body length off by a few bytes", "repeated additional item"):
        assert after[f"tolerated: {kind}"] == before.get(f"tolerated: {kind}", 0) + 1
    assert after["tolerated: last additional item cut short"] >= 1


def test_a_batch_in_packages_moves_its_unit(center: Center, connect: Connect) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    assert terminal.authenticate(terminal.register().auth_code) == SUCCESS
    at = now_s()
    positions = [
        location_body(126.6701 + i / 1e4, 45.7501, at - timedelta(seconds=3 - i)) for i in range(3)
    ]
    body = struct.pack(">HB", 3, 1) + b"".join(struct.pack(">H", 28) + p for p in positions)
    cuts = [body[:40], body[40:70], body[70:]]
    for number in (3, 1, 2):  # any order
        terminal.serial += 1
        header = Header(0x0704, car.phone, terminal.serial, subpackage=Subpackage(3, number))
        terminal.sock.sendall(encode_frame(header, cuts[number - 1]))
        assert terminal.reply() == GeneralResponse(terminal.serial, 0x0704, SUCCESS)
    wait_for_fix(center, car.unit_id, 126.6703, 45.7501)
    assert track_points(center, car.device_id) == 3


def test_garbage_does_not_stop_the_gateway(center: Center, connect: Connect) -> None:
    car = enrol(center)
    terminal = connect(car.phone)
    assert terminal.authenticate(terminal.register().auth_code) == SUCCESS
    broken = bytearray(REGISTRATION)
    broken[-2] ^= 0xFF  # the check code
    terminal.sock.sendall(b"\x00\x01GET / HTTP/1.1\r\n\r\n" + bytes(broken) + b"\x7e\x7e\x7d\x7e")
    assert terminal.result(0x0200, b"\x01\x02") == MESSAGE_ERROR  # a report far too short
    assert terminal.result(0x0002, b"") == SUCCESS  # the next good frame: a heartbeat
    assert terminal.result(0x0900, b"\x41hello") == UNSUPPORTED  # well formed, not supported
    stats = jt808_stats(center)
    assert stats["malformed frames"] >= 1
    assert stats["malformed messages"] >= 1
