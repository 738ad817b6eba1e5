"""The OsmAnd HTTP protocol of phone apps such as Traccar Client: decode a request to a fix.

The classic form is a GET or POST with query or form fields ``id, lat, lon, timestamp, speed,
bearing, altitude, accuracy, batt`` (speed in knots, timestamp in Unix seconds or milliseconds
or ISO 8601). Newer Traccar Client versions POST JSON: ``{"device_id", "location": {"timestamp",
"coords": {"latitude", "longitude", "speed" (m/s), "heading", "altitude", "accuracy"}},
"battery": {"level"}}``. Both give a `RawFix`; anything unusable raises `InvalidInput`.

Each reading must be a finite number in its plausible range (`jiaoxun.inputs`); a negative
speed, bearing, accuracy or battery level is the phone saying it has none (iOS sends -1), and
is taken as missing. Latitude and longitude are judged by the pipeline, which counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from jiaoxun.errors import InvalidInput
from jiaoxun.inputs import AccuracyM, AltitudeM, BatteryPct, CourseDeg, SpeedKph
from jiaoxun.tracking.pipeline import RawFix

KNOTS_TO_KPH = 1.852
MPS_TO_KPH = 3.6

SPEED_KPH = TypeAdapter[float](SpeedKph)
COURSE_DEG = TypeAdapter[float](CourseDeg)
ALTITUDE_M = TypeAdapter[float](AltitudeM)
ACCURACY_M = TypeAdapter[float](AccuracyM)
BATTERY_PCT = TypeAdapter[float](BatteryPct)


def _number(fields: Mapping[str, Any], *names: str, required: bool = False) -> float | None:
    for name in names:
        value = fields.get(name)
        if value not in (None, ""):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"{name} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise InvalidInput(f"{name} must be a finite number, got {value!r}")
            return number
    if required:
        raise InvalidInput(f"{names[0]} is required")
    return None


def reading(
    fields: Mapping[str, Any],
    *names: str,
    within: TypeAdapter[float],
    scale: float = 1.0,
    signed: bool = False,
) -> float | None:
    """The first of `names` given, times `scale`, checked against its range `within`; None
    when none is given, or when it is negative and not `signed` (the phone has no reading)."""
    number = _number(fields, *names)
    if number is None or (number < 0 and not signed):
        return None
    try:
        return within.validate_python(number * scale)
    except ValidationError as exc:
        name = next(n for n in names if fields.get(n) not in (None, ""))
        rule = exc.errors()[0]["msg"].removeprefix("Input should be ")
        sent = f"{number:g}" if scale == 1 else f"{number:g} ({number * scale:g} converted)"
        raise InvalidInput(f"{name} {sent} is out of range: it should be {rule}") from None


def parse_time(value: Any) -> datetime:
    """Unix seconds, Unix milliseconds, or ISO 8601 (UTC when no offset is given)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"timestamp {text!r} is neither Unix time nor ISO 8601") from None
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    seconds = number / 1000 if number > 1e11 else number  # milliseconds since 1973…
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(f"timestamp {text!r} is out of range") from None


def fix_from_fields(fields: Mapping[str, Any], *, now: datetime) -> RawFix:
    """The classic form: query or form fields."""
    device = str(fields.get("id") or fields.get("deviceid") or "").strip()
    if not device:
        raise InvalidInput("id (the device identifier) is required")
    return RawFix(
        device_id=device,
        lat=_number(fields, "lat", "latitude", required=True) or 0.0,
        lon=_number(fields, "lon", "lng", "longitude", required=True) or 0.0,
        at=parse_time(fields["timestamp"]) if fields.get("timestamp") else now,
        speed_kph=reading(fields, "speed", within=SPEED_KPH, scale=KNOTS_TO_KPH),
        course_deg=reading(fields, "bearing", "heading", within=COURSE_DEG),
        altitude_m=reading(fields, "altitude", within=ALTITUDE_M, signed=True),
        accuracy_m=reading(fields, "accuracy", "hdop", within=ACCURACY_M),
        battery_pct=reading(fields, "batt", "battery", within=BATTERY_PCT),
        source="osmand",
    )


def fix_from_json(body: Any, *, now: datetime) -> RawFix:
    """The JSON form of newer Traccar Client versions."""
    if not isinstance(body, dict):
        raise InvalidInput("the JSON body must be an object")
    location = body.get("location")
    if not isinstance(location, dict) or not isinstance(location.get("coords"), dict):
        raise InvalidInput("location.coords is required in the JSON body")
    coords = location["coords"]
    battery: dict[str, Any] = body["battery"] if isinstance(body.get("battery"), dict) else {}
    level = _number(battery, "level")
    return RawFix(
        device_id=str(body.get("device_id") or "").strip()
        or _raise(InvalidInput("device_id is required in the JSON body")),
        lat=_number(coords, "latitude", required=True) or 0.0,
        lon=_number(coords, "longitude", required=True) or 0.0,
        at=parse_time(location["timestamp"]) if location.get("timestamp") else now,
        speed_kph=reading(coords, "speed", within=SPEED_KPH, scale=MPS_TO_KPH),
        course_deg=reading(coords, "heading", within=COURSE_DEG),
        altitude_m=reading(coords, "altitude", within=ALTITUDE_M, signed=True),
        accuracy_m=reading(coords, "accuracy", within=ACCURACY_M),
        # a fraction (0.5), or a percentage from some clients
        battery_pct=reading(
            battery,
            "level",
            within=BATTERY_PCT,
            scale=100 if level is not None and level <= 1 else 1,
        ),
        source="osmand",
    )


def _raise(error: Exception) -> str:
    raise error
