"""The patrol compliance report of a shift, per unit and per zone.

Like a tachograph read at the end of a shift, the report is computed after the fact from the
fixes of each unit: patrol km and time, visits to the mandatory points of its home zone (late
when the first check-in comes after the point's due time, missed when fewer than required), the
share of the zone's mandatory lines driven, and the time spent outside the home zone. A zone's
figures combine the units whose home it is. Pure: plain inputs in, frozen dataclasses out.

Rules: only fixes in [start, end) count, in time order; the time between two consecutive fixes
is patrol time, and the distance between them patrol distance (haversine), unless they are more
than `max_gap_s` apart, when both are left out; outside time is the time from a fix after which
the unit's zone fences (with their hysteresis) no longer hold the home zone to the next fix.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.osm import haversine_m
from jiaoxun.tracking.geofence import FenceState, ZoneFences
from jiaoxun.tracking.patrol import (
    CheckIn,
    CheckInTracker,
    MandatoryLine,
    MandatoryPoint,
    PointFence,
    Portions,
    driven_fractions,
    driven_portions,
    line_coverage,
    line_length_m,
    merge_portions,
)


class TrackFix(Protocol):
    """A fix as the pipeline keeps it: WGS-84 degrees, time, and the road edge (-1: off it)."""

    @property
    def at(self) -> datetime: ...
    @property
    def lon(self) -> float: ...
    @property
    def lat(self) -> float: ...
    @property
    def edge(self) -> int: ...
    @property
    def fraction(self) -> float: ...


@dataclass(frozen=True)
class PointReport:
    point_id: int
    required: int
    visits: int
    first_at: datetime | None  # first check-in
    late: bool  # first check-in after the point's due time
    missed: bool  # fewer visits than required


@dataclass(frozen=True)
class LineReport:
    line_id: int
    length_m: float
    covered: float  # share of the length driven, 0..1


@dataclass(frozen=True)
class DutyReport:
    """How the mandatory points and lines of one zone were done."""

    points: tuple[PointReport, ...]
    lines: tuple[LineReport, ...]

    @property
    def visits_done(self) -> int:
        """Visits made, counting at most the required number per point."""
        return sum(min(p.visits, p.required) for p in self.points)

    @property
    def visits_required(self) -> int:
        return sum(p.required for p in self.points)

    @property
    def late(self) -> tuple[int, ...]:
        return tuple(p.point_id for p in self.points if p.late)

    @property
    def missed(self) -> tuple[int, ...]:
        return tuple(p.point_id for p in self.points if p.missed)

    @property
    def line_coverage(self) -> float:
        """Share of the total length of the lines driven (1.0 when there are no lines)."""
        total_m = sum(line.length_m for line in self.lines)
        if total_m <= 0:
            return 1.0
        return sum(line.length_m * line.covered for line in self.lines) / total_m


@dataclass(frozen=True)
class UnitReport:
    unit: str
    zone: str  # home zone
    patrol_km: float
    patrol_min: float
    outside_zone_min: float
    check_ins: tuple[CheckIn, ...]  # at any point, in time order
    duty: DutyReport  # the home zone's points and lines, by this unit alone


@dataclass(frozen=True)
class ZoneReport:
    zone: str
    units: tuple[str, ...]  # the units whose home zone it is
    patrol_km: float
    patrol_min: float
    outside_zone_min: float
    duty: DutyReport  # by these units together


@dataclass(frozen=True)
class ShiftReport:
    start: datetime
    end: datetime
    units: tuple[UnitReport, ...]
    zones: tuple[ZoneReport, ...]


def compliance(
    network: RoadNetwork,
    fixes: Mapping[str, Sequence[TrackFix]],
    *,
    fences: ZoneFences,
    points: Sequence[MandatoryPoint],
    lines: Sequence[MandatoryLine],
    home_zones: Mapping[str, str],
    start: datetime,
    end: datetime,
    due_at: Mapping[int, datetime] | None = None,
    manual: Sequence[CheckIn] = (),
    max_gap_s: float = 300.0,
) -> ShiftReport:
    """The compliance report of the shift [start, end) (see the module docstring).

    Parameters
    ----------
    network : the road network the fixes are snapped to.
    fixes : the fixes of each unit, in any order.
    fences : the zone fences; points are projected with the same `fences.xy`.
    points, lines : the mandatory points and lines of every zone (`zone` is a fence code).
    home_zones : the home zone of every unit reported, including units with no fixes.
    due_at : per point id, the time by which its first check-in is due.
    manual : manual check-ins of the shift (see `manual_check_in`).
    max_gap_s : fixes farther apart than this, in seconds, are not joined.
    """
    if not end > start:
        raise InvalidInput(f"a shift must end after it starts, got {start} to {end}")
    if unknown := sorted({*fixes, *(c.unit for c in manual)} - set(home_zones)):
        raise InvalidInput(f"units without a home zone: {', '.join(unknown)}")
    tracker = CheckInTracker(PointFence(points, xy=fences.xy), max_gap_s=max_gap_s)
    duty = _Duty(points, lines, due_at or {}, network)
    units: list[UnitReport] = []
    portions: dict[str, Portions] = {}
    for unit, zone in sorted(home_zones.items()):
        track = sorted((f for f in fixes.get(unit, ()) if start <= f.at < end), key=_time)
        report, portions[unit] = _unit_report(
            unit,
            zone,
            track,
            fences=fences,
            tracker=tracker,
            network=network,
            duty=duty,
            manual=[c for c in manual if c.unit == unit],
        )
        units.append(report)
    codes = {*fences.codes, *home_zones.values(), *(p.zone for p in points)}
    codes |= {line.zone for line in lines}
    zones = tuple(_zone_report(code, units, portions, duty) for code in sorted(codes))
    return ShiftReport(start, end, tuple(units), zones)


def _time(fix: TrackFix) -> datetime:
    return fix.at


@dataclass(frozen=True)
class _Duty:
    """The mandatory points and lines of the city, to be reported zone by zone."""

    points: Sequence[MandatoryPoint]
    lines: Sequence[MandatoryLine]
    due_at: Mapping[int, datetime]
    network: RoadNetwork

    def report(self, zone: str, check_ins: Sequence[CheckIn], driven: Portions) -> DutyReport:
        fractions = driven_fractions(driven)
        point_reports = []
        for p in (p for p in self.points if p.zone == zone):
            times = sorted(c.checked_in_at for c in check_ins if c.point_id == p.id)
            first = times[0] if times else None
            due = self.due_at.get(p.id)
            point_reports.append(
                PointReport(
                    point_id=p.id,
                    required=p.visits_per_shift,
                    visits=len(times),
                    first_at=first,
                    late=first is not None and due is not None and first > due,
                    missed=len(times) < p.visits_per_shift,
                )
            )
        line_reports = tuple(
            LineReport(
                line_id=line.id,
                length_m=line_length_m(self.network, line.edges),
                covered=line_coverage(self.network, line.edges, fractions),
            )
            for line in self.lines
            if line.zone == zone
        )
        return DutyReport(tuple(point_reports), line_reports)


def _unit_report(
    unit: str,
    zone: str,
    track: Sequence[TrackFix],
    *,
    fences: ZoneFences,
    tracker: CheckInTracker,
    network: RoadNetwork,
    duty: _Duty,
    manual: Sequence[CheckIn],
) -> tuple[UnitReport, Portions]:
    """One unit's report, and the road portions it drove."""
    at = [f.at for f in track]
    lon = np.array([f.lon for f in track], dtype=np.float64)
    lat = np.array([f.lat for f in track], dtype=np.float64)
    x, y = fences.xy.transform(lon, lat)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    step_s = np.array([(b - a).total_seconds() for a, b in itertools.pairwise(at)])
    joined = (step_s > 0) & (step_s <= tracker.max_gap_s)
    step_m = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    # outside the home zone from a fix whose fence state lacks it, to the next fix
    state: FenceState | None = None
    outside = np.zeros(len(track), dtype=bool)
    for i in range(len(track)):
        state, _ = fences.update_xy(state, float(x[i]), float(y[i]), at[i])
        outside[i] = zone not in state.zones
    check_ins = tuple(
        sorted(
            [*tracker.replay_xy(unit, x.tolist(), y.tolist(), at), *manual],
            key=lambda c: c.checked_in_at,
        )
    )
    portions = driven_portions(
        network, ((f.edge, f.fraction, f.at) for f in track), max_gap_s=tracker.max_gap_s
    )
    report = UnitReport(
        unit=unit,
        zone=zone,
        patrol_km=float(step_m[joined].sum() / 1000.0),
        patrol_min=float(step_s[joined].sum() / 60.0),
        outside_zone_min=float(step_s[joined & outside[:-1]].sum() / 60.0),
        check_ins=check_ins,
        duty=duty.report(zone, check_ins, portions),
    )
    return report, portions


def _zone_report(
    code: str, units: Sequence[UnitReport], portions: Mapping[str, Portions], duty: _Duty
) -> ZoneReport:
    """A zone's figures: those of the units whose home zone it is, together."""
    mine = [u for u in units if u.zone == code]
    return ZoneReport(
        zone=code,
        units=tuple(u.unit for u in mine),
        patrol_km=sum(u.patrol_km for u in mine),
        patrol_min=sum(u.patrol_min for u in mine),
        outside_zone_min=sum(u.outside_zone_min for u in mine),
        duty=duty.report(
            code,
            [c for u in mine for c in u.check_ins],
            merge_portions(*(portions[u.unit] for u in mine)),
        ),
    )
