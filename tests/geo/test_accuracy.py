"""Forecast errors: median and p90 absolute error and bias, by hand."""

from __future__ import annotations

import math

import pytest

from jiaoxun.geo.accuracy import Accuracy, forecast_accuracy


def test_errors_of_a_handful_of_forecasts() -> None:
    # errors (predicted - observed): -60, -30, 0, 30, 150; |errors| 0, 30, 30, 60, 150
    got = forecast_accuracy([120, 150, 200, 230, 400], [180, 180, 200, 200, 250])
    assert got.count == 5
    assert got.median_abs_error_s == 30
    assert got.p90_abs_error_s == pytest.approx(60 + 0.6 * 90)  # linear between 60 and 150
    assert got.bias_s == pytest.approx(18.0)


def test_unknown_values_are_left_out_and_none_gives_none() -> None:
    assert forecast_accuracy([math.nan, 100], [90, 100]).count == 1
    assert forecast_accuracy([], []) == Accuracy(0, None, None, None)
    with pytest.raises(ValueError, match=r"\(2,\) forecasts for \(1,\) observations"):
        forecast_accuracy([1, 2], [1])
