"""JT/T 808 framing: split a terminal's TCP stream into frames, read headers, write replies.

A JT/T 808 frame is a letter in an envelope sealed at both ends with 0x7E: inside are a header
(message id, body attributes, the terminal's phone number in BCD, a serial number), the body and
a one-byte XOR check code. A 0x7E or 0x7D inside is escaped as 0x7D 0x02 or 0x7D 0x01. The
2011/2013 header carries a 6-byte phone number; the 2019 header sets bit 14 of the body
attributes, adds a protocol-version byte and widens the phone number to 10 bytes.

`FrameSplitter` turns arriving bytes into unescaped frames, `decode_frame` checks one and reads
its header, and `jiaoxun.tracking.jt808_messages.decode_message` reads the body. Every malformed
input raises `Jt808Error` and nothing else. Nothing here opens sockets or keeps global state.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from jiaoxun.errors import InvalidInput

DELIMITER = 0x7E
ESCAPE = 0x7D
MAX_BODY_BYTES = 0x3FF  # body length is a 10-bit field
HEADER_2013_BYTES = 12
HEADER_2019_BYTES = 17
SUBPACKAGE_BYTES = 4
MIN_FRAME_BYTES = HEADER_2013_BYTES + 1
# the largest legal frame (2019 header, subpackage fields, full body, check code) with every
# byte escaped into two: anything longer between delimiters is not a frame
MAX_FRAME_BYTES = 2 * (HEADER_2019_BYTES + SUBPACKAGE_BYTES + MAX_BODY_BYTES + 1)

VERSION_FLAG = 1 << 14
SUBPACKAGE_FLAG = 1 << 13


class Jt808Error(InvalidInput):
    """A JT/T 808 frame or message breaks the standard; the message names the rule and value."""


class UnsupportedMessage(Jt808Error):
    """A well-formed frame this codec does not read (unknown id, encrypted or subpackaged)."""


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
    """A checked frame: its header and its raw body."""

    header: Header
    body: bytes


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


def check_code(data: bytes) -> int:
    """XOR of all bytes: the check code of header + body."""
    code = 0
    for byte in data:
        code ^= byte
    return code


def escape(data: bytes) -> bytes:
    """Escape 0x7D as 0x7D 0x01 (first) and 0x7E as 0x7D 0x02."""
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Undo `escape`; a 0x7D followed by anything but 0x01 or 0x02 is an error."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == DELIMITER:
            raise Jt808Error(f"unescaped 0x7e at offset {i} inside a frame")
        if byte == ESCAPE:
            follower = data[i + 1] if i + 1 < len(data) else None
            if follower not in (0x01, 0x02):
                shown = "end of frame" if follower is None else f"0x{follower:02x}"
                raise Jt808Error(f"escape 0x7d at offset {i} is followed by {shown}, not 0x01/0x02")
            out.append(ESCAPE if follower == 0x01 else DELIMITER)
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out)


class FrameSplitter:
    """Cuts a terminal's TCP byte stream into unescaped frames (header + body + check code).

    Feed bytes as they arrive; each call returns the frames completed so far. Every 0x7E is a
    boundary, so one lost delimiter costs at most one frame. Bytes before the first delimiter
    and scraps too short to be a frame count in ``skipped_bytes``; a frame longer than
    ``max_frame_bytes`` (escaped) is dropped at once and counted in ``dropped_oversized``, one
    with a broken escape in ``dropped_bad_escape``.
    """

    def __init__(self, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < MIN_FRAME_BYTES:
            raise Jt808Error(f"max_frame_bytes {max_frame_bytes} is below {MIN_FRAME_BYTES}")
        self.max_frame_bytes = max_frame_bytes
        self.skipped_bytes = 0
        self.dropped_oversized = 0
        self.dropped_bad_escape = 0
        self._buffer = bytearray()
        self._in_frame = False  # a delimiter has been seen
        self._discarding = False  # the current frame is oversized: skip to the next delimiter

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they complete, in order."""
        frames: list[bytes] = []
        pos = 0
        while pos <= len(data):
            end = data.find(DELIMITER, pos)
            piece = data[pos : end if end >= 0 else len(data)]
            if not self._in_frame:
                self.skipped_bytes += len(piece)
            elif not self._discarding:
                self._buffer += piece[: self.max_frame_bytes + 1 - len(self._buffer)]
                if len(self._buffer) > self.max_frame_bytes:
                    self.dropped_oversized += 1
                    self._buffer.clear()
                    self._discarding = True
            if end < 0:
                break
            self._end_frame(frames)
            pos = end + 1
        return frames

    def _end_frame(self, frames: list[bytes]) -> None:
        if self._in_frame and not self._discarding and self._buffer:
            try:
                frame = unescape(bytes(self._buffer))
            except Jt808Error:
                self.dropped_bad_escape += 1
            else:
                if len(frame) < MIN_FRAME_BYTES:
                    self.skipped_bytes += len(self._buffer)
                else:
                    frames.append(frame)
        self._buffer.clear()
        self._in_frame = True
        self._discarding = False


def decode_frame(data: bytes) -> Frame:
    """Check an unescaped frame (header + body + check code) and read its header."""
    if len(data) < MIN_FRAME_BYTES:
        raise Jt808Error(
            f"frame of {len(data)} bytes is shorter than the minimum {MIN_FRAME_BYTES}"
        )
    content, code = data[:-1], data[-1]
    if check_code(content) != code:
        raise Jt808Error(f"check code 0x{code:02x} does not match 0x{check_code(content):02x}")
    message_id, attributes = struct.unpack_from(">HH", content)
    protocol_version: int | None = None
    if attributes & VERSION_FLAG:
        if len(content) < HEADER_2019_BYTES:
            raise Jt808Error(
                f"2019 header needs {HEADER_2019_BYTES} bytes, frame has {len(content)}"
            )
        protocol_version, phone, pos = content[4], content[5:15].hex(), 15
    else:
        phone, pos = content[4:10].hex(), 10
    serial = int.from_bytes(content[pos : pos + 2])
    pos += 2
    subpackage = None
    if attributes & SUBPACKAGE_FLAG:
        if len(content) < pos + SUBPACKAGE_BYTES:
            raise Jt808Error(f"subpackage fields end at byte {pos + 4}, frame has {len(content)}")
        subpackage = Subpackage(*struct.unpack_from(">HH", content, pos))
        pos += SUBPACKAGE_BYTES
        if not 1 <= subpackage.number <= subpackage.total:
            raise Jt808Error(f"subpackage number {subpackage.number} outside 1..{subpackage.total}")
    body_length = attributes & MAX_BODY_BYTES
    if pos + body_length != len(content):
        raise Jt808Error(
            f"body length {body_length} does not match the {len(content) - pos} bytes after "
            "the header"
        )
    header = Header(
        message_id=message_id,
        phone=phone,
        serial=serial,
        protocol_version=protocol_version,
        encryption=(attributes >> 10) & 0b111,
        subpackage=subpackage,
    )
    return Frame(header=header, body=content[pos:])


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
