"""JT/T 808 terminal messages: read the body of a checked frame into a frozen dataclass.

Covered: general response 0x0001, heartbeat 0x0002, registration 0x0100 (2011, 2013 and 2019
layouts), authentication 0x0102 (2013 and 2019), location report 0x0200 and batch location
upload 0x0704 (see `jiaoxun.tracking.jt808_location`); and, to read back what the platform
sent, its general response 0x8001 and registration response 0x8100. Text fields are GBK.
A heartbeat with a body (battery, signal: Traccar reads them) is a heartbeat with a fault.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from jiaoxun.tracking.jt808 import (
    BodyReader,
    Fault,
    Frame,
    Jt808Error,
    Leniency,
    UnsupportedMessage,
)
from jiaoxun.tracking.jt808_location import (
    Location,
    LocationBatch,
    batch_from_body,
    location_from_body,
)

IMEI_BYTES = 15
SOFTWARE_VERSION_BYTES = 20


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
    """0x0002: a keep-alive, empty in the standard."""

    faults: tuple[Fault, ...] = ()


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


Message = (
    GeneralResponse
    | Heartbeat
    | Registration
    | Authentication
    | Location
    | LocationBatch
    | RegistrationResponse
)


def faults_of(message: Message) -> tuple[Fault, ...]:
    """What a message did against the standard and was forgiven, its positions' included."""
    if isinstance(message, LocationBatch):
        return message.faults + tuple(f for loc in message.locations for f in loc.faults)
    if isinstance(message, Location | Heartbeat):
        return message.faults
    return ()


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.strip(b"\x00").decode("gbk").strip()
    except UnicodeDecodeError:
        raise Jt808Error(f"{name} {raw.hex()} is not GBK text") from None


def _registration(body: bytes, *, version_2019: bool) -> Registration:
    # 2011: maker 5, model 8, id 7 bytes; 2013 widens the model to 20; 2019 to 11, 30, 30.
    # A 2011 body (25 bytes + plate) is always shorter than the 37 fixed bytes of 2013.
    sizes = (11, 30, 30) if version_2019 else (5, 20, 7) if len(body) >= 37 else (5, 8, 7)
    reader = BodyReader(body, "registration")
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
    reader = BodyReader(body, "authentication")
    size = reader.u8("auth code length")
    auth_code = _text(reader.take(size, "auth code"), "auth code")
    imei = _text(reader.take(IMEI_BYTES, "IMEI"), "IMEI")
    version = _text(reader.take(SOFTWARE_VERSION_BYTES, "software version"), "software version")
    reader.done()
    return Authentication(auth_code=auth_code, imei=imei, software_version=version)


def _heartbeat(body: bytes) -> Heartbeat:
    if not body:
        return Heartbeat()
    detail = f"heartbeat body of {len(body)} bytes ({body[:8].hex()}) is ignored"
    return Heartbeat(faults=(Fault(Leniency.HEARTBEAT_BODY, detail),))


def _response(body: bytes) -> GeneralResponse:
    if len(body) != 5:
        raise Jt808Error(f"general response body has {len(body)} bytes, not 5")
    reply_serial, reply_id, result = struct.unpack(">HHB", body)
    return GeneralResponse(reply_serial=reply_serial, reply_id=reply_id, result=result)


def _registration_response(body: bytes) -> RegistrationResponse:
    reader = BodyReader(body, "registration response")
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
            return _heartbeat(body)
        case 0x0100:
            return _registration(body, version_2019=version_2019)
        case 0x0102:
            return _authentication(body, version_2019=version_2019)
        case 0x0200:
            return location_from_body(body)
        case 0x0704:
            return batch_from_body(body)
        case 0x8100:
            return _registration_response(body)
    raise UnsupportedMessage(f"message id 0x{header.message_id:04x} is not supported")
