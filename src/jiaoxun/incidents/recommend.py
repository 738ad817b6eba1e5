"""Which cars to send: every unit ranked by its exact road ETA to the incident.

A dispatcher does not ask "which car is closest on the map?" but "which car gets there first?":
a car across a one-way street or a river may be close in a straight line and minutes away by
road. So every unit with a position is timed to the incident along the roads, in one many-to-one
query, and the free ones are ranked by that time. The response plan then picks from the top of
the list — the nearest cars, or for a multi-point response (一点报警，多点响应) the nearest car of
each of several zones — and the 1-3-5 minute tiers say how the choice is expected to fare.

This is pure code, shared by the live server and the simulator: it takes plain views of the
units and a `TravelTimes`, and returns a frozen `Recommendation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from jiaoxun.geo.network import Floats, Ints
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.geo.turnout import turnout_s as turnout_of
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.targets import DEFAULT_TIERS, Applies, Tier, Verdict, predict
from jiaoxun.units.status import FREE, UnitStatus

Bools = NDArray[np.bool_]


@dataclass(frozen=True)
class UnitView:
    """What the recommendation needs to know of one unit: its status and last position fix."""

    unit_id: int
    call_sign: str
    zone: str | None  # zone code of the unit's kiosk; None for a unit outside any zone
    status: UnitStatus
    lon: float | None
    lat: float | None
    fix_at: datetime | None
    #: officers on the car now: a car nobody is rostered on is never recommended
    crewed: bool = True


@dataclass(frozen=True)
class Candidate:
    """One unit as the dispatcher sees it: may it go, why (not), and how soon it would arrive.

    `eta_s` is the exact road time from the unit's last position, shown even for a unit that
    may not go (busy, position unknown) when it can be computed; `verdicts` are the tiers it
    would meet if sent as the first unit (empty when it has no ETA).
    """

    unit_id: int
    call_sign: str
    zone: str | None
    status: UnitStatus
    eligible: bool
    reason: str
    eta_s: float | None
    same_zone: bool
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True)
class Recommendation:
    """Every unit ranked, the units the response plan picks, and the expected 1-3-5 verdicts.

    `candidates` holds the eligible units by ETA, then the others (by ETA where known, then
    without), ties broken by call sign. `chosen` lists unit ids in ETA order; `shortfall` is how
    many units the plan asked for that could not be found.
    """

    candidates: tuple[Candidate, ...]
    chosen: tuple[int, ...]
    shortfall: int
    verdicts: tuple[Verdict, ...]
    incident_snap: Snap


@dataclass(frozen=True)
class _Fleet:
    """Per-unit arrays: snapped position (where there is a fix), fix age and ETA."""

    free: Bools  # in a status that may take an order
    has_fix: Bools
    distance_m: Floats  # from the road; inf without a fix
    age_s: Floats  # nan without a fix
    eta_s: Floats  # inf: no fix, off the network or no way to the incident

    def eligible(self, *, max_fix_age_s: float, limit_m: float) -> Bools:
        fresh = self.has_fix & (np.nan_to_num(self.age_s, nan=np.inf) <= max_fix_age_s)
        on_network = self.distance_m <= limit_m
        return self.free & fresh & on_network & np.isfinite(self.eta_s)


def recommend(
    *,
    lon: float,
    lat: float,
    units: Sequence[UnitView],
    travel_times: TravelTimes,
    plan: ResponsePlan,
    tiers: Sequence[Tier] = DEFAULT_TIERS,
    now: datetime,
    max_fix_age_s: float = 120.0,
    place_class: str | None = None,
    zone: str | None = None,
    since_call_s: float = 0.0,
    unit_snaps: Snaps | None = None,
    turnout_s: Mapping[str, float] | None = None,
    zones_sent: frozenset[str] = frozenset(),
    incident_snap: Snap | None = None,
) -> Recommendation:
    """Rank `units` by exact road ETA to the incident at (`lon`, `lat`) and apply `plan`.

    Parameters
    ----------
    lon, lat : the incident, WGS-84 degrees. Farther from a road than the snapping limit raises
        `jiaoxun.errors.OffNetwork`.
    units : every unit to consider, in any order.
    travel_times : the city's travel times; one many-to-one query times every unit.
    plan : how many units, and whether from distinct zones.
    tiers : the 1-3-5 targets to predict verdicts against.
    now : the time the fix ages are measured at.
    max_fix_age_s : a unit whose last fix is older than this, in seconds, may not be sent.
    place_class, zone : of the incident, to select the tiers that apply; `zone` also sets
        `Candidate.same_zone`.
    since_call_s : seconds since the call, for the verdicts measured from the call.
    unit_snaps : positions of `units` already snapped, in the same order (the fleet state and
        the simulator hold them), to save snapping the units' lon/lat here; whether a unit has
        a fix, and its age, still come from its `UnitView`, and entries of units without one
        are ignored. Either way a unit farther from a road than
        ``travel_times.snapper.max_snap_m`` counts as off the network.
    zones_sent : zones of the units already sent to the incident (a top-up): with
        `plan.distinct_zones` they count as taken.
    turnout_s : seconds each unit needs to get going, by status (`geo.turnout`), added to its
        road time: every ETA here, and the ranking, then include turnout.
    incident_snap : the incident already snapped to the road (the simulator's calls are), to save
        snapping (`lon`, `lat`) here.

    Eligible units are free (`FREE`), have a fix no older than `max_fix_age_s`, are on the
    network and can reach the incident. The plan takes the `plan.units` soonest. With
    `plan.distinct_zones` it walks the eligible units in ETA order taking at most one per zone
    (a unit without a zone counts as a zone of its own); when there are too few zones it fills
    up with the soonest units not yet taken, whatever their zone.
    """
    if not max_fix_age_s >= 0:
        raise ValueError(f"max_fix_age_s(={max_fix_age_s}) must be >= 0.")
    if incident_snap is None:
        incident_snap = travel_times.snap(lon, lat)
    fleet = _time_fleet(units, travel_times, incident_snap, now=now, unit_snaps=unit_snaps)
    if turnout_s:
        fleet.eta_s[:] += turnout_of([u.status for u in units], by_status=turnout_s)
    limit_m = travel_times.snapper.max_snap_m
    eligible = fleet.eligible(max_fix_age_s=max_fix_age_s, limit_m=limit_m)
    reasons: list[str | None] = [None] * len(units)  # None: eligible
    for i in np.flatnonzero(~eligible).tolist():
        reasons[i] = _reason(units[i], i, fleet, max_fix_age_s=max_fix_age_s, limit_m=limit_m)
    eta_s = fleet.eta_s.tolist()
    ranked = sorted(
        zip(
            (~eligible).tolist(),
            eta_s,
            [u.call_sign for u in units],
            range(len(units)),
            strict=True,
        )
    )
    order = [i for *_, i in ranked]
    chosen = _choose([i for i in order if reasons[i] is None], units, plan, zones_sent)
    first = _FirstUnitTiers.of(
        tiers, plan=plan, place_class=place_class, zone=zone, since_call_s=since_call_s
    )
    candidates = tuple(_candidate(units[i], reasons[i], eta_s[i], zone, first) for i in order)
    verdicts = predict(
        tiers,
        etas_s=[eta_s[i] for i in chosen],
        required_units=plan.units,
        place_class=place_class,
        zone=zone,
        since_call_s=since_call_s,
    )
    return Recommendation(
        candidates=candidates,
        chosen=tuple(units[i].unit_id for i in chosen),
        shortfall=plan.units - len(chosen),
        verdicts=verdicts,
        incident_snap=incident_snap,
    )


def _time_fleet(
    units: Sequence[UnitView],
    travel_times: TravelTimes,
    incident: Snap,
    *,
    now: datetime,
    unit_snaps: Snaps | None,
) -> _Fleet:
    n = len(units)
    if unit_snaps is not None and len(unit_snaps) != n:
        raise ValueError(f"unit_snaps has {len(unit_snaps)} positions for {n} units.")
    free = np.array([u.status in FREE and u.crewed for u in units], dtype=bool)
    has_fix = np.zeros(n, dtype=bool)
    age_s = np.full(n, np.nan)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    for i, u in enumerate(units):
        if u.lon is not None and u.lat is not None and u.fix_at is not None:
            has_fix[i] = True
            age_s[i] = (now - u.fix_at).total_seconds()
            lon[i], lat[i] = u.lon, u.lat
    fixed = np.flatnonzero(has_fix)
    distance_m = np.full(n, np.inf)
    eta_s = np.full(n, np.inf)
    if not len(fixed):
        return _Fleet(free, has_fix, distance_m=distance_m, age_s=age_s, eta_s=eta_s)
    if unit_snaps is None:
        snaps = travel_times.snap_many(lon[fixed], lat[fixed], strict=False)
    else:
        snaps = _subset(unit_snaps, fixed)
    distance_m[fixed] = snaps.distance_m
    # one many-to-one query for every unit on the network, free or not
    on_network = snaps.distance_m <= travel_times.snapper.max_snap_m
    if on_network.any():
        eta_s[fixed[on_network]] = travel_times.times_to(
            incident, _subset(snaps, np.flatnonzero(on_network))
        )
    return _Fleet(free, has_fix, distance_m=distance_m, age_s=age_s, eta_s=eta_s)


def _subset(snaps: Snaps, which: Ints) -> Snaps:
    return Snaps(
        edge=snaps.edge[which],
        fraction=snaps.fraction[which],
        distance_m=snaps.distance_m[which],
        lon=snaps.lon[which],
        lat=snaps.lat[which],
    )


def _reason(unit: UnitView, i: int, fleet: _Fleet, *, max_fix_age_s: float, limit_m: float) -> str:
    """Why a unit `_Fleet.eligible` turned down may not be sent."""
    if unit.status == UnitStatus.OFF_DUTY:
        return "off duty"
    if not unit.crewed:
        return "no crew on duty"
    if unit.status not in FREE:
        return f"busy: {unit.status}"
    if not fleet.has_fix[i]:
        return "position unknown: no GPS fix"
    if fleet.age_s[i] > max_fix_age_s:
        age, limit = f"{fleet.age_s[i]:.0f}", f"{max_fix_age_s:.0f}"
        return f"position unknown: last GPS fix {age} s old (limit {limit} s)"
    if fleet.distance_m[i] > limit_m:
        return f"off the road network: {fleet.distance_m[i]:.0f} m from a road"
    return "cannot reach the incident by road"


def _choose(
    ranked: list[int], units: Sequence[UnitView], plan: ResponsePlan, zones_sent: frozenset[str]
) -> list[int]:
    """Indices of the units `plan` takes from the eligible `ranked` ones, in ETA order; the
    zones of `zones_sent` are taken already."""
    if not plan.distinct_zones:
        return ranked[: plan.units]
    taken: list[int] = []
    zones_taken: set[str] = set(zones_sent)
    for i in ranked:
        zone = units[i].zone
        if zone is None or zone not in zones_taken:
            taken.append(i)
            if zone is not None:
                zones_taken.add(zone)
        if len(taken) == plan.units:
            return taken
    # too few zones: fill with the soonest units left, whatever their zone
    already = set(taken)
    spare = [i for i in ranked if i not in already]
    taken.extend(spare[: plan.units - len(taken)])
    position = {i: p for p, i in enumerate(ranked)}
    return sorted(taken, key=position.__getitem__)


@dataclass(frozen=True)
class _FirstUnitTiers:
    """The tiers one unit would be judged by if sent first to this incident."""

    tiers: tuple[Tier, ...]
    since_call_s: float

    @classmethod
    def of(
        cls,
        tiers: Sequence[Tier],
        *,
        plan: ResponsePlan,
        place_class: str | None,
        zone: str | None,
        since_call_s: float,
    ) -> _FirstUnitTiers:
        # the first unit alone decides the "full" tier only when the plan asks for one unit
        decided_by_first = {Applies.FIRST, Applies.FULL} if plan.units == 1 else {Applies.FIRST}
        return cls(
            tiers=tuple(
                t
                for t in tiers
                if t.applies_to in decided_by_first
                and t.applies(place_class=place_class, zone=zone)
            ),
            since_call_s=since_call_s,
        )

    def verdicts(self, eta_s: float) -> tuple[Verdict, ...]:
        """`predict` for one unit, unrolled: it runs for every unit of the fleet."""
        from_call_s = eta_s + self.since_call_s
        return tuple(
            [
                Verdict(
                    t.name,
                    t.bound_s,
                    t.applies_to,
                    eta_s,
                    from_call_s,
                    eta_s <= t.bound_s,
                    from_call_s <= t.bound_s,
                )
                for t in self.tiers
            ]
        )


def _candidate(
    unit: UnitView, reason: str | None, eta_s: float, zone: str | None, first: _FirstUnitTiers
) -> Candidate:
    """`reason` is None for an eligible unit."""
    known = eta_s < np.inf
    return Candidate(
        unit.unit_id,
        unit.call_sign,
        unit.zone,
        unit.status,
        reason is None,
        reason or ("at kiosk" if unit.status == UnitStatus.AT_KIOSK else "available"),
        eta_s if known else None,
        unit.zone is not None and unit.zone == zone,
        first.verdicts(eta_s) if known else (),
    )
