"""Datums of Chinese maps: WGS-84, GCJ-02 and BD-09.

A GPS or BeiDou fix is in WGS-84. Chinese web maps draw on a deliberately distorted copy of it,
as a funhouse mirror shows the same room: GCJ-02 (Amap, Tencent) moves points in mainland China
by a few hundred metres and BD-09 (Baidu) adds a small rotation and offset on top. jiaoxun stores
WGS-84 and converts only at the edges, with the published reference formulas.

Every function takes longitude and latitude in degrees, as two floats or two arrays of one shape,
and returns the same kind. GCJ-02 leaves points outside the reference implementations' rough box
around China unchanged; BD-09 applies everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from jiaoxun.errors import InvalidInput

Floats = NDArray[np.float64]
Coord = TypeVar("Coord", float, Floats)

# Krasovsky 1940 ellipsoid, on which GCJ-02 turns its shift from metres into degrees
KRASOVSKY_A_M = 6378245.0
KRASOVSKY_E2 = 0.00669342162296594323
BD09_X_PI = np.pi * 3000.0 / 180.0
# Each step of the GCJ-02 inversion shrinks the error about 150-fold: from 0.01 degree to
# rounding noise (1e-13 degree) in six. A fixed count, so a point converts alike in any batch.
GCJ02_INVERSE_STEPS = 6


class Datum(StrEnum):
    """The geodetic datum of a longitude/latitude pair."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def wgs84_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Move WGS-84 coordinates onto the GCJ-02 map of Amap and Tencent.

    Parameters
    ----------
    lon, lat : float or ndarray
        WGS-84 longitude and latitude, degrees.

    Returns
    -------
    tuple of float or ndarray
        GCJ-02 longitude and latitude, degrees; unchanged outside mainland China.
    """
    lon_deg, lat_deg = _checked(lon, lat)
    inside = _in_china(lon_deg, lat_deg)
    dlon, dlat = _gcj02_shift(lon_deg[inside], lat_deg[inside])
    lon_deg[inside] += dlon
    lat_deg[inside] += dlat
    return _like(lon, lon_deg, lat_deg)


def gcj02_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Undo the GCJ-02 shift exactly, to about 1e-13 degree.

    Parameters
    ----------
    lon, lat : float or ndarray
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of float or ndarray
        WGS-84 longitude and latitude, degrees; unchanged outside mainland China.
    """
    lon_deg, lat_deg = _checked(lon, lat)
    inside = _in_china(lon_deg, lat_deg)
    gcj_lon, gcj_lat = lon_deg[inside], lat_deg[inside]
    # the usual one-step inverse (GCJ-02 minus the shift found there), repeated to a fixed point
    wgs_lon, wgs_lat = gcj_lon, gcj_lat
    for _ in range(GCJ02_INVERSE_STEPS):
        dlon, dlat = _gcj02_shift(wgs_lon, wgs_lat)
        wgs_lon, wgs_lat = gcj_lon - dlon, gcj_lat - dlat
    lon_deg[inside], lat_deg[inside] = wgs_lon, wgs_lat
    return _like(lon, lon_deg, lat_deg)


def gcj02_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitude/latitude to Baidu's BD-09, in degrees."""
    x, y = _checked(lon, lat)
    radius = np.hypot(x, y) + 0.00002 * np.sin(y * BD09_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * BD09_X_PI)
    return _like(lon, radius * np.cos(theta) + 0.0065, radius * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 longitude/latitude to GCJ-02, in degrees (reference formula, ±2e-6°)."""
    lon_deg, lat_deg = _checked(lon, lat)
    x, y = lon_deg - 0.0065, lat_deg - 0.006
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * BD09_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD09_X_PI)
    return _like(lon, radius * np.cos(theta), radius * np.sin(theta))


def wgs84_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert WGS-84 longitude/latitude to BD-09 through GCJ-02, in degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 longitude/latitude to WGS-84 through GCJ-02, in degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: Coord, lat: Coord, datum: Datum) -> tuple[Coord, Coord]:
    """Convert longitude/latitude in `datum` to WGS-84, in degrees."""
    if datum == Datum.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if datum == Datum.BD09:
        return bd09_to_wgs84(lon, lat)
    return _unchanged(lon, lat, datum)


def from_wgs84(lon: Coord, lat: Coord, datum: Datum) -> tuple[Coord, Coord]:
    """Convert WGS-84 longitude/latitude to `datum`, in degrees."""
    if datum == Datum.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if datum == Datum.BD09:
        return wgs84_to_bd09(lon, lat)
    return _unchanged(lon, lat, datum)


def _unchanged(lon: Coord, lat: Coord, datum: str) -> tuple[Coord, Coord]:
    if datum != Datum.WGS84:
        raise InvalidInput(f"datum {datum!r} is not one of {', '.join(Datum)}")
    return _like(lon, *_checked(lon, lat))


def _checked(lon: float | Floats, lat: float | Floats) -> tuple[Floats, Floats]:
    """Copy longitude and latitude into float arrays, or raise if they break a rule."""
    lon_deg = np.array(lon, dtype=np.float64)
    lat_deg = np.array(lat, dtype=np.float64)
    if lon_deg.shape != lat_deg.shape:
        raise InvalidInput(f"longitude shape {lon_deg.shape} differs from latitude {lat_deg.shape}")
    for name, values, limit in (("longitude", lon_deg, 180), ("latitude", lat_deg, 90)):
        bad = values[~np.isfinite(values)]
        if bad.size:
            raise InvalidInput(f"{name} {bad[0]} is not a finite number")
        bad = values[np.abs(values) > limit]
        if bad.size:
            raise InvalidInput(f"{name} {bad[0]} is outside -{limit}..{limit}")
    return lon_deg, lat_deg


def _like(template: float | Floats, lon_deg: Floats, lat_deg: Floats) -> tuple[Any, Any]:
    """Floats for a scalar template, arrays for an array one (callers type them as `Coord`)."""
    if np.ndim(template) == 0:
        return float(lon_deg), float(lat_deg)
    return lon_deg, lat_deg


def _in_china(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    """The reference implementations' box around mainland China (their `out_of_china`)."""
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _gcj02_shift(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 shift (dlon, dlat) in degrees at WGS-84 points; the box test is the caller's."""
    x, y = lon - 105.0, lat - 35.0
    wave = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    north_m = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    north_m += wave + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    north_m += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y / 30.0 * np.pi)) * 2.0 / 3.0
    east_m = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    east_m += wave + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    east_m += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    # metres to degrees with the ellipsoid's radii of curvature along the meridian and parallel
    lat_rad = np.radians(lat)
    w = np.sqrt(1.0 - KRASOVSKY_E2 * np.sin(lat_rad) ** 2)
    meridian_m = KRASOVSKY_A_M * (1.0 - KRASOVSKY_E2) / w**3
    parallel_m = KRASOVSKY_A_M / w * np.cos(lat_rad)
    return np.degrees(east_m / parallel_m), np.degrees(north_m / meridian_m)
