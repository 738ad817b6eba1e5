"""The OsmAnd HTTP protocol of phone apps such as Traccar Client: decode a request to a fix.

The classic form is a GET or POST with query or form fields ``id, lat, lon, timestamp, speed,
bearing, altitude, accuracy, batt`` (speed in knots, timestamp in Unix seconds or milliseconds
or ISO 8601). Newer Traccar Client versions POST JSON: ``{"device_id", "location": {"timestamp",
"coords": {"latitude", "longitude", "speed" (m/s), "heading", "altitude", "accuracy"}},
"battery": {"level"}}``. Both give a `RawFix`; anything unusable raises `InvalidInput`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.pipeline import RawFix

KNOTS_TO_KPH = 1.852
MPS_TO_KPH = 3.6


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
    speed = _number(fields, "speed")
    battery = _number(fields, "batt", "battery")
    return RawFix(
        device_id=device,
        lat=_number(fields, "lat", "latitude", required=True) or 0.0,
        lon=_number(fields, "lon", "lng", "longitude", required=True) or 0.0,
        at=parse_time(fields["timestamp"]) if fields.get("timestamp") else now,
        speed_kph=speed * KNOTS_TO_KPH if speed is not None else None,
        course_deg=_number(fields, "bearing", "heading"),
        altitude_m=_number(fields, "altitude"),
        accuracy_m=_number(fields, "accuracy", "hdop"),
        battery_pct=battery,
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
    speed = _number(coords, "speed")
    battery = body.get("battery")
    level = _number(battery, "level") if isinstance(battery, dict) else None
    return RawFix(
        device_id=str(body.get("device_id") or "").strip()
        or _raise(InvalidInput("device_id is required in the JSON body")),
        lat=_number(coords, "latitude", required=True) or 0.0,
        lon=_number(coords, "longitude", required=True) or 0.0,
        at=parse_time(location["timestamp"]) if location.get("timestamp") else now,
        speed_kph=speed * MPS_TO_KPH if speed is not None and speed >= 0 else None,
        course_deg=_number(coords, "heading"),
        altitude_m=_number(coords, "altitude"),
        accuracy_m=_number(coords, "accuracy"),
        battery_pct=level * 100 if level is not None and level <= 1 else level,
        source="osmand",
    )


def _raise(error: Exception) -> str:
    raise error
