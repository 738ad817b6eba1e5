"""Token buckets: how often a key (a device, a client address) may act.

Like a ticket machine that prints one ticket a second and holds at most `burst` of them: a
device may send a backlog quickly, then only at `rate_per_s`. Thread-safe; the clock is passed
in so that tests move it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One bucket per key, `burst` tokens deep, refilled at `rate_per_s`."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if not (rate_per_s > 0 and burst >= 1):
            raise ValueError(f"rate_per_s(={rate_per_s}) must be > 0 and burst(={burst}) >= 1")
        self.rate_per_s, self.burst, self.clock, self.max_keys = rate_per_s, burst, clock, max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when granted, else the seconds until one is due."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:  # bounded memory: forget full buckets
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate_per_s)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate_per_s

    def _forget_full(self, now: float) -> None:
        refill_s = self.burst / self.rate_per_s
        for key in [k for k, b in self._buckets.items() if now - b.at >= refill_s]:
            del self._buckets[key]
