"""The ingestion pipeline's steps, each with a handful of hand-made positions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snapper
from jiaoxun.tracking.pipeline import DeviceTrack, Limits, RawFix, run, validate

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LIMITS = Limits()


def fix(
    lon: float = 126.65, lat: float = 45.745, *, s: float = 0, device: str = "d1", **kw: object
) -> RawFix:
    return RawFix(device, lon, lat, NOW + timedelta(seconds=s), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def snapper() -> Snapper:
    return Snapper(network_from_pbf(DEMO_PBF), max_snap_m=100.0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (fix(lat=91), "latitude out of range"),
        (fix(lon=float("nan")), "longitude out of range"),
        (fix(lon=0, lat=0), "null island (no GPS fix)"),
        (fix(s=11), "time in the future"),  # a fix 5 minutes ahead froze a car (issue 11)
        (fix(s=300), "time in the future"),
        (fix(s=-8 * 86400), "time too old"),
        (fix(speed_kph=400), "speed out of range"),
        (fix(accuracy_m=2000), "accuracy too poor"),
        (RawFix("d1", 126.65, 45.745, datetime(2026, 11, 29, 12)), "time without time zone"),
        (fix(device=""), "no device id"),
    ],
)
def test_validate_names_the_reason(raw: RawFix, reason: str) -> None:
    assert validate(raw, now=NOW, limits=LIMITS) == reason


def test_a_good_fix_passes_validation() -> None:
    assert validate(fix(s=-120, speed_kph=50, accuracy_m=10), now=NOW, limits=LIMITS) is None
    assert validate(fix(s=10), now=NOW, limits=LIMITS) is None  # a clock a little ahead


def test_duplicates_out_of_order_and_jumps_are_counted(snapper: Snapper) -> None:
    tracks: dict[str, DeviceTrack] = {}
    first = run(
        [fix(s=0), fix(s=10, lon=126.6505)], tracks, snapper=snapper, now=NOW + timedelta(minutes=1)
    )
    assert len(first.accepted) == 2
    later = run(
        [
            fix(s=10, lon=126.6505),  # the same again
            fix(s=5),  # older than the last accepted
            fix(s=20, lon=126.69),  # 3 km in 10 s: 1,000 km/h
            fix(s=30, lon=126.6510),  # 40 m in 20 s: fine
        ],
        tracks,
        snapper=snapper,
        now=NOW + timedelta(minutes=1),
    )
    assert later.rejected == {"duplicate": 1, "out of order": 1, "impossible jump": 1}
    assert [f.at for f in later.accepted] == [NOW + timedelta(seconds=30)]
    assert tracks["d1"].last is not None
    assert tracks["d1"].last.at == NOW + timedelta(seconds=30)


def test_two_places_at_one_time_is_no_duplicate(snapper: Snapper) -> None:
    """A resent fix is a duplicate; another place at the same second is a contradiction,
    and the device must hear which (a duplicate is answered OK, the other is not)."""
    tracks: dict[str, DeviceTrack] = {}
    run([fix(s=0)], tracks, snapper=snapper, now=NOW)
    later = run([fix(s=0), fix(s=0, lon=126.6502)], tracks, snapper=snapper, now=NOW)
    assert [reason for _, reason in later.refused] == [
        "duplicate",
        "another place at the same time",
    ]


def test_a_batch_is_ordered_per_device_before_the_checks(snapper: Snapper) -> None:
    tracks: dict[str, DeviceTrack] = {}
    out = run(
        [fix(s=20), fix(s=0), fix(s=10), fix(s=5, device="d2")],
        tracks,
        snapper=snapper,
        now=NOW + timedelta(minutes=1),
    )
    assert out.rejected == {}
    assert [(f.device_id, f.at.second) for f in out.accepted] == [
        ("d1", 0),
        ("d1", 10),
        ("d1", 20),
        ("d2", 5),
    ]


def test_fixes_are_snapped_to_the_road_or_marked_off_it(snapper: Snapper) -> None:
    on_road = snapper.network.node_lon[0], snapper.network.node_lat[0]
    out = run([fix(*on_road), fix(126.60, 45.70, s=1, device="far")], {}, snapper=snapper, now=NOW)
    near, far = out.accepted
    assert near.edge >= 0
    assert near.snap_distance_m < 1
    assert far.edge == -1
    assert far.snap_distance_m > 100


def test_one_glitch_cannot_lock_a_car_out(snapper: Snapper) -> None:
    """Issue 12: a glitch 23 km away was accepted (plausible after a long gap), and then the
    true fixes were dropped as jumps for 340 s. Two true fixes in a row now outvote it."""
    tracks: dict[str, DeviceTrack] = {}
    now = NOW + timedelta(hours=1)
    run([fix(s=0)], tracks, snapper=snapper, now=now)
    glitch = run([fix(126.65 + 0.296, s=340)], tracks, snapper=snapper, now=now)  # 23 km
    assert len(glitch.accepted) == 1
    true = [fix(126.65 + 0.0001 * i, s=340 + i) for i in range(1, 6)]
    after = run(true, tracks, snapper=snapper, now=now)
    assert after.rejected == {"impossible jump": 1}  # the first true fix alone is a jump
    assert [f.at for f in after.accepted] == [t.at for t in true[1:]]


def test_an_isolated_jump_is_still_dropped(snapper: Snapper) -> None:
    tracks: dict[str, DeviceTrack] = {}
    now = NOW + timedelta(hours=1)
    fixes = [fix(s=0), fix(126.75, s=1), fix(126.6501, s=2), fix(126.80, s=3), fix(126.6502, s=4)]
    out = run(fixes, tracks, snapper=snapper, now=now)
    assert out.rejected == {"impossible jump": 2}
    assert [f.lon for f in out.accepted] == [126.65, 126.6501, 126.6502]
