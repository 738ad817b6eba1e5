"""Whether a split of liability between the parties is one the rules allow (146号令 Art. 60:
全部、主要、同等、次要责任, and 无责任 for the others).

- one party fully liable, every other none;
- one party mainly liable, at least one secondarily, every other none;
- at least two equally liable, every other none;
- nobody liable (an accident no one caused, 意外) only by the accident unit's ruling, not on the
  street.

Pure: no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from jiaoxun.traffic.models import Liability


class ImpossibleSplit(ValueError):
    """A split of liability the rules do not allow; the message names the rule and the split."""


def _shown(split: Sequence[Liability | None]) -> str:
    return ", ".join(f"party {i}: {s.value if s else 'not set'}" for i, s in enumerate(split, 1))


def check_split(split: Sequence[Liability | None], *, on_the_street: bool) -> None:
    """Refuse a split that no ruling could give; `on_the_street` when the parties agree on it or
    one officer rules (self-settlement, simple procedure)."""
    if len(split) < 1:
        raise ImpossibleSplit("an accident has at least one party")
    if any(s is None for s in split):
        raise ImpossibleSplit(f"every party's liability must be set: {_shown(split)}")
    n = Counter(split)
    liable = len(split) - n[Liability.NONE]
    if liable == 0:
        if on_the_street:
            raise ImpossibleSplit(
                "no party liable: only the accident unit rules that no one caused it (意外), "
                f"not the street: {_shown(split)}"
            )
        return
    if n[Liability.FULL]:
        if n[Liability.FULL] != 1 or liable != 1:
            raise ImpossibleSplit(
                f"a party fully liable leaves every other party none: {_shown(split)}"
            )
        return
    if n[Liability.MAIN] or n[Liability.SECONDARY]:
        if n[Liability.EQUAL] or n[Liability.MAIN] != 1 or not n[Liability.SECONDARY]:
            raise ImpossibleSplit(
                "main liability is one party's, beside at least one party with secondary "
                f"liability: {_shown(split)}"
            )
        return
    if n[Liability.EQUAL] < 2:
        raise ImpossibleSplit(f"equal liability is shared by at least two parties: {_shown(split)}")
