"""Positions over MQTT: each device publishes to its own topic, ``<prefix>/<device id>/position``.

The payload is a JSON object: ``{"lat", "lon", "timestamp"}`` (Unix seconds or milliseconds, or
ISO 8601) and optionally ``speed_kph, course_deg, altitude_m, accuracy_m``. The subscriber
feeds the same pipeline as every other input and reconnects by itself when the broker goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlparse

import aiomqtt

from jiaoxun.errors import InvalidInput
from jiaoxun.inputs import json_from_body
from jiaoxun.tracking.osmand import (
    ACCURACY_M,
    ALTITUDE_M,
    COURSE_DEG,
    SPEED_KPH,
    parse_time,
    reading,
)
from jiaoxun.tracking.pipeline import RawFix, validate
from jiaoxun.tracking.service import Ingestor

log = logging.getLogger(__name__)
_OPTIONAL = {
    "speed_kph": SPEED_KPH,
    "course_deg": COURSE_DEG,
    "altitude_m": ALTITUDE_M,
    "accuracy_m": ACCURACY_M,
}


def fix_from_message(
    topic: str, payload: bytes, *, prefix: str, now: datetime
) -> tuple[RawFix, str | None]:
    """The fix in one MQTT message and the device secret it carries (``"key"``);
    `InvalidInput` names what is wrong with it."""
    parts = topic.split("/")
    if (
        topic.count("/") != prefix.count("/") + 2
        or not topic.startswith(prefix + "/")
        or parts[-1] != "position"
        or not parts[-2]
    ):
        raise InvalidInput(f"topic {topic!r} is not {prefix}/<device id>/position")
    try:
        body = json_from_body(payload)  # strict: no NaN, lone surrogate or deep nesting
    except InvalidInput as exc:
        raise InvalidInput(f"payload on {topic} is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"payload on {topic} must be a JSON object")
    for key, value in body.items():
        if key in ("lat", "lon", *_OPTIONAL) and (
            isinstance(value, bool) or not isinstance(value, int | float | None)
        ):
            raise InvalidInput(f"{key} on {topic} must be a number, got {value!r}")
    for key in ("lat", "lon"):
        if body.get(key) is None:
            raise InvalidInput(f"payload on {topic} lacks {key}")
    # the same plausible ranges as the OsmAnd readings (a negative one: no reading)
    readings = {
        key: reading(body, key, within=within, signed=key == "altitude_m")
        for key, within in _OPTIONAL.items()
    }
    at = parse_time(body["timestamp"]) if body.get("timestamp") is not None else now
    secret = body.get("key")
    raw = RawFix(
        device_id=parts[-2],
        lon=float(body["lon"]),
        lat=float(body["lat"]),
        at=at,
        source="mqtt",
        **readings,
    )
    return raw, secret if isinstance(secret, str) and secret else None


async def subscribe(
    url: str, ingestor: Ingestor, *, prefix: str, stats: Counter[str], retry_s: float = 2.0
) -> None:
    """Take positions from the broker at `url` (mqtt://host:port) until cancelled."""
    where = urlparse(url)
    while True:
        try:
            async with aiomqtt.Client(where.hostname or "127.0.0.1", where.port or 1883) as client:
                await client.subscribe(f"{prefix}/+/position", qos=1)
                stats["connected"] += 1
                async for message in client.messages:
                    _take(
                        str(message.topic),
                        bytes(message.payload or b""),
                        ingestor,
                        prefix=prefix,
                        stats=stats,
                    )
        except aiomqtt.MqttError as exc:
            stats["disconnected"] += 1
            log.warning("MQTT broker %s: %s; retrying in %.0f s", url, exc, retry_s)
            await asyncio.sleep(retry_s)


def _take(
    topic: str, payload: bytes, ingestor: Ingestor, *, prefix: str, stats: Counter[str]
) -> None:
    now = datetime.now(UTC)
    try:
        raw, key = fix_from_message(topic, payload, prefix=prefix, now=now)
    except InvalidInput as exc:
        stats["malformed messages"] += 1
        log.warning("%s", exc)
        return
    # anyone on the broker may publish on any topic: the payload must carry the device's secret
    if ingestor.identify(raw.device_id, secret=key, protocol="mqtt") is None:
        ingestor.stats.rejected["unrecognised device"] += 1
        return
    reason = validate(raw, now=now, limits=ingestor.limits)
    if reason is not None:
        ingestor.stats.rejected[reason] += 1
        return
    stats["positions"] += 1
    ingestor.submit([raw])
