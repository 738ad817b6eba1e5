"""The exact Poisson rate test against R's documented example and the binomial identity."""

import pytest

from jiaoxun.analytics.poisson import rate_test


def test_r_documentation_example() -> None:
    # R, ?poisson.test: poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)) gives p-value = 0.07967
    test = rate_test(11, 800, 6 + 8 + 7, 1083 + 1050 + 878)
    assert test is not None
    assert test.p == pytest.approx(0.07967, abs=5e-6)
    assert not test.significant
    assert "within chance" in test.text_en
    assert "p=0.0797" in test.text_en


def test_equal_rates_give_one_and_large_changes_are_significant() -> None:
    same = rate_test(100, 30, 100, 30)
    assert same is not None
    assert same.p == pytest.approx(1.0)
    drop = rate_test(1765, 61, 2022, 61)  # the article's −12.7 % over two months
    assert drop is not None
    assert drop.significant
    assert drop.p < 1e-4
    assert "变化显著" in drop.text_zh


def test_exposure_counts() -> None:
    # 30 events in 30 days against 30 in 60 days is a doubled rate
    assert rate_test(30, 30, 30, 60).p < rate_test(30, 30, 30, 30).p  # type: ignore[union-attr]


def test_nothing_to_test() -> None:
    assert rate_test(0, 30, 0, 30) is None
    assert rate_test(3, 0, 4, 30) is None
    with pytest.raises(ValueError, match="negative"):
        rate_test(-1, 30, 4, 30)
