"""Replies of the ETA accuracy report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AccuracyOut(BaseModel):
    """Errors of `orders` forecasts, seconds (None without any)."""

    orders: int
    median_abs_error_s: float | None
    p90_abs_error_s: float | None
    #: mean of predicted minus GPS-proved travel time: negative when forecasts are optimistic
    bias_s: float | None


class EtaAccuracyOut(BaseModel):
    since: datetime
    until: datetime
    #: the ETA stored on each order when it was issued
    stored: AccuracyOut
    #: the same trips timed again now, by the class table and (once learned) the learned speeds
    replayed: dict[str, AccuracyOut]
