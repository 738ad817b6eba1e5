"""The ingestion pipeline: every position from every device passes the same ordered steps.

validate → order and de-duplicate per device → reject impossible jumps → snap to the road, then
(in the service) geofences → live fleet state → persist in batches → publish. Like a sorting
line at a post office, each step is a small pure function that passes a fix on or sets it aside
with a reason; the reasons are counted, so that a misbehaving device shows up in the figures
instead of in the map. A step's state is per device, held in a `DeviceTrack` the caller keeps.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.snap import Snapper


@dataclass(frozen=True)
class RawFix:
    """A position as a device sent it, from any protocol (WGS-84 degrees, UTC time)."""

    device_id: str
    lon: float
    lat: float
    at: datetime
    speed_kph: float | None = None
    course_deg: float | None = None
    altitude_m: float | None = None
    accuracy_m: float | None = None
    battery_pct: float | None = None
    source: str = ""  # osmand, jt808, mqtt, batch


@dataclass(frozen=True)
class Fix:
    """A position that passed the pipeline, snapped to the road where it lies near one."""

    device_id: str
    lon: float
    lat: float
    at: datetime
    speed_kph: float | None
    course_deg: float | None
    altitude_m: float | None
    accuracy_m: float | None
    source: str
    edge: int = -1  # -1: not on the road network (farther than the snapping limit)
    fraction: float = 0.0
    snap_distance_m: float = math.inf


@dataclass
class DeviceTrack:
    """What the pipeline remembers of one device: its last accepted fix, and the fix it last
    refused as a jump (the start of a run that may prove the accepted one wrong)."""

    last: Fix | None = None
    jumped: Fix | None = None


@dataclass(frozen=True)
class Limits:
    """The rules of the pipeline; see each step."""

    # a receiver's clock is set by the satellites: a fix from the future is forged or broken
    future: timedelta = timedelta(seconds=10)
    max_age: timedelta = timedelta(days=7)  # older fixes belong to a replay, not to live data
    max_speed_kph: float = 250.0  # faster than any police car: a jump, not a drive
    max_accuracy_m: float = 500.0  # a phone fix worse than this says nothing useful


DEFAULT_LIMITS = Limits()


@dataclass
class Outcome:
    """What became of a batch: the accepted fixes, the counted reasons for the rest, and each
    refused fix with its reason (so that a device can be told)."""

    accepted: list[Fix] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[RawFix, str]] = field(default_factory=list)


def validate(raw: RawFix, *, now: datetime, limits: Limits) -> str | None:
    """The reason `raw` is unusable, or None."""
    if not raw.device_id:
        return "no device id"
    if not (math.isfinite(raw.lat) and -90 <= raw.lat <= 90):
        return "latitude out of range"
    if not (math.isfinite(raw.lon) and -180 <= raw.lon <= 180):
        return "longitude out of range"
    if raw.lat == 0 and raw.lon == 0:
        return "null island (no GPS fix)"
    if raw.at.tzinfo is None:
        return "time without time zone"
    if raw.at > now + limits.future:
        return "time in the future"
    if raw.at < now - limits.max_age:
        return "time too old"
    if raw.speed_kph is not None and not (0 <= raw.speed_kph <= limits.max_speed_kph):
        return "speed out of range"
    if raw.accuracy_m is not None and raw.accuracy_m > limits.max_accuracy_m:
        return "accuracy too poor"
    return None


def in_order(track: DeviceTrack, fix: Fix) -> str | None:
    """Refuse a fix not newer than the device's last one: a duplicate (a retry of it), two
    places at one time, or out of order."""
    if track.last is None:
        return None
    if fix.at == track.last.at:
        same = (fix.lon, fix.lat) == (track.last.lon, track.last.lat)
        return "duplicate" if same else "another place at the same time"
    if fix.at < track.last.at:
        return "out of order"
    return None


def _reachable(a: Fix, b: Fix, *, limits: Limits) -> bool:
    seconds = (b.at - a.at).total_seconds()
    metres = float(haversine_m(np.array(a.lon), np.array(a.lat), np.array(b.lon), np.array(b.lat)))
    return metres <= 50 or (seconds > 0 and metres / seconds * 3.6 <= limits.max_speed_kph)


def plausible(track: DeviceTrack, fix: Fix, *, limits: Limits) -> str | None:
    """Refuse a fix the car could not have reached from its last one at a plausible speed.

    An isolated jump is dropped. But two fixes in a row that agree with each other and not
    with the last accepted one say that one was the glitch: the second is accepted, so that a
    single wrong fix cannot lock a car out until time makes any place reachable.
    """
    last = track.last
    if last is None or _reachable(last, fix, limits=limits):
        track.jumped = None
        return None
    if track.jumped is not None and _reachable(track.jumped, fix, limits=limits):
        track.jumped = None
        return None  # a run of consistent fixes outvotes the one accepted before it
    track.jumped = fix
    return "impossible jump"


def _as_fix(raw: RawFix) -> Fix:
    return Fix(
        raw.device_id,
        raw.lon,
        raw.lat,
        raw.at,
        raw.speed_kph,
        raw.course_deg,
        raw.altitude_m,
        raw.accuracy_m,
        raw.source,
    )


def snap_fixes(fixes: Sequence[Fix], snapper: Snapper) -> list[Fix]:
    """Snap a batch to the road in one vectorised query; far fixes keep edge -1."""
    if not fixes:
        return []
    snaps = snapper.snap_many(
        np.array([f.lon for f in fixes]), np.array([f.lat for f in fixes]), strict=False
    )
    on_road = snaps.distance_m <= snapper.max_snap_m
    return [
        replace(
            f,
            edge=int(snaps.edge[i]),
            fraction=float(snaps.fraction[i]),
            snap_distance_m=float(snaps.distance_m[i]),
        )
        if on_road[i]
        else replace(f, snap_distance_m=float(snaps.distance_m[i]))
        for i, f in enumerate(fixes)
    ]


def run(
    raws: Sequence[RawFix],
    tracks: dict[str, DeviceTrack],
    *,
    snapper: Snapper,
    now: datetime,
    limits: Limits = DEFAULT_LIMITS,
) -> Outcome:
    """Pass a batch through validate → order → plausibility → snap, updating `tracks`."""
    outcome = Outcome()
    passed: list[Fix] = []
    for raw in sorted(raws, key=lambda r: (r.device_id, r.at)):
        reason = validate(raw, now=now, limits=limits)
        if reason is None:
            fix = _as_fix(raw)
            track = tracks.setdefault(raw.device_id, DeviceTrack())
            reason = in_order(track, fix) or plausible(track, fix, limits=limits)
        if reason is not None:
            outcome.rejected[reason] += 1
            outcome.refused.append((raw, reason))
            continue
        track.last = fix
        passed.append(fix)
    outcome.accepted = snap_fixes(passed, snapper)
    for fix in outcome.accepted:  # remember the snapped version
        tracks[fix.device_id].last = fix
    return outcome
