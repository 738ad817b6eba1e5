"""JT/T 808 frames: read a header, check a frame, write the platform's replies.

A JT/T 808 frame is a letter in an envelope sealed at both ends with 0x7E: inside are a header
(message id, body attributes, the terminal's phone number in BCD, a serial number), the body and
a one-byte XOR check code. A 0x7E or 0x7D inside is escaped as 0x7D 0x02 or 0x7D 0x01. The
2011/2013 header carries a 6-byte phone number; the 2019 header sets bit 14 of the body
attributes, adds a protocol-version byte and widens the phone number to 10 bytes.

`jiaoxun.tracking.jt808_stream.FrameSplitter` turns arriving bytes into unescaped frames,
`decode_frame` checks one and reads its header, and `jiaoxun.tracking.jt808_messages.decode_message`
reads the body. Every malformed input raises `Jt808Error` and nothing else. Nothing here opens
sockets or keeps global state.

Strict about integrity, lenient about layout: the check code must hold, but a frame whose body
length field is off by a few bytes, or whose 2019 version flag sits on a 2013 header, is read
as the bytes say and carries a `Fault` that names what was tolerated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import NamedTuple

from jiaoxun.errors import InvalidInput

DELIMITER = 0x7E
ESCAPE = 0x7D
MAX_BODY_BYTES = 0x3FF  # body length is a 10-bit field
HEADER_2013_BYTES = 12
HEADER_2019_BYTES = 17
SUBPACKAGE_BYTES = 4
MIN_FRAME_BYTES = HEADER_2013_BYTES + 1
#: how far a body length field may be off and the frame still be read: below the 5 bytes by
#: which the two header layouts differ, so a length can never fit both readings
BODY_LENGTH_SLACK = 4
#: the largest frame read (2019 header, subpackage fields, full body and slack, check code)
MAX_FRAME_UNESCAPED = HEADER_2019_BYTES + SUBPACKAGE_BYTES + MAX_BODY_BYTES + BODY_LENGTH_SLACK + 1

VERSION_FLAG = 1 << 14
SUBPACKAGE_FLAG = 1 << 13


class Jt808Error(InvalidInput):
    """A JT/T 808 frame or message breaks the standard; the message names the rule and value."""


class UnsupportedMessage(Jt808Error):
    """A well-formed frame this codec does not read (unknown id, encrypted or subpackaged)."""


class Leniency(StrEnum):
    """A way real terminals bend the standard that the codec reads past (see `Fault`)."""

    BODY_LENGTH = "body length off by a few bytes"
    VERSION_FLAG = "2019 version flag on a 2013 header"
    STRAY_ESCAPE = "unescaped 0x7d"
    STRAY_DELIMITER = "unescaped 0x7e"
    SHORT_LAST_ITEM = "last additional item cut short"
    REPEATED_ITEM = "repeated additional item"
    ITEM_SIZE = "standard item of the wrong size"
    HEARTBEAT_BODY = "heartbeat with a body"
    BATCH_COUNT = "batch count differs from its positions"
    DROPPED_POSITION = "unsound position left out of a batch"


@dataclass(frozen=True)
class Fault:
    """What a frame or message did against the standard, and was forgiven: the kind (counted)
    and the detail (logged), e.g. ``Fault(Leniency.BODY_LENGTH, "body length 46, 44 bytes")``."""

    kind: Leniency
    detail: str


class Subpackage(NamedTuple):
    """Position of a frame in a message split over several frames (number counts from 1)."""

    total: int
    number: int


@dataclass(frozen=True)
class Header:
    """A frame header. ``phone`` holds the BCD digits as sent (12, or 20 in the 2019 form);
    ``protocol_version`` is None for the 2011/2013 form."""

    message_id: int
    phone: str
    serial: int
    protocol_version: int | None = None
    encryption: int = 0
    subpackage: Subpackage | None = None


@dataclass(frozen=True)
class Frame:
    """A checked frame: its header, its raw body, and what was tolerated in its layout."""

    header: Header
    body: bytes
    faults: tuple[Fault, ...] = ()


class Result(IntEnum):
    """Result of a general response (0x0001 from the terminal, 0x8001 from the platform)."""

    SUCCESS = 0
    FAILURE = 1
    MESSAGE_ERROR = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4  # platform only


class RegistrationResult(IntEnum):
    """Result of a terminal registration response (0x8100)."""

    SUCCESS = 0
    VEHICLE_ALREADY_REGISTERED = 1
    NO_SUCH_VEHICLE = 2
    TERMINAL_ALREADY_REGISTERED = 3
    NO_SUCH_TERMINAL = 4


class BodyReader:
    """Reads fields off a body in order; running short raises `Jt808Error` naming the field."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.what, self.pos = data, what, 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

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
        return self.take(self.remaining, "the end")

    def done(self) -> None:
        if self.remaining:
            raise Jt808Error(f"{self.what} body has {self.remaining} bytes after its last field")


