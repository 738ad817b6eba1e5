"""Splits of liability the rules allow (146号令 Art. 60) and those they do not."""

from __future__ import annotations

import pytest

from jiaoxun.traffic.liability import ImpossibleSplit, check_split
from jiaoxun.traffic.models import Liability

FULL, MAIN, EQUAL, SECONDARY, NONE = (
    Liability.FULL,
    Liability.MAIN,
    Liability.EQUAL,
    Liability.SECONDARY,
    Liability.NONE,
)


@pytest.mark.parametrize(
    "split",
    [
        [FULL, NONE],
        [NONE, FULL],
        [MAIN, SECONDARY],
        [EQUAL, EQUAL],
        [MAIN, SECONDARY, SECONDARY],
        [MAIN, SECONDARY, NONE],
        [EQUAL, EQUAL, EQUAL],
        [EQUAL, EQUAL, NONE],
        [FULL],
    ],
)
def test_splits_a_ruling_can_give(split: list[Liability]) -> None:
    check_split(split, on_the_street=True)


@pytest.mark.parametrize(
    ("split", "words"),
    [
        ([FULL, FULL], "fully liable leaves every other party none"),
        ([FULL, SECONDARY], "fully liable leaves every other party none"),
        ([FULL, EQUAL], "fully liable leaves every other party none"),
        ([MAIN, MAIN], "main liability is one party's"),
        ([MAIN, NONE], "main liability is one party's"),
        ([SECONDARY, NONE], "main liability is one party's"),
        ([MAIN, EQUAL], "main liability is one party's"),
        ([EQUAL, NONE], "shared by at least two parties"),
        ([EQUAL, SECONDARY], "main liability is one party's"),
        ([FULL, None], "must be set"),
        ([], "at least one party"),
        ([NONE, NONE], "only the accident unit rules"),
    ],
)
def test_splits_no_ruling_gives(split: list[Liability | None], words: str) -> None:
    with pytest.raises(ImpossibleSplit, match=words) as caught:
        check_split(split, on_the_street=True)
    if split:
        assert "party 1" in str(caught.value)  # the split is shown


def test_nobody_liable_is_the_accident_units_ruling() -> None:
    check_split([NONE, NONE], on_the_street=False)
