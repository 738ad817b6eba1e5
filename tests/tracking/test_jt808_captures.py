"""Frames published by other JT/T 808 libraries and by Traccar's users, decoded to the values
their sources assert (tests/tracking/frames/README.md cites each); and frames that bend the
standard, real or derived from real ones, kept when their fixed part is sound."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from jiaoxun.tracking.jt808 import (
    Fault,
    Frame,
    Header,
    Jt808Error,
    Leniency,
    check_code,
    decode_frame,
)
from jiaoxun.tracking.jt808_location import BEIJING, Alarm, Location, LocationBatch, Status
from jiaoxun.tracking.jt808_messages import (
    Authentication,
    GeneralResponse,
    Heartbeat,
    Message,
    Registration,
    decode_message,
    faults_of,
)
from jiaoxun.tracking.jt808_stream import FrameSplitter

FRAMES = Path(__file__).parent / "frames"


@cache
def published(source: str) -> dict[str, bytes]:
    """The frames of ``frames/<source>.txt`` by name, as on the wire."""
    lines = (FRAMES / f"{source}.txt").read_text(encoding="utf-8").splitlines()
    rows = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    return {name: bytes.fromhex("".join(hex_parts)) for name, *hex_parts in rows}


def split(wire: bytes) -> tuple[list[bytes], FrameSplitter]:
    splitter = FrameSplitter()
    return splitter.feed(wire), splitter


def decode(source: str, name: str) -> tuple[Frame, Message]:
    (raw,) = split(published(source)[name])[0]
    frame = decode_frame(raw)
    return frame, decode_message(frame)


def beijing(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    """A BCD time of the terminal's clock (UTC+8), in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING).astimezone(UTC)


def raw_of(wire: bytes) -> bytes:
    (raw,) = split(wire)[0]
    return raw


def reframe(raw: bytes) -> bytes:
    """An unescaped frame with its check code recomputed (after an edit)."""
    return raw[:-1] + bytes([check_code(raw[:-1])])


# SmallChi/JT808


def test_smallchi_location() -> None:
    frame, location = decode("smallchi", "location")
    assert frame.header == Header(message_id=0x0200, phone="112233445566", serial=8888)
    assert location == Location(
        alarm=Alarm.EMERGENCY,
        status=Status.POSITIONED,
        lat=12.222222,
        lon=132.444444,
        altitude_m=40,
        speed_kph=6.0,  # Speed = 60 tenths
        course_deg=0,
        at=beijing(2018, 7, 15, 10, 10, 10),
        items={0x01: bytes.fromhex("00000064"), 0x02: bytes.fromhex("0037")},
        mileage_km=10.0,  # Mileage = 100 tenths
    )


def test_smallchi_location_with_escaped_serial_and_oil() -> None:
    frame, location = decode("smallchi", "location_escaped")
    assert (frame.header.phone, frame.header.serial) == ("123456789012", 126)
    assert isinstance(location, Location)
    assert (location.lat, location.lon, location.speed_kph) == (12.222222, 132.444444, 6.0)
    assert location.at == beijing(2018, 10, 15, 10, 10, 10)
    assert int.from_bytes(location.items[0x02]) == 125  # Oil, sent as 00 7d 01


def test_smallchi_terminal_report() -> None:
    _, location = decode("smallchi", "location_terminal")
    assert isinstance(location, Location)
    assert (location.lat, location.lon, location.altitude_m) == (22.76875, 113.792664, 30)
    assert (location.speed_kph, location.course_deg) == (0.0, 224)
    assert location.at == beijing(2018, 9, 16, 10, 35, 37)
    assert location.mileage_km == 34726.1  # 0x00054c7d tenths, its 0x7d escaped
    assert Status.GPS | Status.BEIDOU | Status.POSITIONED in location.status
    assert (location.items[0x30], location.items[0x31]) == (b"\x1d", b"\x0d")


def test_smallchi_batch() -> None:
    _, batch = decode("smallchi", "batch")
    assert isinstance(batch, LocationBatch)
    assert not batch.backfill
    got = [
        (p.alarm, p.status, p.lat, p.lon, p.altitude_m, p.speed_kph, p.course_deg, p.at)
        for p in batch.locations
    ]
    assert got == [
        (Alarm(1), Status(2), 12.222222, 132.444444, 40, 6.0, 0, beijing(2018, 7, 15, 10, 10, 10)),
        (
            Alarm(2),
            Status(1),
            13.333333,
            132.555555,
            41,
            5.4,
            120,
            beijing(2018, 7, 15, 10, 10, 30),
        ),
    ]
    assert [p.mileage_km for p in batch.locations] == [10.0, 9.6]
    assert [int.from_bytes(p.items[0x02]) for p in batch.locations] == [55, 66]


