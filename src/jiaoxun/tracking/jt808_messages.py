"""JT/T 808 terminal messages: read the body of a checked frame into a frozen dataclass.

Covered: general response 0x0001, heartbeat 0x0002, registration 0x0100 (2011, 2013 and 2019
layouts), authentication 0x0102, location report 0x0200 and batch location upload 0x0704; and,
to read back what the platform sent, its general response 0x8001 and registration response 0x8100.
Positions are WGS-84 degrees as the standard gives them (never GCJ-02) and times are UTC: the
terminal's BCD clock reads Beijing time (UTC+8). Text fields are GBK.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import IntFlag

from jiaoxun.tracking.jt808 import Frame, Jt808Error, UnsupportedMessage

BEIJING = timezone(timedelta(hours=8))
MILEAGE_ITEM = 0x01
IMEI_BYTES = 15
SOFTWARE_VERSION_BYTES = 20


class Alarm(IntFlag):
    """Alarm flags of a location report (bits the standard leaves reserved stay as numbers)."""

    EMERGENCY = 1 << 0
    OVERSPEED = 1 << 1
    FATIGUE = 1 << 2
    DANGER_WARNING = 1 << 3
    GNSS_FAULT = 1 << 4
    GNSS_ANTENNA_CUT = 1 << 5
    GNSS_ANTENNA_SHORT = 1 << 6
    POWER_LOW = 1 << 7
    POWER_LOST = 1 << 8
    DISPLAY_FAULT = 1 << 9
    TTS_FAULT = 1 << 10
    CAMERA_FAULT = 1 << 11
    IC_CARD_FAULT = 1 << 12
    OVERSPEED_WARNING = 1 << 13
    FATIGUE_WARNING = 1 << 14
    DRIVING_TIME_EXCEEDED = 1 << 18
    PARKING_TIME_EXCEEDED = 1 << 19
    AREA = 1 << 20
    ROUTE = 1 << 21
    ROUTE_TIME = 1 << 22
    ROUTE_DEVIATION = 1 << 23
    VSS_FAULT = 1 << 24
    FUEL_ABNORMAL = 1 << 25
    STOLEN = 1 << 26
    ILLEGAL_IGNITION = 1 << 27
    ILLEGAL_MOVE = 1 << 28
    COLLISION = 1 << 29
    ROLLOVER = 1 << 30
    ILLEGAL_DOOR_OPEN = 1 << 31


class Status(IntFlag):
    """Status flags of a location report (bits 8-9, the load state, stay as numbers)."""

    ACC_ON = 1 << 0
    POSITIONED = 1 << 1
    SOUTH_LATITUDE = 1 << 2
    WEST_LONGITUDE = 1 << 3
    OUT_OF_SERVICE = 1 << 4
    COORDINATES_ENCRYPTED = 1 << 5
    FUEL_CUT = 1 << 10
    POWER_CUT = 1 << 11
    DOORS_LOCKED = 1 << 12
    GPS = 1 << 18
    BEIDOU = 1 << 19
    GLONASS = 1 << 20
    GALILEO = 1 << 21
    MOVING = 1 << 22


@dataclass(frozen=True)
class GeneralResponse:
    """0x0001 from the terminal or 0x8001 from the platform: the answer to one message
    (``result`` as in `jiaoxun.tracking.jt808.Result`)."""

    reply_serial: int
    reply_id: int
    result: int


@dataclass(frozen=True)
class RegistrationResponse:
    """0x8100: the platform's answer to a registration, with the auth code on success."""

    reply_serial: int
    result: int
    auth_code: str


@dataclass(frozen=True)
class Heartbeat:
    """0x0002: an empty keep-alive."""


@dataclass(frozen=True)
class Registration:
    """0x0100: a terminal announces itself and its vehicle (plate colour per JT/T 697.7;
    0 means no plate, and then ``plate`` holds the VIN)."""

    province_id: int
    city_id: int
    manufacturer_id: str
    terminal_model: str
    terminal_id: str
    plate_colour: int
    plate: str


@dataclass(frozen=True)
class Authentication:
    """0x0102: the terminal presents the code the platform gave it; 2019 adds IMEI and version."""

    auth_code: str
    imei: str | None = None
    software_version: str | None = None


