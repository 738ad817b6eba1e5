"""Decoding the OsmAnd protocol of phone apps."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.osmand import fix_from_fields, fix_from_json, parse_time

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_the_classic_query_form() -> None:
    # the fields Traccar Client sends (speed in knots)
    raw = fix_from_fields(
        {
            "id": "123456",
            "lat": "45.745",
            "lon": "126.65",
            "timestamp": "1764417600",
            "speed": "10",
            "bearing": "90.5",
            "altitude": "150",
            "accuracy": "8",
            "batt": "77",
        },
        now=NOW,
    )
    assert (raw.device_id, raw.lat, raw.lon) == ("123456", 45.745, 126.65)
    assert raw.at == datetime(2025, 11, 29, 12, 0, tzinfo=UTC)
    assert raw.speed_kph == pytest.approx(18.52)
    assert (raw.course_deg, raw.altitude_m, raw.accuracy_m, raw.battery_pct) == (90.5, 150, 8, 77)


def test_the_json_form_of_newer_traccar_clients() -> None:
    body = {
        "device_id": "abc",
        "location": {
            "timestamp": "2026-11-29T11:59:00.000Z",
            "coords": {
                "latitude": 45.7,
                "longitude": 126.6,
                "speed": 10,
                "heading": 45,
                "accuracy": 5,
                "altitude": 120,
            },
        },
        "battery": {"level": 0.5},
    }
    raw = fix_from_json(body, now=NOW)
    assert raw.at == datetime(2026, 11, 29, 11, 59, tzinfo=UTC)
    assert raw.speed_kph == pytest.approx(36.0)
    assert raw.battery_pct == 50


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1764417600", datetime(2025, 11, 29, 12, 0, tzinfo=UTC)),
        ("1764417600000", datetime(2025, 11, 29, 12, 0, tzinfo=UTC)),
        ("2026-11-29T12:00:00Z", datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
        ("2026-11-29T20:00:00+08:00", datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
    ],
)
def test_times(value: str, expected: datetime) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lat": "1", "lon": "2"}, "id (the device identifier) is required"),
        ({"id": "x", "lon": "2"}, "lat is required"),
        ({"id": "x", "lat": "north", "lon": "2"}, "lat must be a number, got 'north'"),
        ({"id": "x", "lat": "1", "lon": "inf"}, "lon must be a finite number"),
        ({"id": "x", "lat": "1", "lon": "2", "timestamp": "yesterday"}, "neither Unix time"),
        ({"id": "x", "lat": "1", "lon": "2", "timestamp": "1e30"}, "out of range"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        fix_from_fields(fields, now=NOW)


def test_bad_json_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"location\.coords is required"):
        fix_from_json({"device_id": "x"}, now=NOW)
    with pytest.raises(InvalidInput, match="must be an object"):
        fix_from_json([1, 2], now=NOW)


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        ({"altitude": "1e308"}, "altitude 1e+308 is out of range: it should be less than or equal"),
        ({"bearing": "360"}, "bearing 360 is out of range: it should be less than 360"),
        ({"accuracy": "20000"}, "accuracy 20000 is out of range"),
        ({"speed": "300"}, "speed 300 (555.6 converted) is out of range"),
        ({"batt": "250"}, "batt 250 is out of range: it should be less than or equal to 100"),
        ({"altitude": "-600"}, "altitude -600 is out of range: it should be greater than"),
    ],
)
def test_a_reading_out_of_its_range_is_named(reading: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        fix_from_fields({"id": "x", "lat": "45.7", "lon": "126.6", **reading}, now=NOW)


def test_a_negative_reading_is_none_and_a_low_place_is_real() -> None:
    # iOS reports -1 for a speed, course or accuracy it does not have, and a battery it cannot read
    readings = {"speed": "-1", "bearing": "-1", "accuracy": "-1", "batt": "-100", "altitude": "-28"}
    raw = fix_from_fields({"id": "x", "lat": "45.7", "lon": "126.6", **readings}, now=NOW)
    assert (raw.speed_kph, raw.course_deg, raw.accuracy_m, raw.battery_pct) == (None,) * 4
    assert raw.altitude_m == -28
    coords = {"latitude": 45.7, "longitude": 126.6, "heading": 400}
    with pytest.raises(InvalidInput, match="heading 400 is out of range"):
        fix_from_json({"device_id": "x", "location": {"coords": coords}}, now=NOW)