def test_smallchi_registrations() -> None:
    assert decode("smallchi", "registration")[1] == Registration(
        40, 50, "12340", "smallchi123000000000", "CHI1230", 1, "粤A12345"
    )
    frame, registration = decode("smallchi", "registration_2019")
    assert frame.header == Header(
        message_id=0x0100, phone="00000000000123456789", serial=10, protocol_version=1
    )
    assert registration == Registration(
        40,
        50,
        "1234".rjust(11, "0"),
        "smallchi123".rjust(30, "0"),
        "CHI123".rjust(30, "0"),
        1,
        "粤A12345",
    )
    frame, koike = decode("smallchi", "registration_2019_koike")
    assert frame.header.phone.lstrip("0") == "22222222222"
    assert isinstance(koike, Registration)
    assert (koike.plate_colour, koike.plate) == (2, "粤A12346")
    names = (koike.manufacturer_id, koike.terminal_id, koike.terminal_model)
    assert {name.lstrip("0") for name in names} == {"Koike002"}


def test_smallchi_authentication() -> None:
    frame, authentication = decode("smallchi", "authentication")
    assert (frame.header.phone, frame.header.serial) == ("012345678900", 12345)
    assert authentication == Authentication("456121111")


# yezhihao/jt808-server


def test_yezhihao_registrations_2013_and_2019() -> None:
    frame, registration = decode("yezhihao", "registration")
    assert frame.header == Header(message_id=0x0100, phone="123456789012", serial=32767)
    assert registration == Registration(31, 115, "yzh", "www.jtt808.cn", "7654321", 1, "测A888888")
    frame, registration = decode("yezhihao", "registration_2019")
    assert frame.header == Header(
        message_id=0x0100, phone="12345678901234567890", serial=65535, protocol_version=1
    )
    assert registration == Registration(
        31, 115, "yzh", "www.jtt808.cn", "09876543210987654321", 1, "测A888888"
    )


def test_yezhihao_authentications_2013_and_2019() -> None:
    assert decode("yezhihao", "authentication")[1] == Authentication("abc@123&456")
    frame, authentication = decode("yezhihao", "authentication_2019")
    assert frame.header.phone == "00000000017299841738"
    assert authentication == Authentication(
        "pmYGzGukO8K4Z5lpIOTg8dqb3eprYaHBbXSPLtdbyG8=", "123456789012345", "3.7.15"
    )


def test_yezhihao_response_2019() -> None:
    assert decode("yezhihao", "response_2019")[1] == GeneralResponse(123, 456, 3)


def test_a_swapped_latitude_is_refused_not_forgiven() -> None:
    # the bean's latitude 116307629 is above 90 degrees: no leniency for the fixed part
    (raw,) = split(published("yezhihao")["location"])[0]
    with pytest.raises(Jt808Error, match=r"latitude 116\.307629 exceeds 90 degrees"):
        decode_message(decode_frame(raw))
    (raw,) = split(published("yezhihao")["batch_2019"])[0]
    with pytest.raises(Jt808Error, match=r"batch of 3 locations holds no sound one"):
        decode_message(decode_frame(raw))


# Traccar's users: real terminals that bend the standard


def test_a_frame_with_bare_delimiters_is_put_back_together() -> None:
    frames, splitter = split(published("traccar")["stray_delimiters"])
    (raw,) = frames
    assert splitter.counts["tolerated: unescaped 0x7e"] == 3
    _, location = decode("traccar", "stray_delimiters")
    assert isinstance(location, Location)
    # read by hand: 0158df97, 06c9606b, altitude 44, BCD 250417170023
    assert (location.lat, location.lon, location.altitude_m) == (22.601623, 113.860715, 44)
    assert location.at == beijing(2025, 4, 17, 17, 0, 23)
    assert raw.count(0x7E) == 3


def test_a_bare_delimiter_in_an_item() -> None:
    frames, splitter = split(published("traccar")["stray_delimiter"])
    assert len(frames) == 1
    assert splitter.counts["tolerated: unescaped 0x7e"] == 1
    _, location = decode("traccar", "stray_delimiter")
    assert isinstance(location, Location)
    assert location.items[0xA0] == b"P538f,U029f"  # Traccar: dtcs "P538f U029f"
    assert location.items[0x87] == b"\x00\x7e"
    assert location.at == beijing(2021, 11, 29, 11, 17, 5)


def test_bare_escapes_are_kept_as_bytes() -> None:
    frames, splitter = split(published("traccar")["stray_escapes"])
    assert len(frames) == 1
    assert splitter.counts["tolerated: unescaped 0x7d"] == 3
    _, location = decode("traccar", "stray_escapes")
    assert isinstance(location, Location)
    assert (location.lat, location.lon) == (22.708065, 114.265324)  # 015a7f61, 06cf8cec
    assert location.at == beijing(2021, 7, 13, 11, 48, 19)
    assert location.faults == ()


def test_a_vendor_tail_keeps_its_position() -> None:
    _, location = decode("traccar", "vendor_tail")
    assert isinstance(location, Location)
    assert (location.lat, location.lon) == (-27.455656, 153.029616)  # Brisbane
    assert location.at == beijing(2020, 11, 3, 3, 17, 33)
    assert [f.kind for f in location.faults] == [Leniency.REPEATED_ITEM] * 3 + [
        Leniency.SHORT_LAST_ITEM
    ]
    assert location.faults[-1].detail == "item 0x00 declares 120 bytes, 8 remain"