@dataclass(frozen=True)
class Location:
    """0x0200: one position. ``items`` are the additional information items, id → raw bytes."""

    alarm: Alarm
    status: Status
    lat: float
    lon: float
    altitude_m: int
    speed_kph: float
    course_deg: int
    at: datetime
    items: dict[int, bytes] = field(default_factory=dict)
    mileage_km: float | None = None


@dataclass(frozen=True)
class LocationBatch:
    """0x0704: positions sent together; ``backfill`` when they were stored in a blind area."""

    backfill: bool
    locations: tuple[Location, ...]


Message = (
    GeneralResponse
    | Heartbeat
    | Registration
    | Authentication
    | Location
    | LocationBatch
    | RegistrationResponse
)


class _Reader:
    """Reads fields off a body in order; running short raises `Jt808Error` naming the field."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.what, self.pos = data, what, 0

    def take(self, size: int, name: str) -> bytes:
        if self.pos + size > len(self.data):
            raise Jt808Error(
                f"{self.what} body of {len(self.data)} bytes ends before {name} "
                f"(bytes {self.pos}..{self.pos + size})"
            )
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def u8(self, name: str) -> int:
        return self.take(1, name)[0]

    def u16(self, name: str) -> int:
        return int.from_bytes(self.take(2, name))

    def u32(self, name: str) -> int:
        return int.from_bytes(self.take(4, name))

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos, "the end")

    def done(self) -> None:
        if self.pos != len(self.data):
            raise Jt808Error(
                f"{self.what} body has {len(self.data) - self.pos} bytes after its last field"
            )


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.strip(b"\x00").decode("gbk").strip()
    except UnicodeDecodeError:
        raise Jt808Error(f"{name} {raw.hex()} is not GBK text") from None


def _bcd_time(raw: bytes) -> datetime:
    digits = []
    for byte in raw:
        for nibble in (byte >> 4, byte & 0x0F):
            if nibble > 9:
                raise Jt808Error(f"BCD digit 0x{nibble:X} in time field {raw.hex()}")
            digits.append(nibble)
    year, month, day, hour, minute, second = (
        10 * a + b for a, b in zip(digits[::2], digits[1::2], strict=True)
    )
    try:
        local = datetime(2000 + year, month, day, hour, minute, second, tzinfo=BEIJING)
    except ValueError:
        raise Jt808Error(f"time field {raw.hex()} is not a valid YYMMDDhhmmss time") from None
    return local.astimezone(UTC)


def _items(raw: bytes) -> dict[int, bytes]:
    reader, items = _Reader(raw, "additional information"), {}
    while reader.pos < len(raw):
        item_id = reader.u8("item id")
        size = reader.u8(f"length of item 0x{item_id:02x}")
        items[item_id] = reader.take(size, f"item 0x{item_id:02x} of {size} bytes")
    return items


def location_from_body(body: bytes) -> Location:
    """Read a location report body (0x0200, or one item of 0x0704)."""
    reader = _Reader(body, "location")
    alarm = Alarm(reader.u32("alarm flags"))
    status = Status(reader.u32("status flags"))
    lat_e6, lon_e6 = reader.u32("latitude"), reader.u32("longitude")
    if lat_e6 > 90_000_000:
        raise Jt808Error(f"latitude {lat_e6 / 1e6} exceeds 90 degrees")
    if lon_e6 > 180_000_000:
        raise Jt808Error(f"longitude {lon_e6 / 1e6} exceeds 180 degrees")
    # a WORD in the standard, read signed as Traccar does: Turpan lies 154 m below sea level
    altitude_m = int.from_bytes(reader.take(2, "altitude"), signed=True)
    speed_kph = reader.u16("speed") / 10
    course_deg = reader.u16("direction")
    if course_deg > 359:
        raise Jt808Error(f"direction {course_deg} is outside 0..359 degrees")
    at = _bcd_time(reader.take(6, "time"))
    items = _items(reader.rest())
    mileage_km = None
    if MILEAGE_ITEM in items:
        if len(items[MILEAGE_ITEM]) != 4:
            raise Jt808Error(f"mileage item 0x01 has {len(items[MILEAGE_ITEM])} bytes, not 4")
        mileage_km = int.from_bytes(items[MILEAGE_ITEM]) / 10
    return Location(
        alarm=alarm,
        status=status,
        lat=-lat_e6 / 1e6 if Status.SOUTH_LATITUDE in status else lat_e6 / 1e6,
        lon=-lon_e6 / 1e6 if Status.WEST_LONGITUDE in status else lon_e6 / 1e6,
        altitude_m=altitude_m,
        speed_kph=speed_kph,
        course_deg=course_deg,
        at=at,
        items=items,
        mileage_km=mileage_km,
    )


def _batch(body: bytes) -> LocationBatch:
    reader = _Reader(body, "batch location")
    count, kind = reader.u16("count"), reader.u8("type")
    if kind > 1:
        raise Jt808Error(f"batch location type {kind} is neither 0 (normal) nor 1 (blind area)")
    locations = []
    for index in range(count):
        size = reader.u16(f"length of location {index + 1} of {count}")
        locations.append(location_from_body(reader.take(size, f"location {index + 1} of {count}")))
    reader.done()
    return LocationBatch(backfill=kind == 1, locations=tuple(locations))


def _registration(body: bytes, *, version_2019: bool) -> Registration:
    # 2011: maker 5, model 8, id 7 bytes; 2013 widens the model to 20; 2019 to 11, 30, 30.
    # A 2011 body (25 bytes + plate) is always shorter than the 37 fixed bytes of 2013.
    sizes = (11, 30, 30) if version_2019 else (5, 20, 7) if len(body) >= 37 else (5, 8, 7)
    reader = _Reader(body, "registration")
    province_id, city_id = reader.u16("province"), reader.u16("city")
    maker, model, terminal = (
        _text(reader.take(size, name), name)
        for size, name in zip(
            sizes, ("manufacturer id", "terminal model", "terminal id"), strict=True
        )
    )
    plate_colour = reader.u8("plate colour")
    return Registration(
        province_id=province_id,
        city_id=city_id,
        manufacturer_id=maker,
        terminal_model=model,
        terminal_id=terminal,
        plate_colour=plate_colour,
        plate=_text(reader.rest(), "plate"),
    )


def _authentication(body: bytes, *, version_2019: bool) -> Authentication:
    if not version_2019:
        return Authentication(auth_code=_text(body, "auth code"))
    reader = _Reader(body, "authentication")
    size = reader.u8("auth code length")
    auth_code = _text(reader.take(size, "auth code"), "auth code")
    imei = _text(reader.take(IMEI_BYTES, "IMEI"), "IMEI")
    version = _text(reader.take(SOFTWARE_VERSION_BYTES, "software version"), "software version")
    reader.done()
    return Authentication(auth_code=auth_code, imei=imei, software_version=version)


def _response(body: bytes) -> GeneralResponse:
    if len(body) != 5:
        raise Jt808Error(f"general response body has {len(body)} bytes, not 5")
    reply_serial, reply_id, result = struct.unpack(">HHB", body)
    return GeneralResponse(reply_serial=reply_serial, reply_id=reply_id, result=result)


def _registration_response(body: bytes) -> RegistrationResponse:
    reader = _Reader(body, "registration response")
    reply_serial, result = reader.u16("reply serial"), reader.u8("result")
    auth_code = _text(reader.rest(), "auth code")
    return RegistrationResponse(reply_serial=reply_serial, result=result, auth_code=auth_code)


def decode_message(frame: Frame) -> Message:
    """Read the body of a checked frame; `UnsupportedMessage` for what this codec does not read."""
    header, body = frame.header, frame.body
    if header.encryption:
        raise UnsupportedMessage(
            f"encrypted body (encryption 0b{header.encryption:03b}) is not supported"
        )
    if header.subpackage is not None:
        total, number = header.subpackage
        raise UnsupportedMessage(
            f"subpackage {number} of {total} of message 0x{header.message_id:04x}: "
            "reassembly is not supported"
        )
    version_2019 = header.protocol_version is not None
    match header.message_id:
        case 0x0001 | 0x8001:
            return _response(body)
        case 0x0002:
            if body:
                raise Jt808Error(f"heartbeat body has {len(body)} bytes, not 0")
            return Heartbeat()
        case 0x0100:
            return _registration(body, version_2019=version_2019)
        case 0x0102:
            return _authentication(body, version_2019=version_2019)
        case 0x0200:
            return location_from_body(body)
        case 0x0704:
            return _batch(body)
        case 0x8100:
            return _registration_response(body)
    raise UnsupportedMessage(f"message id 0x{header.message_id:04x} is not supported")
