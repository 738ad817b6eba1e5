"""1-3-5 minute rapid-response targets (1、3、5分钟快速反应) and the verdict on each incident.

No national text fixes what "1, 3, 5 minutes" means, so a target is a *tier*: a bound in
minutes that applies to the first unit, the backup (second unit) or the full multi-point force,
optionally only at some place classes (key sites…) or in some zones. Each incident is judged
against every tier that applies to it, twice: from the dispatch and from the call. A tier not yet
decided is pending (None); one whose time ran out without the arrival is already missed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Applies(enum.StrEnum):
    FIRST = "first"  # the first unit on scene
    BACKUP = "backup"  # the second unit on scene
    FULL = "full"  # every unit the response plan asks for


@dataclass(frozen=True)
class Tier:
    """One response target: `applies_to` arrives within `bound_min` minutes."""

    name: str
    bound_min: float
    applies_to: Applies
    place_classes: frozenset[str] = field(default_factory=frozenset)  # empty: everywhere
    zones: frozenset[str] = field(default_factory=frozenset)  # empty: every zone

    def __post_init__(self) -> None:
        if not self.bound_min > 0:
            raise ValueError(f"tier {self.name!r}: bound_min(={self.bound_min}) must be > 0.")

    @property
    def bound_s(self) -> float:
        return self.bound_min * 60.0

    def applies(self, *, place_class: str | None, zone: str | None) -> bool:
        return (not self.place_classes or place_class in self.place_classes) and (
            not self.zones or zone in self.zones
        )


#: The default tiers: 1 minute at key sites, 3 minutes for the first unit anywhere, 5 minutes for
#: the whole multi-point force (the "circles of places" and "tiers of responders" readings).
DEFAULT_TIERS = (
    Tier("1分钟", 1, Applies.FIRST, frozenset({"key_site"})),
    Tier("3分钟", 3, Applies.FIRST),
    Tier("5分钟", 5, Applies.FULL),
)


@dataclass(frozen=True)
class Verdict:
    """How an incident fares against one tier; None means not decided yet."""

    tier: str
    bound_s: float
    applies_to: Applies
    from_dispatch_s: float | None
    from_call_s: float | None
    met_from_dispatch: bool | None
    met_from_call: bool | None
    #: which arrival decided it: "gps" (the unit's fix at the scene) or "report" (the officer's
    #: button); None when no arrival decided it (pending, missed waiting, or a prediction)
    arrival_source: str | None = None


def tier_copy(tier: Tier) -> dict[str, Any]:
    """The tier as plain data, to be stored beside what it judged."""
    return {
        "name": tier.name,
        "bound_min": tier.bound_min,
        "applies_to": tier.applies_to.value,
        "place_classes": sorted(tier.place_classes),
        "zones": sorted(tier.zones),
    }


def tier_from_copy(copy: Mapping[str, Any]) -> Tier:
    return Tier(
        str(copy["name"]),
        float(copy["bound_min"]),
        Applies(copy["applies_to"]),
        frozenset(copy.get("place_classes", ())),
        frozenset(copy.get("zones", ())),
    )


def _arrival_index(applies_to: Applies, required_units: int) -> int | None:
    if applies_to is Applies.FIRST:
        return 0
    if applies_to is Applies.BACKUP:
        return 1 if required_units >= 2 else None
    return max(required_units, 1) - 1


def _judge_one(elapsed_s: float | None, waited_s: float | None, bound_s: float) -> bool | None:
    if elapsed_s is not None:
        return elapsed_s <= bound_s
    if waited_s is not None and waited_s > bound_s:
        return False  # still not there and the time is up
    return None


def judge(
    tiers: Sequence[Tier],
    *,
    call_at: datetime,
    dispatched_at: datetime | None,
    arrivals: Sequence[datetime],
    required_units: int,
    place_class: str | None,
    zone: str | None,
    now: datetime,
    sources: Sequence[str] | None = None,
) -> tuple[Verdict, ...]:
    """Verdicts of an incident against the tiers that apply to it.

    `arrivals` are the on-scene times of its units, in any order; `sources` says for each how
    it is known ("gps", "report"), to be named in the verdict it decides.
    """
    if sources is not None and len(sources) != len(arrivals):
        raise ValueError(f"sources has {len(sources)} entries for {len(arrivals)} arrivals.")
    named: list[str | None] = list(sources) if sources is not None else [None] * len(arrivals)
    pairs = sorted(zip(arrivals, named, strict=True), key=lambda pair: pair[0])
    arrived = [at for at, _ in pairs]
    verdicts = []
    for tier in tiers:
        index = _arrival_index(tier.applies_to, required_units)
        if index is None or not tier.applies(place_class=place_class, zone=zone):
            continue
        at = arrived[index] if index < len(arrived) else None
        from_call = (at - call_at).total_seconds() if at else None
        from_dispatch = (at - dispatched_at).total_seconds() if at and dispatched_at else None
        waited_call = (now - call_at).total_seconds()
        waited_dispatch = (now - dispatched_at).total_seconds() if dispatched_at else None
        verdicts.append(
            Verdict(
                tier=tier.name,
                bound_s=tier.bound_s,
                applies_to=tier.applies_to,
                from_dispatch_s=from_dispatch,
                from_call_s=from_call,
                met_from_dispatch=_judge_one(from_dispatch, waited_dispatch, tier.bound_s),
                met_from_call=_judge_one(from_call, waited_call, tier.bound_s),
                arrival_source=pairs[index][1] if at else None,
            )
        )
    return tuple(verdicts)


def predict(
    tiers: Sequence[Tier],
    *,
    etas_s: Sequence[float],
    required_units: int,
    place_class: str | None,
    zone: str | None,
    since_call_s: float = 0.0,
) -> tuple[Verdict, ...]:
    """Verdicts expected if units with these road ETAs were dispatched now.

    `since_call_s` is how long ago the call came in, for the verdict measured from the call.
    """
    arrived = sorted(etas_s)
    verdicts = []
    for tier in tiers:
        index = _arrival_index(tier.applies_to, required_units)
        if index is None or not tier.applies(place_class=place_class, zone=zone):
            continue
        eta = arrived[index] if index < len(arrived) else None
        from_call = eta + since_call_s if eta is not None else None
        verdicts.append(
            Verdict(
                tier=tier.name,
                bound_s=tier.bound_s,
                applies_to=tier.applies_to,
                from_dispatch_s=eta,
                from_call_s=from_call,
                # too few units to send: the tier cannot be met
                met_from_dispatch=eta is not None and eta <= tier.bound_s,
                met_from_call=from_call is not None and from_call <= tier.bound_s,
            )
        )
    return tuple(verdicts)
