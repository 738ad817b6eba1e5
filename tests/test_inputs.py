"""Strict JSON, plausible readings and times: what `jiaoxun.inputs` lets in."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from jiaoxun.errors import InvalidInput
from jiaoxun.inputs import MAX_JSON_DEPTH, CourseDeg, Instant, json_from_body, recent

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": Infinity}', "Infinity is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"[1e309]", "number 1e309 is beyond the range of a double"),
        (b"[-1.5e400]", "number -1.5e400 is beyond the range of a double"),
        (b"[9007199254740992]", "integer 9007199254740992 is beyond ±9007199254740991"),
        (b"[" + b"9" * 5000 + b"]", "is beyond ±9007199254740991"),
        (b'{"username": "\\ud800"}', r"'\ud800' is half of a UTF-16 surrogate pair"),
        (b'["\\udfff"]', r"'\udfff' is half of a UTF-16 surrogate pair"),
        (b'{"\\uDBFF": 1}', r"'\udbff' is half"),
        (b'["\\ude00\\ud83d"]', "is half of a UTF-16 surrogate pair"),  # the pair reversed
        (b'["\xed\xa0\x80"]', "JSON text must be UTF-8 (RFC 8259 §8.1): byte 2 is 0xed"),
        (b'["\xff"]', "byte 2 is 0xff"),
        (b'{"a": 1, "b": {"c": 2, "c": 3}}', "name 'c' appears twice in one JSON object"),
        (b"[" * 1000 + b"]" * 1000, f"JSON nests deeper than {MAX_JSON_DEPTH}"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "JSON nests deeper than 32"),
        (b'{"a": 1', "the body is not JSON: Expecting ',' delimiter at line 1, column 8"),
        (b"\xef\xbb\xbf{}", "the body is not JSON: Unexpected UTF-8 BOM"),
    ],
)
def test_what_strict_json_refuses(text: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        json_from_body(text)
    assert message in str(refused.value)
    json.dumps(str(refused.value), ensure_ascii=False).encode()  # the message can be sent


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b'{"a": 1.5, "b": [true, null, "x"]}', {"a": 1.5, "b": [True, None, "x"]}),
        (b'["\\ud83d\\ude00", "\\u9ed1"]', ["😀", "黑"]),  # a pair is one character
        (b'["\\\\ud800"]', ["\\ud800"]),  # an escaped backslash, then text
        (b'["[[[[", "{{{{"]', ["[[[[", "{{{{"]),  # brackets in strings do not nest
        (b"[" * 32 + b"]" * 32, json.loads(b"[" * 32 + b"]" * 32)),  # as deep as allowed
        (b"[9007199254740991, -9007199254740991, 1e308]", [2**53 - 1, 1 - 2**53, 1e308]),
    ],
)
def test_what_strict_json_reads(text: bytes, value: object) -> None:
    assert json_from_body(text) == value


def test_a_megabyte_of_brackets_is_refused_at_once() -> None:
    # no recursion into them, and no quadratic scan of a text full of escaped quotes
    for text in (b"[" * 1_000_000, b'"\\"' * 350_000):
        start = time.perf_counter()
        with pytest.raises(InvalidInput):
            json_from_body(text)
        assert time.perf_counter() - start < 1.0


def test_a_reading_outside_its_range_names_the_rule() -> None:
    course = TypeAdapter[float](CourseDeg)
    assert course.validate_python(359.9) == 359.9
    with pytest.raises(ValidationError, match="less than 360"):
        course.validate_python(360)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0001-01-01T00:00:00Z", "is not between 1970 and 2100"),
        ("0001-01-01T00:00:00+23:59", "is out of range"),  # before year 1 in UTC
        ("9999-12-31T23:59:59-23:59", "is out of range"),
        ("2100-01-01T00:00:00Z", "is not between 1970 and 2100"),
        ("2026-11-29T12:00:00", "timezone"),
    ],
)
def test_an_instant_is_a_time_of_our_era(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Instant).validate_python(text)
    assert TypeAdapter(Instant).validate_python("2026-11-29T20:00:00+08:00") == NOW


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (NOW + timedelta(seconds=61), "lies in the future"),
        (NOW - timedelta(hours=24, seconds=1), "is more than 24 h before now"),
    ],
)
def test_recent_is_not_ahead_nor_long_ago(at: datetime, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        recent(at, name="call_at", now=NOW, max_age=timedelta(hours=24))
    for fine in (NOW + timedelta(seconds=60), NOW - timedelta(hours=24)):
        assert recent(fine, name="call_at", now=NOW, max_age=timedelta(hours=24)) == fine
