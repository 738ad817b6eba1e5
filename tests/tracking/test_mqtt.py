"""Decoding positions published over MQTT."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.tracking.mqtt import fix_from_message

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PREFIX = "jiaoxun/devices"


def test_a_position() -> None:
    raw, key = fix_from_message(
        "jiaoxun/devices/car-7/position",
        b'{"lat": 45.75, "lon": 126.64, "timestamp": 1764417600, "speed_kph": 42.5, "key": "s3"}',
        prefix=PREFIX,
        now=NOW,
    )
    assert key == "s3"
    assert (raw.device_id, raw.lat, raw.lon, raw.speed_kph) == ("car-7", 45.75, 126.64, 42.5)
    assert raw.at == datetime(2025, 11, 29, 12, 0, tzinfo=UTC)
    assert raw.source == "mqtt"


@pytest.mark.parametrize(
    ("topic", "payload", "words"),
    [
        ("jiaoxun/devices/car-7/status", b"{}", "is not jiaoxun/devices/<device id>/position"),
        ("jiaoxun/devices//position", b"{}", "is not jiaoxun/devices"),
        ("other/car-7/position", b"{}", "is not jiaoxun/devices"),
        ("jiaoxun/devices/car-7/position", b"\xff\xfe", "is not JSON"),
        ("jiaoxun/devices/car-7/position", b"[" * 100_000, "nests deeper than 32"),
        ("jiaoxun/devices/car-7/position", b'{"lat": NaN, "lon": 1}', "NaN is not a JSON number"),
        ("jiaoxun/devices/car-7/position", b"[1, 2]", "must be a JSON object"),
        ("jiaoxun/devices/car-7/position", b'{"lon": 126}', "lacks lat"),
        ("jiaoxun/devices/car-7/position", b'{"lat": "x", "lon": 1}', "lat on"),
        ("jiaoxun/devices/car-7/position", b'{"lat": true, "lon": 1}', "must be a number"),
    ],
)
def test_bad_messages_are_named(topic: str, payload: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words.replace("(", r"\(")):
        fix_from_message(topic, payload, prefix=PREFIX, now=NOW)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'{"lat": 45.7, "lon": 126.6, "course_deg": 1e308}', r"course_deg 1e\+308 is out"),
        (b'{"lat": 45.7, "lon": 126.6, "speed_kph": 9000}', "speed_kph 9000 is out of range"),
        (b'{"lat": 45.7, "lon": 126.6, "altitude_m": -9999}', "altitude_m -9999 is out of range"),
    ],
)
def test_implausible_readings_are_named(payload: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        fix_from_message("jiaoxun/devices/car-7/position", payload, prefix=PREFIX, now=NOW)


def test_a_negative_reading_is_no_reading() -> None:
    payload = b'{"lat": 45.7, "lon": 126.6, "speed_kph": -1, "course_deg": -1}'
    raw, _ = fix_from_message("jiaoxun/devices/car-7/position", payload, prefix=PREFIX, now=NOW)
    assert (raw.speed_kph, raw.course_deg) == (None, None)