def test_a_frame_that_lost_bytes_is_dropped() -> None:
    # shorter than its length field: held for a piece that a bare 0x7E may have cut off, and
    # passed on (to fail) when the next frame shows there was none
    heartbeat = bytes.fromhex("7e000200000123456789017fff0a7e")
    lost, after = split(published("traccar")["lost_bytes"] + heartbeat)[0]
    with pytest.raises(Jt808Error, match="check code 0xd0 does not match 0xf0"):
        decode_frame(lost)
    assert decode_frame(after).header.message_id == 0x0002


# Bends derived from real frames by editing bytes (each edit is made here)


def test_a_body_length_off_by_a_few_bytes() -> None:
    raw = bytearray(raw_of(published("smallchi")["location"]))
    for declared in (0x26 - 4, 0x26 + 3):  # true length 0x26 = 38
        raw[3] = declared
        frame = decode_frame(reframe(bytes(raw)))
        assert frame.faults == (
            Fault(
                Leniency.BODY_LENGTH, f"body length field says {declared}, the frame holds 38 bytes"
            ),
        )
        location = decode_message(frame)
        assert isinstance(location, Location)
        assert (location.lat, location.lon) == (12.222222, 132.444444)
    raw[3] = 0x26 + 5
    with pytest.raises(Jt808Error, match=r"body length 43 does not match the 38 bytes"):
        decode_frame(reframe(bytes(raw)))


def test_a_2019_flag_on_a_2013_header() -> None:
    raw = bytearray(raw_of(published("smallchi")["location"]))
    raw[2] |= 0x40  # body attributes 0x0026 → 0x4026
    frame = decode_frame(reframe(bytes(raw)))
    assert frame.header == Header(message_id=0x0200, phone="112233445566", serial=8888)
    assert [f.kind for f in frame.faults] == [Leniency.VERSION_FLAG]
    location = decode_message(frame)
    assert isinstance(location, Location)
    assert location.at == beijing(2018, 7, 15, 10, 10, 10)


def test_a_last_item_shorter_than_declared() -> None:
    raw = raw_of(published("smallchi")["location"])
    # the oil item 02 02 00 37 loses its last byte: the frame ends 02 02 00
    cut = bytearray(raw[:-2] + raw[-1:])
    cut[3] -= 1
    location = decode_message(decode_frame(reframe(bytes(cut))))
    assert isinstance(location, Location)
    assert (location.lat, location.lon, location.mileage_km) == (12.222222, 132.444444, 10.0)
    assert 0x02 not in location.items
    assert location.faults == (
        Fault(Leniency.SHORT_LAST_ITEM, "item 0x02 declares 2 bytes, 1 remain"),
    )


def test_a_repeated_item_keeps_the_first() -> None:
    raw = raw_of(published("smallchi")["location"])
    # a second mileage item 01 04 00 00 00 65 after the oil item
    longer = bytearray(raw[:-1] + bytes.fromhex("010400000065") + raw[-1:])
    longer[3] += 6
    location = decode_message(decode_frame(reframe(bytes(longer))))
    assert isinstance(location, Location)
    assert location.mileage_km == 10.0
    assert location.faults == (
        Fault(Leniency.REPEATED_ITEM, "item 0x01 repeated; the first is kept"),
    )


def test_a_mileage_item_of_the_wrong_size() -> None:
    raw = raw_of(published("smallchi")["location"])
    # mileage 01 04 00 00 00 64 → 01 02 00 64
    odd = bytearray(raw.replace(bytes.fromhex("010400000064"), bytes.fromhex("01020064")))
    odd[3] -= 2
    location = decode_message(decode_frame(reframe(bytes(odd))))
    assert isinstance(location, Location)
    assert location.mileage_km is None
    assert [f.kind for f in location.faults] == [Leniency.ITEM_SIZE]


def test_a_heartbeat_with_a_body() -> None:
    # Traccar reads battery, signal and status from such a body (3 bytes after the header)
    raw = raw_of(bytes.fromhex("7e000200000123456789017fff0a7e"))
    with_body = bytearray(raw[:-1] + bytes.fromhex("641f02") + raw[-1:])
    with_body[3] = 3
    heartbeat = decode_message(decode_frame(reframe(bytes(with_body))))
    assert isinstance(heartbeat, Heartbeat)
    assert [f.kind for f in faults_of(heartbeat)] == [Leniency.HEARTBEAT_BODY]


def test_a_batch_keeps_its_sound_positions() -> None:
    raw = bytearray(raw_of(published("smallchi")["batch"]))
    # second position's latitude 00cb7355 → ffcb7355 (above 90 degrees); count 2 → 3
    second = 12 + 3 + 2 + 38 + 2 + 8
    raw[second] = 0xFF
    raw[12 + 1] = 3
    batch = decode_message(decode_frame(reframe(bytes(raw))))
    assert isinstance(batch, LocationBatch)
    assert [p.lat for p in batch.locations] == [12.222222]
    assert [f.kind for f in batch.faults] == [Leniency.DROPPED_POSITION, Leniency.BATCH_COUNT]
    assert batch.faults[0].detail == "location 2: latitude 4291.523413 exceeds 90 degrees"