def check_code(data: bytes) -> int:
    """XOR of all bytes: the check code of header + body."""
    code = 0
    for byte in data:
        code ^= byte
    return code


def escape(data: bytes) -> bytes:
    """Escape 0x7D as 0x7D 0x01 (first) and 0x7E as 0x7D 0x02."""
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


class _Layout(NamedTuple):
    version_2019: bool
    body_start: int
    faults: tuple[Fault, ...]


def _layout(content: bytes, attributes: int) -> _Layout:
    """Where the body starts, from the version flag and the body length field; a flag on a
    2013-sized header, or a length a few bytes off, is read as the bytes say."""
    declared = attributes & MAX_BODY_BYTES
    extra = SUBPACKAGE_BYTES if attributes & SUBPACKAGE_FLAG else 0
    flagged = bool(attributes & VERSION_FLAG)
    header_bytes = (HEADER_2019_BYTES if flagged else HEADER_2013_BYTES) + extra
    present = len(content) - header_bytes
    if present == declared:
        return _Layout(flagged, header_bytes, ())
    if flagged and present + HEADER_2019_BYTES - HEADER_2013_BYTES == declared:
        detail = f"body length {declared} fits a 2013 header, not the flagged 2019 one"
        return _Layout(False, HEADER_2013_BYTES + extra, (Fault(Leniency.VERSION_FLAG, detail),))
    if present >= 0 and abs(present - declared) <= BODY_LENGTH_SLACK:
        detail = f"body length field says {declared}, the frame holds {present} bytes"
        return _Layout(flagged, header_bytes, (Fault(Leniency.BODY_LENGTH, detail),))
    raise Jt808Error(
        f"body length {declared} does not match the {max(present, 0)} bytes after the header "
        f"(tolerance {BODY_LENGTH_SLACK})"
    )


def decode_frame(data: bytes) -> Frame:
    """Check an unescaped frame (header + body + check code) and read its header."""
    if not MIN_FRAME_BYTES <= len(data) <= MAX_FRAME_UNESCAPED:
        raise Jt808Error(
            f"frame of {len(data)} bytes is outside {MIN_FRAME_BYTES}..{MAX_FRAME_UNESCAPED}"
        )
    content, code = data[:-1], data[-1]
    if check_code(content) != code:
        raise Jt808Error(f"check code 0x{code:02x} does not match 0x{check_code(content):02x}")
    message_id, attributes = struct.unpack_from(">HH", content)
    layout = _layout(content, attributes)
    protocol_version: int | None = None
    if layout.version_2019:
        protocol_version, phone, pos = content[4], content[5:15].hex(), 15
    else:
        phone, pos = content[4:10].hex(), 10
    serial = int.from_bytes(content[pos : pos + 2])
    subpackage = None
    if attributes & SUBPACKAGE_FLAG:
        subpackage = Subpackage(*struct.unpack_from(">HH", content, pos + 2))
        if not 1 <= subpackage.number <= subpackage.total:
            raise Jt808Error(f"subpackage number {subpackage.number} outside 1..{subpackage.total}")
    header = Header(
        message_id=message_id,
        phone=phone,
        serial=serial,
        protocol_version=protocol_version,
        encryption=(attributes >> 10) & 0b111,
        subpackage=subpackage,
    )
    return Frame(header=header, body=content[layout.body_start :], faults=layout.faults)


