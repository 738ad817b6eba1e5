"""How good a travel-time forecast was: errors of predicted against observed seconds.

A weather service is judged by comparing yesterday's forecast with what the sky did; an ETA by
comparing the seconds it promised with the seconds the car took. The median absolute error
says how far off a typical forecast is, the 90th percentile how far off a bad one, the bias
(mean of predicted minus observed) whether forecasts lean optimistic (negative) or pessimistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Accuracy:
    """Errors of `count` forecasts, seconds; None without forecasts."""

    count: int
    median_abs_error_s: float | None
    p90_abs_error_s: float | None
    bias_s: float | None


def forecast_accuracy(predicted_s: ArrayLike, observed_s: ArrayLike) -> Accuracy:
    """Median and 90th-percentile absolute error and the bias of forecasts.

    Parameters
    ----------
    predicted_s, observed_s : the forecast and the observed travel times, seconds, pairwise;
        pairs with a value that is not finite are left out.

    Returns
    -------
    `Accuracy`; the bias is the mean of predicted minus observed (negative: optimistic).
    """
    predicted = np.asarray(predicted_s, dtype=np.float64)
    observed = np.asarray(observed_s, dtype=np.float64)
    if predicted.shape != observed.shape:
        raise ValueError(f"{predicted.shape} forecasts for {observed.shape} observations.")
    known = np.isfinite(predicted) & np.isfinite(observed)
    error = predicted[known] - observed[known]
    if not len(error):
        return Accuracy(0, None, None, None)
    return Accuracy(
        len(error),
        float(np.median(np.abs(error))),
        float(np.percentile(np.abs(error), 90)),
        float(error.mean()),
    )
