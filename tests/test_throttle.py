from __future__ import annotations

import pytest

from jiaoxun.throttle import TokenBuckets


def test_a_burst_then_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # the next token in half a second
    assert buckets.take("b") == 0.0  # keys do not share
    now[0] = 0.5
    assert buckets.take("a") == 0.0
    now[0] = 100.0
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # full again, never above the burst


def test_memory_is_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1.0, burst=1, clock=lambda: now[0], max_keys=10)
    for i in range(10):
        buckets.take(str(i))
    now[0] = 5.0  # every bucket has refilled: they are forgotten when a new key comes
    buckets.take("new")
    assert len(buckets._buckets) == 1


def test_bad_limits_are_named() -> None:
    with pytest.raises(ValueError, match=r"rate_per_s\(=0\) must be > 0"):
        TokenBuckets(rate_per_s=0, burst=1)