def frame_fits(data: bytes) -> bool:
    """Whether an unescaped frame passes `decode_frame` (its check code and its length)."""
    try:
        decode_frame(data)
    except Jt808Error:
        return False
    return True


def frame_wants_more(data: bytes) -> bool:
    """Whether an unescaped piece is shorter than its own header says a frame must be: the
    head of a frame that a stray 0x7E cut (see `jiaoxun.tracking.jt808_stream`)."""
    if len(data) < 4:
        return False
    attributes = int.from_bytes(data[2:4])
    header = HEADER_2019_BYTES if attributes & VERSION_FLAG else HEADER_2013_BYTES
    if attributes & SUBPACKAGE_FLAG:
        header += SUBPACKAGE_BYTES
    return len(data) < header + (attributes & MAX_BODY_BYTES) + 1


def encode_frame(header: Header, body: bytes) -> bytes:
    """A complete frame as sent on the wire: delimiters, escaped header, body and check code."""
    if len(body) > MAX_BODY_BYTES:
        raise Jt808Error(f"body length {len(body)} exceeds the maximum {MAX_BODY_BYTES}")
    fields = [("message id", header.message_id, 0xFFFF), ("serial", header.serial, 0xFFFF)]
    fields += [("encryption", header.encryption, 0b111)]
    if header.protocol_version is not None:
        fields += [("protocol version", header.protocol_version, 0xFF)]
    if header.subpackage is not None:
        fields += [("subpackage total", header.subpackage.total, 0xFFFF)]
        fields += [("subpackage number", header.subpackage.number, 0xFFFF)]
    for name, value, largest in fields:
        if not 0 <= value <= largest:
            raise Jt808Error(f"{name} {value} is outside 0..{largest}")
    digits = 12 if header.protocol_version is None else 20
    if len(header.phone) != digits or not all(c in "0123456789abcdefABCDEF" for c in header.phone):
        raise Jt808Error(f"phone {header.phone!r} is not {digits} BCD digits")
    attributes = len(body) | header.encryption << 10
    if header.subpackage is not None:
        attributes |= SUBPACKAGE_FLAG
    out = bytearray()
    if header.protocol_version is None:
        out += struct.pack(">HH", header.message_id, attributes)
    else:
        out += struct.pack(
            ">HHB", header.message_id, attributes | VERSION_FLAG, header.protocol_version
        )
    out += bytes.fromhex(header.phone) + struct.pack(">H", header.serial)
    if header.subpackage is not None:
        out += struct.pack(">HH", *header.subpackage)
    out += body
    out.append(check_code(bytes(out)))
    return bytes([DELIMITER]) + escape(bytes(out)) + bytes([DELIMITER])


def _reply_header(request: Header, message_id: int, serial: int) -> Header:
    return Header(
        message_id=message_id,
        phone=request.phone,
        serial=serial,
        protocol_version=request.protocol_version,
    )


def encode_general_response(
    request: Header, *, serial: int, result: Result = Result.SUCCESS
) -> bytes:
    """Platform general response 0x8001 to the terminal message with header ``request``;
    ``serial`` is the platform's own serial number (see `SerialCounter`)."""
    body = struct.pack(">HHB", request.serial, request.message_id, result)
    return encode_frame(_reply_header(request, 0x8001, serial), body)


def encode_registration_response(
    request: Header,
    *,
    serial: int,
    result: RegistrationResult,
    auth_code: str = "",
) -> bytes:
    """Registration response 0x8100; the authentication code goes with success only."""
    if (result == RegistrationResult.SUCCESS) != bool(auth_code):
        raise Jt808Error(
            f"auth code {auth_code!r} must be given with success only, result is {result.name}"
        )
    try:
        code = auth_code.encode("gbk")
    except UnicodeEncodeError:
        raise Jt808Error(f"auth code {auth_code!r} is not GBK text") from None
    body = struct.pack(">HB", request.serial, result) + code
    return encode_frame(_reply_header(request, 0x8100, serial), body)


class SerialCounter:
    """The platform's message serial numbers towards one terminal: 0, 1, … 65535, 0, …"""

    def __init__(self, start: int = 0) -> None:
        self._next = start & 0xFFFF

    def next(self) -> int:
        serial = self._next
        self._next = (serial + 1) & 0xFFFF
        return serial
