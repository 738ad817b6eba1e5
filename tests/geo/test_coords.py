"""WGS-84 / GCJ-02 / BD-09 conversions, checked against values other implementations publish."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.coords import (
    Datum,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# the conversions are generic over floats and arrays
Convert = Callable[[Any, Any], tuple[Any, Any]]
LonLat = tuple[float, float]

CONVERSIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]


def test_wandergis_coordtransform() -> None:
    # wandergis/coordtransform, test/app.js, the "//result" block (all digits of a double)
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=1e-12
    )


# googollee/eviltransform, python/test.py TESTS (also go/transform_test.go), WGS-84 then GCJ-02:
# its own exact inverse only promises 0.5 m, ours gives back the WGS-84 value
EVILTRANSFORM = [
    pytest.param((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), id="shanghai"),
    pytest.param((113.912316, 22.543847), (113.9171764808363, 22.540796131694766), id="shenzhen"),
    pytest.param((116.377817, 39.911954), (116.38404722455657, 39.91334545536069), id="beijing"),
]


@pytest.mark.parametrize(("wgs84", "gcj02"), EVILTRANSFORM)
def test_eviltransform(wgs84: LonLat, gcj02: LonLat) -> None:
    assert wgs84_to_gcj02(*wgs84) == pytest.approx(gcj02, abs=1e-12)
    assert gcj02_to_wgs84(*gcj02) == pytest.approx(wgs84, abs=1e-9)


def test_asesgeo() -> None:
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: 8 decimals, iterative gcj_to_wgs
    assert wgs84_to_gcj02(116.39089, 39.90734) == pytest.approx(
        (116.39713094, 39.90874107), abs=1e-8
    )
    assert gcj02_to_wgs84(116.397131, 39.908746) == pytest.approx(
        (116.39089006, 39.90734493), abs=1e-8
    )
    assert gcj02_to_bd09(116.397131, 39.908746) == pytest.approx(
        (116.40350426, 39.91508839), abs=1e-8
    )
    assert bd09_to_gcj02(116.40350, 39.91509) == pytest.approx(
        (116.39712692, 39.90874808), abs=1e-8
    )


def test_amap_web_service() -> None:
    # Amap web service "coordinate convert" doc example, coordsys=gps
    # (https://lbs.amap.com/api/webservice/guide/api/convert, read through its mirror at
    # https://apifox.com/apidoc/project-759159/api-14671355): the live service, which follows
    # the public formula to within 1e-6 degree (0.1 m)
    assert wgs84_to_gcj02(116.481499, 39.990475) == pytest.approx(
        (116.487585177952, 39.991754014757), abs=1e-6
    )
    assert wgs84_to_gcj02(116.481499, 39.990375) == pytest.approx(
        (116.487585177952, 39.991653917101), abs=1e-6
    )


def test_aliyun_transfer_coord() -> None:
    # Alibaba Cloud address purification, TransferCoord doc example, 6 decimals (https://help.
    # aliyun.com/zh/address-purification/addrpapi/developer-reference/coordinate-system-conversion)
    assert gcj02_to_bd09(120.026268, 30.279164) == pytest.approx((120.032768, 30.285238), abs=1e-6)


def test_gcj02_to_wgs84_is_exact_where_the_one_step_inverse_is_not() -> None:
    # wandergis/coordtransform, test/app.js: gcj02towgs84(116.404, 39.915), the one-step inverse
    one_step = (116.39775550083061, 39.91359571849836)
    exact = gcj02_to_wgs84(116.404, 39.915)
    assert exact == pytest.approx(one_step, abs=1e-6)
    assert wgs84_to_gcj02(*exact) == pytest.approx((116.404, 39.915), abs=1e-12)
    assert wgs84_to_gcj02(*one_step) != pytest.approx((116.404, 39.915), abs=1e-7)


# a grid over the box in which GCJ-02 applies, 0.04 degree inside its edges so that no shift
# carries a point across one
GRID_LON, GRID_LAT = np.meshgrid(np.linspace(73.7, 135.0, 80), np.linspace(3.9, 53.5, 80))


@pytest.mark.parametrize(
    ("forward", "inverse", "tolerance_deg"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84, 1e-9),
        (gcj02_to_wgs84, wgs84_to_gcj02, 1e-9),
        # the published BD-09 inverse formula is itself approximate
        (gcj02_to_bd09, bd09_to_gcj02, 3e-6),
        (wgs84_to_bd09, bd09_to_wgs84, 3e-6),
    ],
)
def test_round_trips_over_china(forward: Convert, inverse: Convert, tolerance_deg: float) -> None:
    lon, lat = inverse(*forward(GRID_LON, GRID_LAT))
    assert np.abs(lon - GRID_LON).max() < tolerance_deg
    assert np.abs(lat - GRID_LAT).max() < tolerance_deg


@pytest.mark.parametrize("convert", CONVERSIONS)
def test_arrays_convert_point_by_point(convert: Convert) -> None:
    # Beijing, Shanghai, Baicheng inside China; Tokyo, London, the Equator outside
    lon = np.array([[116.404, 121.5272106, 122.83], [139.6917, -0.1276, 0.0]])
    lat = np.array([[39.915, 31.1774276, 45.62], [35.6895, 51.5072, 0.0]])
    given = lon.copy(), lat.copy()
    lon_out, lat_out = convert(lon, lat)
    assert lon_out.shape == lat_out.shape == (2, 3)
    for i in np.ndindex(lon.shape):
        point = convert(float(lon[i]), float(lat[i]))
        assert type(point[0]) is float
        assert type(point[1]) is float
        assert (lon_out[i], lat_out[i]) == point
    np.testing.assert_array_equal(lon, given[0])  # the input is left alone
    np.testing.assert_array_equal(lat, given[1])


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (139.6917, 35.6895),  # Tokyo
        (-0.1276, 51.5072),  # London
        (103.8198, 1.3521),  # Singapore, south of the box
        (0.0, 0.0),
        (73.66, 30.0),  # the box is open: its edges are outside
        (100.0, 53.55),
    ],
)
def test_gcj02_leaves_points_outside_china_unchanged(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_gcj02_moves_points_just_inside_the_box() -> None:
    assert wgs84_to_gcj02(73.67, 30.0) != (73.67, 30.0)


def test_bd09_applies_outside_china_too() -> None:
    bd_lon, bd_lat = wgs84_to_bd09(139.6917, 35.6895)
    assert abs(bd_lon - 139.6917) > 1e-3
    assert abs(bd_lat - 35.6895) > 1e-3
    assert bd09_to_wgs84(bd_lon, bd_lat) == pytest.approx((139.6917, 35.6895), abs=3e-6)


def test_datum_values() -> None:
    assert [datum.value for datum in Datum] == ["wgs84", "gcj02", "bd09"]
    assert Datum("gcj02") is Datum.GCJ02


@pytest.mark.parametrize(
    ("datum", "to", "back"),
    [
        (Datum.GCJ02, gcj02_to_wgs84, wgs84_to_gcj02),
        (Datum.BD09, bd09_to_wgs84, wgs84_to_bd09),
    ],
)
def test_datum_dispatch(datum: Datum, to: Convert, back: Convert) -> None:
    assert to_wgs84(122.83, 45.62, datum) == to(122.83, 45.62)
    assert from_wgs84(122.83, 45.62, datum) == back(122.83, 45.62)


def test_wgs84_datum_returns_the_input() -> None:
    assert to_wgs84(122.83, 45.62, Datum.WGS84) == (122.83, 45.62)
    assert from_wgs84(122.83, 45.62, Datum.WGS84) == (122.83, 45.62)
    lon, lat = to_wgs84(np.array([122.83]), np.array([45.62]), Datum.WGS84)
    np.testing.assert_array_equal(lon, [122.83])
    np.testing.assert_array_equal(lat, [45.62])


def test_unknown_datum_is_refused() -> None:
    with pytest.raises(InvalidInput, match=re.escape("datum 'utm' is not one of wgs84, gcj02")):
        to_wgs84(122.83, 45.62, "utm")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (116.4, 91.0, "latitude 91.0 is outside -90..90"),
        (116.4, -90.5, "latitude -90.5 is outside -90..90"),
        (180.5, 39.9, "longitude 180.5 is outside -180..180"),
        (float("nan"), 39.9, "longitude nan is not a finite number"),
        (116.4, float("-inf"), "latitude -inf is not a finite number"),
    ],
)
@pytest.mark.parametrize("convert", CONVERSIONS)
def test_invalid_coordinates_are_refused(
    convert: Convert, lon: float, lat: float, message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        convert(lon, lat)


def test_the_message_names_the_bad_value_in_an_array() -> None:
    with pytest.raises(InvalidInput, match=re.escape("longitude 200.0 is outside -180..180")):
        wgs84_to_gcj02(np.array([116.4, 200.0]), np.array([39.9, 39.9]))
    with pytest.raises(InvalidInput, match=re.escape("latitude 91.0 is outside -90..90")):
        to_wgs84(np.array([116.4]), np.array([91.0]), Datum.WGS84)


def test_longitude_and_latitude_must_have_one_shape() -> None:
    with pytest.raises(
        InvalidInput, match=re.escape("longitude shape (2,) differs from latitude (3,)")
    ):
        gcj02_to_bd09(np.zeros(2), np.zeros(3))


def test_the_poles_and_the_antimeridian_are_valid() -> None:
    assert wgs84_to_gcj02(-180.0, 90.0) == (-180.0, 90.0)
    assert gcj02_to_wgs84(180.0, -90.0) == (180.0, -90.0)
