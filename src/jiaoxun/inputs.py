"""What comes in: the base of every request body, JSON read strictly, and the plausible ranges of
the numbers and times a caller may send.

A request body refuses unknown fields, text holding a NUL character (PostgreSQL cannot store
one, and no caller means one) and numbers that are not finite. JSON text is read as RFC 8259 and
I-JSON (RFC 7493) want it: UTF-8, no NaN or Infinity, numbers a double can hold, no lone UTF-16
surrogate, no name twice in an object, and (our rule) at most 32 levels of nesting. Anything
else is refused with the rule it broke, before a route sees it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from jiaoxun.errors import InvalidInput

#: arrays and objects inside each other; our bodies need 4
MAX_JSON_DEPTH = 32
#: the integers a double holds exactly (I-JSON, RFC 7493 §2.2)
MAX_JSON_INT = 2**53 - 1
#: how far ahead of our clock a caller's clock may run
CLOCK_SKEW = timedelta(seconds=60)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)  # one, to its end if open
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("text must not contain NUL (\\x00) characters")
        return value


def json_from_body(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The value of the JSON text `body`, read strictly (see the module); `InvalidInput` names
    the rule a text breaks."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"JSON text must be UTF-8 (RFC 8259 §8.1): byte {exc.start} is 0x{body[exc.start]:02x}"
        ) from None
    _check_depth(text, max_depth)
    try:
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the body is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    # a surrogate can only come from a \u escape: most texts have none and need no second look
    if _SURROGATE_ESCAPE.search(text):
        lone = _SURROGATE.search(json.dumps(value, ensure_ascii=False))
        if lone:
            raise InvalidInput(
                f"JSON strings must be Unicode text: {lone.group()!r} is half of a UTF-16 "
                "surrogate pair (RFC 8259 §8.2)"
            )
    return value


def _check_depth(text: str, max_depth: int) -> None:
    # brackets outside strings, counted before a recursive parser sees them
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > max_depth:
            raise InvalidInput(f"JSON nests deeper than {max_depth} arrays and objects")


def _constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not a JSON number: numbers must be finite (RFC 8259 §6)")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InvalidInput(f"number {text[:40]} is beyond the range of a double (RFC 7493 §2.2)")
    return number


def _int(text: str) -> int:
    if len(text) > 17 or abs(number := int(text)) > MAX_JSON_INT:
        raise InvalidInput(
            f"integer {text[:40]} is beyond ±{MAX_JSON_INT} (2^53 - 1, RFC 7493 §2.2)"
        )
    return number


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) < len(pairs):
        twice = next(name for name, n in Counter(name for name, _ in pairs).items() if n > 1)
        raise InvalidInput(f"name {twice!r} appears twice in one JSON object (RFC 7493 §2.3)")
    return value


# the plausible readings of a position; outside them a device is broken or forged
Lon = Annotated[float, Field(ge=-180, le=180, description="WGS-84 longitude, degrees")]
Lat = Annotated[float, Field(ge=-90, le=90, description="WGS-84 latitude, degrees")]
SpeedKph = Annotated[float, Field(ge=0, le=500, description="km/h")]
CourseDeg = Annotated[float, Field(ge=0, lt=360, description="degrees clockwise from north")]
AltitudeM = Annotated[float, Field(ge=-500, le=10_000, description="metres above sea level")]
AccuracyM = Annotated[float, Field(ge=0, le=10_000, description="metres")]
BatteryPct = Annotated[float, Field(ge=0, le=100, description="percent")]

#: the times jiaoxun stores: anything else is a typo or a broken clock
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _in_era(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time {value.isoformat()} is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"time {value.isoformat()} is not between {EARLIEST:%Y} and {LATEST:%Y} (UTC)"
        )
    return value


#: an ISO 8601 time with its offset, between 1970 and 2100
Instant = Annotated[AwareDatetime, AfterValidator(_in_era)]


def recent(
    at: datetime, *, name: str, now: datetime, max_age: timedelta, skew: timedelta = CLOCK_SKEW
) -> datetime:
    """`at` if it lies within `max_age` before `now` and no more than `skew` after it."""
    if at > now + skew:
        raise InvalidInput(
            f"{name} {at.isoformat()} lies in the future (now {now.isoformat()}; "
            f"clocks may differ by {skew.total_seconds():.0f} s)"
        )
    if at < now - max_age:
        raise InvalidInput(
            f"{name} {at.isoformat()} is more than {max_age.total_seconds() / 3600:g} h "
            f"before now ({now.isoformat()})"
        )
    return at
