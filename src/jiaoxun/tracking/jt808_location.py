"""JT/T 808 positions: the location report body (0x0200), its additional items, the batch (0x0704).

A location body is a fixed part of 28 bytes (alarm and status flags, latitude, longitude,
altitude, speed, direction, BCD time) followed by additional items (id, length, value). Like a
letter whose postscript is smudged, a report whose fixed part is sound is kept even when its
items bend the standard, as Traccar's decoder keeps it: the last item shorter than its declared
length, a repeated item id, a standard item of the wrong size. Each such bend becomes a `Fault`
on the `Location`. A fixed part that is short or out of range (latitude above 90°, direction
above 359°, a time that is no time) loses the report.

Positions are WGS-84 degrees as the standard gives them (never GCJ-02) and times are UTC: the
terminal's BCD clock reads Beijing time (UTC+8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import IntFlag

from jiaoxun.tracking.jt808 import BodyReader, Fault, Jt808Error, Leniency

BEIJING = timezone(timedelta(hours=8))
FIXED_BYTES = 28
MILEAGE_ITEM = 0x01


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
class Location:
    """0x0200: one position. ``items`` are the additional information items, id → raw bytes;
    ``faults`` what the report did against the standard and was forgiven."""

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
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class LocationBatch:
    """0x0704: positions sent together; ``backfill`` when they were stored in a blind area.
    ``faults`` covers the batch itself (a count that differs, a position left out)."""

    backfill: bool
    locations: tuple[Location, ...]
    faults: tuple[Fault, ...] = ()


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


def _items(raw: bytes) -> tuple[dict[int, bytes], list[Fault]]:
    """The additional items, and the faults read past: the first of a repeated id is kept, a
    last item cut short is left out."""
    items: dict[int, bytes] = {}
    faults: list[Fault] = []
    pos = 0
    while pos < len(raw):
        if pos + 2 > len(raw):
            detail = "1 byte after the last additional item, too short for an item header"
            faults.append(Fault(Leniency.SHORT_LAST_ITEM, detail))
            break
        item_id, size = raw[pos], raw[pos + 1]
        value = raw[pos + 2 : pos + 2 + size]
        pos += 2 + size
        if len(value) < size:
            detail = f"item 0x{item_id:02x} declares {size} bytes, {len(value)} remain"
            faults.append(Fault(Leniency.SHORT_LAST_ITEM, detail))
        elif item_id in items:
            detail = f"item 0x{item_id:02x} repeated; the first is kept"
            faults.append(Fault(Leniency.REPEATED_ITEM, detail))
        else:
            items[item_id] = value
    return items, faults


def _mileage_km(items: dict[int, bytes], faults: list[Fault]) -> float | None:
    raw = items.get(MILEAGE_ITEM)
    if raw is None:
        return None
    if len(raw) != 4:
        faults.append(Fault(Leniency.ITEM_SIZE, f"mileage item 0x01 has {len(raw)} bytes, not 4"))
        return None
    return int.from_bytes(raw) / 10


def location_from_body(body: bytes) -> Location:
    """Read a location report body (0x0200, or one item of 0x0704)."""
    reader = BodyReader(body[:FIXED_BYTES], "location")
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
    items, faults = _items(body[FIXED_BYTES:])
    mileage_km = _mileage_km(items, faults)
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
        faults=tuple(faults),
    )


def batch_from_body(body: bytes) -> LocationBatch:
    """Read a batch location upload body (0x0704). Each position stands on its own: one whose
    fixed part is unsound is left out (a fault), the others are kept; a batch with none left
    is an error."""
    reader = BodyReader(body, "batch location")
    count, kind = reader.u16("count"), reader.u8("type")
    if kind > 1:
        raise Jt808Error(f"batch location type {kind} is neither 0 (normal) nor 1 (blind area)")
    locations: list[Location] = []
    faults: list[Fault] = []
    found = 0
    while reader.remaining >= 2:
        found += 1
        size = reader.u16(f"length of location {found}")
        item = reader.take(min(size, reader.remaining), f"location {found}")
        if len(item) < size:
            detail = f"location {found} declares {size} bytes, {len(item)} remain"
            faults.append(Fault(Leniency.SHORT_LAST_ITEM, detail))
        try:
            locations.append(location_from_body(item))
        except Jt808Error as exc:
            faults.append(Fault(Leniency.DROPPED_POSITION, f"location {found}: {exc}"))
    if reader.remaining:
        faults.append(Fault(Leniency.SHORT_LAST_ITEM, "1 byte after the last location"))
    if found != count:
        detail = f"batch count says {count}, the body holds {found}"
        faults.append(Fault(Leniency.BATCH_COUNT, detail))
    if not locations and (count or found):
        reasons = "; ".join(f.detail for f in faults)
        raise Jt808Error(f"batch of {count} locations holds no sound one ({reasons})")
    return LocationBatch(backfill=kind == 1, locations=tuple(locations), faults=tuple(faults))
