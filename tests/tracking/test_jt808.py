"""The JT/T 808 codec against frames published by others, most captured from real terminals.

Sources, cited at each frame:
- TRACCAR: traccar/traccar, src/test/java/org/traccar/protocol/Jt808ProtocolDecoderTest.java —
  messages of terminals in the field that users sent to the Traccar project.
- HUABAO: a terminal maker's annotated dump of one session (0x0200, 0x0102, the platform's 0x8001):
  https://huabaotelematics.com/blog/
  jt808-common-message-parsing-of-gps-electronic-lock-huabaotelematics-com_b9
- GO_JT808: cuteLittleDevil/go-jt808, protocol/model/parse_test.go and reply_test.go.
- XTREAM: hylexus/xtream-codec,
  debug/jt/jt-808-server-spring-boot-starter-debug-ui/src/utils/codec-utils.ts (hex + JSON).
Expected values are those the source states, or read by hand from the hex as noted.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.jt808 import (
    Frame,
    Header,
    Jt808Error,
    RegistrationResult,
    Result,
    SerialCounter,
    Subpackage,
    UnsupportedMessage,
    check_code,
    decode_frame,
    encode_frame,
    encode_general_response,
    encode_registration_response,
    escape,
)
from jiaoxun.tracking.jt808_location import Alarm, Location, LocationBatch, Status
from jiaoxun.tracking.jt808_messages import (
    Authentication,
    GeneralResponse,
    Heartbeat,
    Message,
    Registration,
    RegistrationResponse,
    decode_message,
)
from jiaoxun.tracking.jt808_stream import FrameSplitter, unescape

# TRACCAR: registration, 2013 layout
REGISTRATION_2013 = (
    "7e0100002d0141305678720024002c012f373031313142534a2d41362d4244000000000000000000000030353637"
    "38373201d4c14238383838386d7e"
)
# TRACCAR: registration, 2013 layout, plate 苏BA6860 (0xCBD5 is 苏 in GBK)
REGISTRATION_2013_JIANGSU = (
    "7E0100002D013511221122000500000000373031303748422D523033474244000000000000000000000032333636"
    "31303402CBD5424136383630387E"
)
# TRACCAR: registration, 2011 layout (8-byte terminal model)
REGISTRATION_2011 = (
    "7E01000021013345678906000F002C012F373031313142534A2D4D3742203030303030303001D4C1423838383838"
    "B47E"
)
# TRACCAR: registration from a 2019-version terminal (version flag, 10-byte phone)
REGISTRATION_2019 = (
    "7e0100405c010000086649607758216452180000000000000000000000000000004d443330300000000000000000"
    "00000000000000000000000000000000003836363439363037373538323136340000000000000000000000000000"
    "0004000000000000000000000000000000007a7e"
)
# GO_JT808: registrations whose fields parse_test.go states: 2011, 2013 and 2019
GO_REGISTRATION_2011 = (
    "7e010000200123456789010000001f007363640000007777772e3830382e3736353433323101b2e24131323334a17e"
)
GO_REGISTRATION_2013 = (
    "7e0100002c0123456789010000001f007363640000007777772e3830382e636f6d00000000000000000037363534"
    "33323101b2e24131323334cc7e"
)
GO_REGISTRATION_2019 = (
    "7e0100405301000000000172998417380000001f007363640000000000000000007777772e3830382e636f6d0000"
    "00000000000000000000000000000000003736353433323100000000000000000000000000000000000000000000"
    "0001b2e241313233343b7e"
)
# TRACCAR: authentication
AUTHENTICATION = "7E0102000E013511221122000661757468656E7469636174696F6E3F7E"
# GO_JT808 (reply_test.go): authentication, 2019 (code length, IMEI, software version)
AUTHENTICATION_2019 = (
    "7e0102402f010000000001729984173800000b313732393938343137333831323334353637383930313233343533"
    "2e372e31350000000000000000000000000000227e"
)
# TRACCAR: heartbeat
HEARTBEAT = "7e0002000004304832546500b7ca7e"
# TRACCAR: emergency alarm in England (west longitude), mileage and an unknown item 0x36
LOCATION_EMERGENCY = (
    "7e0200002e094027587492000a000000010000000a03083db7001329f30000001400001304121649520104000000"
    "12360a0002341502cb0c20085c107e"
)
# TRACCAR: a terminal in Brazil (south latitude and west longitude)
LOCATION_SOUTH_WEST = (
    "7e020000220014012499170007000000000000400e012af16f02cbd2ba0000000000001501011942570104000000"
    "77a97e"
)
# TRACCAR: Shanghai, ACC on, 14 additional items (Traccar reads RPM 55.0 from 0xE6)
LOCATION_ITEMS = (
    "7e0200009e017721028890061b00000000004c000301d9f2d4073ca28d002b01c200002401101726050104000002"
    "3c3001193101162504000000001404000000011504000000041604000000001702000018030000002b0400000000"
    "e10400735443e20400001211e30a4e61747572654c696e6be635244f42442d52542c2c35352e3030302c3130332e"
    "37382c2c302e302c342c2c2c2c302e3030302c2c31323336302e32382c2c2c0d0aa27e"
)
# HUABAO: an electronic lock in Shenzhen; the blog annotates every field
LOCATION_HUABAO = (
    "7E0200005200200260432300A400020000000C00020158B91B06CB70610046000000592109221637580104000000"
    "0103020000250400000001300111310110E30100D51B022002604323279593786160001220000012342795937861"
    "580012867E"
)
# XTREAM: location with a 2019 header; the source's JSON gives alarm 111, status 22
LOCATION_2019 = (
    "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b00420003250129223344"
    "0202006401040000000c417e"
)
# TRACCAR: batch upload of 8 blind-area positions near Shenzhen
BATCH_2013 = (
    "7E0704014301356777777707F5000801002600000000000000030159741206CBFD50017200000001160527090624"
    "01040000001D03020000002600000000000000030159746606CBFD50016B0000000116052709065301040000001D"
    "0302000000260000000000000003015975E406CBFE58013F0000000116052709072701040000001D030200000026"
    "0000000000000003015976DE06CBFF10012E0000000116052709075601040000001D030200000026000000000000"
    "0003015976BC06CBFED0012D0000000116052709083001040000001D0302000000260000000000000003015976FE"
    "06CBFEC001080000000116052709090001040000001D0302000000260000000000000003015976FE06CBFE7800FC"
    "0000000116052709093301040000001D0302000000260000000000000003015977A606CBFF300108000000011605"
    "2709100201040000001D030200001F7E"
)
# TRACCAR: batch of 4; the last position reports main power lost
BATCH_POWER_LOST = (
    "7E070400F30303000002450064000401003A000000000000000301618AC606C31F20000000000029180514202847"
    "010400000000EB16000C00B28986061708003732585700060089FFFFFFFE003A000000000000000301618AE806C3"
    "1EB800000000009F180514202917010400000000EB16000C00B28986061708003732585700060089FFFFFFFE003A"
    "000000000000000301618AE806C31EB800000000009F180514202947010400000000EB16000C00B2898606170800"
    "3732585700060089FFFFFFFE003A000001000000080301618AE806C31EB800000000009F18051420300601040000"
    "0000EB16000C00B28986061708003732585700060089FFFFFFFED77E"
)
# TRACCAR: batch from a 2019-version terminal in Brisbane (Traccar reads 14 satellites)
BATCH_2019 = (
    "7e0704402d0100000866496077582164881d0001000028000000000000000701a00192091f2a4700160000000226"
    "050916422701040000258230010031010e507e"
)
# XTREAM: batch of 2 with a 2019 header; the source's JSON gives each field
BATCH_2019_XTREAM = (
    "7e0704403f01000000000139123443290000000200001c000000010000000101d907f2073d336c029a0021005924"
    "1029213903001c000000010000000101d907f3073d336d03090043005a241029213903f87e"
)
# GO_JT808 (parse_test.go): terminal general response: serial 123, id 456, result 3
TERMINAL_RESPONSE = "7e000100050123456789017fff007b01c803bd7e"
# GO_JT808 (parse_test.go): a location whose latitude bytes 07 20 3b 7e are escaped
LOCATION_ESCAPED = (
    "7e0200001c0123456789010000000004000000080007203b7d0202633df70138000300632410012359591c7e"
)
# TRACCAR: a message this codec does not read (0x0900 transparent data)
PASSTHROUGH = "7e0900001b41305888975883194000184754534c7c367c317c307c31303231383039347c317c0d0ab47e"

REAL_FRAMES = [
    REGISTRATION_2013,
    REGISTRATION_2013_JIANGSU,
    REGISTRATION_2011,
    REGISTRATION_2019,
    GO_REGISTRATION_2011,
    GO_REGISTRATION_2013,
    GO_REGISTRATION_2019,
    AUTHENTICATION,
    AUTHENTICATION_2019,
    HEARTBEAT,
    LOCATION_EMERGENCY,
    LOCATION_SOUTH_WEST,
    LOCATION_ITEMS,
    LOCATION_HUABAO,
    LOCATION_2019,
    BATCH_2013,
    BATCH_POWER_LOST,
    BATCH_2019,
    BATCH_2019_XTREAM,
    TERMINAL_RESPONSE,
]


def wire(hex_frame: str) -> bytes:
    return bytes.fromhex(hex_frame)


def decode(hex_frame: str) -> tuple[Header, Message]:
    splitter = FrameSplitter()
    (raw,) = splitter.feed(wire(hex_frame))
    frame = decode_frame(raw)
    return frame.header, decode_message(frame)


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def raw_of(hex_frame: str) -> bytes:
    """The unescaped frame between the delimiters of a wire frame."""
    return unescape(wire(hex_frame)[1:-1])[0]


def reframe(raw: bytes) -> bytes:
    """An unescaped frame with its check code recomputed (after an edit)."""
    return raw[:-1] + bytes([check_code(raw[:-1])])


# Framing


def test_unescape_and_escape_invert_each_other() -> None:
    # traccar/traccar test/org/traccar/protocol/HuabaoFrameDecoderTest.java: 7e307d02087d01557e
    assert unescape(wire("307d02087d0155")) == (wire("307e087d55"), 0)
    assert escape(wire("307e087d55")) == wire("307d02087d0155")


MESSAGE_TYPES: dict[int, type] = {
    0x0001: GeneralResponse,
    0x0002: Heartbeat,
    0x0100: Registration,
    0x0102: Authentication,
    0x0200: Location,
    0x0704: LocationBatch,
}


@pytest.mark.parametrize("hex_frame", REAL_FRAMES)
def test_every_real_frame_passes_its_check_code_and_length(hex_frame: str) -> None:
    header, message = decode(hex_frame)
    assert (header.encryption, header.subpackage) == (0, None)
    assert type(message) is MESSAGE_TYPES[header.message_id]


def test_splitter_reassembles_frames_from_any_chunking() -> None:
    stream = b"\x00\x11garbage" + b"".join(wire(f) for f in REAL_FRAMES)
    expected = [raw_of(f) for f in REAL_FRAMES]
    rng = random.Random(808)
    for _ in range(50):
        splitter, frames, pos = FrameSplitter(), [], 0
        while pos < len(stream):
            size = rng.randint(1, 64)
            frames += splitter.feed(stream[pos : pos + size])
            pos += size
        assert frames == expected
        assert splitter.counts["skipped bytes"] == 9


def test_splitter_unescapes_so_the_check_code_holds() -> None:
    # GO_JT808's latitude bytes 07 20 3b 7e arrive escaped; the source reads 119552894, which
    # is 119.55 degrees: the codec rejects the position, not the frame
    (raw,) = FrameSplitter().feed(wire(LOCATION_ESCAPED))
    frame = decode_frame(raw)
    assert frame.body[8:12] == wire("07203b7e")
    with pytest.raises(Jt808Error, match=r"latitude 119\.552894 exceeds 90 degrees"):
        decode_message(frame)


def test_splitter_recovers_after_a_lost_opening_delimiter() -> None:
    splitter = FrameSplitter()
    frames = splitter.feed(wire(HEARTBEAT)[1:] + wire(AUTHENTICATION))
    assert [decode_frame(f).header.message_id for f in frames] == [0x0102]
    assert splitter.counts["skipped bytes"] == len(wire(HEARTBEAT)) - 2


def test_splitter_drops_an_oversized_frame_without_buffering_it() -> None:
    splitter = FrameSplitter(max_frame_bytes=64)
    frames = splitter.feed(wire(LOCATION_ITEMS) + wire(HEARTBEAT))
    assert splitter.counts["oversized frames"] == 1
    assert [decode_frame(f).header.message_id for f in frames] == [0x0002]
    # a megabyte with no closing delimiter is dropped once, not kept
    unbounded = FrameSplitter()
    assert unbounded.feed(b"\x7e" + bytes(1_000_000)) == []
    assert unbounded.counts["oversized frames"] == 1
    assert [len(f) for f in unbounded.feed(wire(HEARTBEAT))] == [13]


def test_splitter_keeps_a_stray_escape_as_a_byte() -> None:
    # a 0x7d not followed by 0x01/0x02 stays a 0x7d; the check code then decides (here it
    # fails: the byte pair was inserted after the code was computed)
    broken = wire(HEARTBEAT)[:5] + b"\x7d\x03" + wire(HEARTBEAT)[5:]
    splitter = FrameSplitter()
    stray, good = splitter.feed(broken + wire(HEARTBEAT))
    assert stray == raw_of(HEARTBEAT)[:4] + b"\x7d\x03" + raw_of(HEARTBEAT)[4:]
    assert good == raw_of(HEARTBEAT)
    with pytest.raises(Jt808Error, match="check code"):
        decode_frame(stray)


def test_splitter_refuses_a_maximum_below_the_smallest_frame() -> None:
    with pytest.raises(Jt808Error, match="max_frame_bytes 5 is below 13"):
        FrameSplitter(max_frame_bytes=5)


# Headers


def test_2013_header() -> None:
    header, _ = decode(HEARTBEAT)
    assert header == Header(message_id=0x0002, phone="043048325465", serial=0xB7)


def test_2019_header() -> None:
    header, _ = decode(REGISTRATION_2019)
    assert header == Header(
        message_id=0x0100, phone="00000866496077582164", serial=0x5218, protocol_version=1
    )


def test_subpackage_fields_round_trip() -> None:
    header = Header(message_id=0x0704, phone="013567777777", serial=9, subpackage=Subpackage(3, 2))
    (raw,) = FrameSplitter().feed(encode_frame(header, b"\x01\x02"))
    frame = decode_frame(raw)
    assert frame == Frame(header=header, body=b"\x01\x02")
    with pytest.raises(UnsupportedMessage, match="subpackage 2 of 3 of message 0x0704"):
        decode_message(frame)


# Terminal messages


@pytest.mark.parametrize(
    ("hex_frame", "expected"),
    [
        (REGISTRATION_2013, Registration(44, 303, "70111", "BSJ-A6-BD", "0567872", 1, "粤B88888")),
        (
            REGISTRATION_2013_JIANGSU,
            Registration(0, 0, "70107", "HB-R03GBD", "2366104", 2, "苏BA6860"),
        ),
        (REGISTRATION_2011, Registration(44, 303, "70111", "BSJ-M7B", "0000000", 1, "粤B88888")),
        (REGISTRATION_2019, Registration(0, 0, "", "MD300", "866496077582164", 4, "")),
        (GO_REGISTRATION_2011, Registration(31, 115, "cd", "www.808.", "7654321", 1, "测A1234")),
        (GO_REGISTRATION_2013, Registration(31, 115, "cd", "www.808.com", "7654321", 1, "测A1234")),
        (GO_REGISTRATION_2019, Registration(31, 115, "cd", "www.808.com", "7654321", 1, "测A1234")),
    ],
)
def test_registration(hex_frame: str, expected: Registration) -> None:
    assert decode(hex_frame)[1] == expected


@pytest.mark.parametrize(
    ("hex_frame", "expected"),
    [
        (AUTHENTICATION, Authentication("authentication")),
        # TRACCAR
        (
            "7E010200100940278494700084323031313131303831313333323139369F7E",
            Authentication("2011110811332196"),
        ),
        # HUABAO: the 13 body bytes after serial 0x0001 (the blog folds the serial into the code)
        (
            "7E0102000D002002604325000138333030323030323630343332137E",
            Authentication("8300200260432"),
        ),
        (AUTHENTICATION_2019, Authentication("17299841738", "123456789012345", "3.7.15")),
    ],
)
def test_authentication(hex_frame: str, expected: Authentication) -> None:
    assert decode(hex_frame)[1] == expected


def test_heartbeat_2013_and_2019() -> None:
    assert decode(HEARTBEAT)[1] == Heartbeat()
    # GO_JT808 (reply_test.go): a 2019 heartbeat with serial 0xffff
    header, message = decode("7e000240000100000000017299841738ffff027e")
    assert (header.protocol_version, header.serial, message) == (1, 0xFFFF, Heartbeat())


def test_terminal_general_response() -> None:
    assert decode(TERMINAL_RESPONSE)[1] == GeneralResponse(reply_serial=123, reply_id=456, result=3)


def test_location_emergency_in_the_west() -> None:
    _, location = decode(LOCATION_EMERGENCY)
    assert location == Location(
        alarm=Alarm.EMERGENCY,
        status=Status.POSITIONED | Status.WEST_LONGITUDE,
        lat=50.871735,  # 0x03083db7
        lon=-1.255923,  # 0x001329f3, west
        altitude_m=0,
        speed_kph=2.0,  # 0x0014 tenths
        course_deg=0,
        at=utc(2013, 4, 12, 8, 49, 52),  # BCD 130412164952, Beijing time
        items={0x01: wire("00000012"), 0x36: wire("0002341502cb0c20085c")},
        mileage_km=1.8,
    )


def test_location_south_and_west() -> None:
    _, location = decode(LOCATION_SOUTH_WEST)
    assert isinstance(location, Location)
    assert Status.SOUTH_LATITUDE in location.status
    assert Status.WEST_LONGITUDE in location.status
    assert (location.lat, location.lon) == (-19.591535, -46.912186)
    assert location.at == utc(2015, 1, 1, 11, 42, 57)
    assert location.mileage_km == 11.9


def test_location_with_additional_items() -> None:
    _, location = decode(LOCATION_ITEMS)
    assert isinstance(location, Location)
    assert (
        location.status & (Status.ACC_ON | Status.POSITIONED) == Status.ACC_ON | Status.POSITIONED
    )
    assert location.alarm == Alarm(0)
    assert (location.lat, location.lon, location.altitude_m) == (31.060692, 121.414285, 43)
    assert (location.speed_kph, location.course_deg) == (45.0, 0)
    assert location.at == utc(2024, 1, 10, 9, 26, 5)
    assert location.mileage_km == 57.2  # 0x023c tenths of a km
    assert len(location.items) == 14
    assert location.items[0x31] == b"\x16"  # 22 satellites
    assert location.items[0xE3] == b"NatureLink"
    assert location.items[0xE6].startswith(b"$OBD-RT,,55.000,")


def test_location_annotated_by_its_maker() -> None:
    _, location = decode(LOCATION_HUABAO)
    assert location == Location(
        alarm=Alarm(0x00020000),  # bit 17, reserved in 2013
        status=Status.POSITIONED | Status.GPS | Status.BEIDOU,  # 0x000C0002
        lat=22.591771,
        lon=113.995873,
        altitude_m=70,
        speed_kph=0.0,
        course_deg=89,
        at=utc(2021, 9, 22, 8, 37, 58),
        items={
            0x01: wire("00000001"),
            0x03: wire("0000"),
            0x25: wire("00000001"),
            0x30: b"\x11",
            0x31: b"\x10",
            0xE3: b"\x00",
            0xD5: wire("022002604323279593786160001220000012342795937861580012"),
        },
        mileage_km=0.1,
    )


def test_location_from_a_2019_header() -> None:
    header, location = decode(LOCATION_2019)
    assert header.protocol_version == 1
    assert header.phone == "00000000013912344329"
    assert location == Location(
        # alarmFlag 111 and status 22 in the source
        alarm=Alarm.EMERGENCY
        | Alarm.OVERSPEED
        | Alarm.FATIGUE
        | Alarm.DANGER_WARNING
        | Alarm.GNSS_ANTENNA_CUT
        | Alarm.GNSS_ANTENNA_SHORT,
        status=Status.POSITIONED | Status.SOUTH_LATITUDE | Status.OUT_OF_SERVICE,
        lat=-31.234567,
        lon=121.987654,
        altitude_m=123,
        speed_kph=6.6,
        course_deg=3,
        at=utc(2025, 1, 29, 14, 33, 44),  # "2025-01-29 22:33:44" Beijing time
        items={0x01: wire("0000000c"), 0x02: wire("0064")},
        mileage_km=1.2,
    )


def test_batch_of_blind_area_positions() -> None:
    _, batch = decode(BATCH_2013)
    assert isinstance(batch, LocationBatch)
    assert batch.backfill
    assert len(batch.locations) == 8
    first, last = batch.locations[0], batch.locations[-1]
    assert (first.lat, first.lon, first.altitude_m) == (22.639634, 114.031952, 370)
    assert first.status == Status.ACC_ON | Status.POSITIONED
    assert first.at == utc(2016, 5, 27, 1, 6, 24)
    assert last.at == utc(2016, 5, 27, 1, 10, 2)
    assert {location.mileage_km for location in batch.locations} == {2.9}


def test_batch_with_power_lost() -> None:
    _, batch = decode(BATCH_POWER_LOST)
    assert isinstance(batch, LocationBatch)
    assert [location.alarm for location in batch.locations] == [Alarm(0)] * 3 + [Alarm.POWER_LOST]
    assert Status.POWER_CUT in batch.locations[3].status
    assert batch.locations[3].at == utc(2018, 5, 14, 12, 30, 6)


def test_batch_from_a_2019_terminal() -> None:
    header, batch = decode(BATCH_2019)
    assert header.protocol_version == 1
    assert isinstance(batch, LocationBatch)
    assert not batch.backfill
    (location,) = batch.locations
    assert (location.lat, location.lon, location.altitude_m) == (-27.263378, 153.037383, 22)
    assert location.at == utc(2026, 5, 9, 8, 42, 27)
    assert location.mileage_km == 960.2
    assert location.items[0x31] == b"\x0e"


def test_batch_values_stated_by_the_source() -> None:
    _, batch = decode(BATCH_2019_XTREAM)
    assert isinstance(batch, LocationBatch)
    stated = [
        (31.000562, 121.451372, 666, 3.3, 89),
        (31.000563, 121.451373, 777, 6.7, 90),
    ]
    got = [(p.lat, p.lon, p.altitude_m, p.speed_kph, p.course_deg) for p in batch.locations]
    assert got == stated
    assert {p.at for p in batch.locations} == {utc(2024, 10, 29, 13, 39, 3)}
    assert {p.alarm for p in batch.locations} == {Alarm.EMERGENCY}


# Platform replies


def test_general_response_matches_a_real_platform_reply() -> None:
    # HUABAO: the platform acknowledges 0x0200 serial 0x00EE with its own serial 9
    request = Header(message_id=0x0200, phone="002002604323", serial=0x00EE)
    reply = encode_general_response(request, serial=9)
    assert reply == wire("7E80010005002002604323000900EE020000437E")


@pytest.mark.parametrize(
    ("request_hex", "expected"),
    [
        # GO_JT808 (reply_test.go), platform serial 0
        ("7e000200000123456789017fff0a7e", "7e8001000501234567890100007fff0002008e7e"),
        (
            "7e000240000100000000017299841738ffff027e",
            "7e8001400501000000000172998417380000ffff000200867e",
        ),
        (TERMINAL_RESPONSE, "7e8001000501234567890100007fff0001008d7e"),
    ],
)
def test_general_response_matches_published_encoders(request_hex: str, expected: str) -> None:
    request, _ = decode(request_hex)
    assert encode_general_response(request, serial=0) == wire(expected)


def test_general_response_2019_matches_xtream() -> None:
    # XTREAM: 0x8001 answering 0x0200 serial 111 of terminal 13912344329
    request = Header(
        message_id=0x0200, phone="00000000013912344329", serial=111, protocol_version=1
    )
    expected = "7e8001400501000000000139123443290000006f020000dc7e"
    assert encode_general_response(request, serial=0) == wire(expected)


@pytest.mark.parametrize(
    ("request_hex", "auth_code", "expected"),
    [
        # GO_JT808 (reply_test.go): 2013 and 2019 registrations answered with platform serial 0
        (
            GO_REGISTRATION_2013,
            "12345678901",
            "7e8100000e01234567890100000000003132333435363738393031377e",
        ),
        (
            GO_REGISTRATION_2019,
            "17299841738",
            "7e8100400e010000000001729984173800000000003137323939383431373338ba7e",
        ),
    ],
)
def test_registration_response_matches_published_encoders(
    request_hex: str, auth_code: str, expected: str
) -> None:
    request, _ = decode(request_hex)
    reply = encode_registration_response(
        request, serial=0, result=RegistrationResult.SUCCESS, auth_code=auth_code
    )
    assert reply == wire(expected)


def test_replies_round_trip_through_the_splitter() -> None:
    request, _ = decode(REGISTRATION_2019)
    counter = SerialCounter(start=0x7E7D)  # a serial that must be escaped twice
    stream = encode_registration_response(
        request, serial=counter.next(), result=RegistrationResult.SUCCESS, auth_code="令牌~}"
    ) + encode_general_response(request, serial=counter.next(), result=Result.ALARM_CONFIRMED)
    frames = [decode_frame(raw) for raw in FrameSplitter().feed(stream)]
    assert [(f.header.message_id, f.header.serial) for f in frames] == [
        (0x8100, 0x7E7D),
        (0x8001, 0x7E7E),
    ]
    assert {(f.header.phone, f.header.protocol_version) for f in frames} == {(request.phone, 1)}
    assert [decode_message(f) for f in frames] == [
        RegistrationResponse(reply_serial=0x5218, result=0, auth_code="令牌~}"),
        GeneralResponse(reply_serial=0x5218, reply_id=0x0100, result=4),
    ]


def test_serial_counter_wraps() -> None:
    counter = SerialCounter(start=0xFFFF)
    assert [counter.next() for _ in range(3)] == [0xFFFF, 0, 1]


def test_registration_failure_carries_no_auth_code() -> None:
    request, _ = decode(REGISTRATION_2013)
    reply = encode_registration_response(
        request, serial=1, result=RegistrationResult.NO_SUCH_VEHICLE
    )
    (raw,) = FrameSplitter().feed(reply)
    assert decode_message(decode_frame(raw)) == RegistrationResponse(36, 2, "")
    with pytest.raises(Jt808Error, match="auth code '' must be given with success only"):
        encode_registration_response(request, serial=1, result=RegistrationResult.SUCCESS)


# Errors name the rule and the value


def test_error_check_code() -> None:
    raw = raw_of(HEARTBEAT)
    with pytest.raises(Jt808Error, match="check code 0xcb does not match 0xca"):
        decode_frame(raw[:-1] + b"\xcb")


def test_error_body_length() -> None:
    raw = raw_of(HEARTBEAT)
    with pytest.raises(
        Jt808Error, match=r"body length 0 does not match the 5 bytes after the header \(tolerance 4"
    ):
        decode_frame(reframe(raw[:-1] + bytes(5) + b"\x00"))


def test_error_bcd_time() -> None:
    raw = bytearray(raw_of(LOCATION_SOUTH_WEST))
    raw[12 + 22] = 0x1A  # first byte of the time: year 15 becomes 1A
    with pytest.raises(Jt808Error, match="BCD digit 0xA in time field 1a0101194257"):
        decode_message(decode_frame(reframe(bytes(raw))))


def test_error_is_invalid_input() -> None:
    assert issubclass(Jt808Error, InvalidInput)
    assert issubclass(UnsupportedMessage, Jt808Error)


def test_unsupported_message_and_encryption() -> None:
    frame = decode_frame(raw_of(PASSTHROUGH))
    with pytest.raises(UnsupportedMessage, match="message id 0x0900 is not supported"):
        decode_message(frame)
    encrypted = Frame(header=Header(0x0200, "013511221122", 1, encryption=1), body=b"")
    with pytest.raises(UnsupportedMessage, match="encrypted body"):
        decode_message(encrypted)
