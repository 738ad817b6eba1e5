"""Whether a change in a count is more than chance: the exact test of two Poisson rates.

Given k₁ events in exposure t₁ and k₂ in t₂ (days), under equal rates k₁ given k₁ + k₂ is
binomial with p = t₁ / (t₁ + t₂); the two-sided p-value is the binomial test's (as R's
``poisson.test`` with two counts computes it). A month with 120 incidents against last year's
140 is "within chance" (p ≈ 0.24); against 180 it is not (p ≈ 0.0006).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

#: a change is called significant below this p-value
ALPHA = 0.05


@dataclass(frozen=True)
class RateTest:
    p: float
    significant: bool

    @property
    def text_zh(self) -> str:
        return f"{'变化显著' if self.significant else '在随机波动范围内'}（p={self.p:.3g}）"

    @property
    def text_en(self) -> str:
        return f"{'significant' if self.significant else 'within chance'} (p={self.p:.3g})"


def rate_test(k1: int, t1: float, k2: int, t2: float) -> RateTest | None:
    """The two-sided exact test of k1 events in t1 against k2 in t2; None without any event or
    exposure (nothing to test)."""
    if k1 < 0 or k2 < 0:
        raise ValueError(f"counts must not be negative: {k1}, {k2}")
    if k1 + k2 == 0 or t1 <= 0 or t2 <= 0:
        return None
    p = float(binomtest(k1, k1 + k2, t1 / (t1 + t2)).pvalue)
    return RateTest(p=min(p, 1.0), significant=p < ALPHA)
