"""The patrol compliance report of a shift, per unit and per zone, from the stored duties.

Each unit's `UnitDuty` (`tracking.duty`) already holds its times and the roads it drove, kept up
as its fixes came in; the report only adds them up and judges them against the duty rules, so
it costs milliseconds however long the shift. Pure: plain inputs in, frozen dataclasses out.

Judging, at the moment `now` (a shift still running has duties still to come):

- **Points.** Visits are the proved check-ins (by dwelling, or by hand when the unit's own track
  proves the stay), those less than `min_visit_gap_s` apart counted as one. A point without duty
  windows is done with its visits per shift, pending while the shift runs, missed after. A point
  with windows (school gates 07:00-08:00 and 16:30-17:30) needs a visit in each: done when it
  came within the window, late when it came after it, pending while the window is open or to
  come, overdue once it has closed with no visit yet, missed when the shift ended without one.
- **Lines.** The share of its length driven in the shift (or, for a line with windows, within
  them), a road running alongside it (the other carriageway, a side road, an elevated road)
  counting for it, and its passes, each a time what was driven of it since the last pass reached
  `DutyRules.pass_share` of it: done with its passes per shift, pending while the shift runs,
  missed after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jiaoxun.geo.network import RoadNetwork
from jiaoxun.tracking.clock import parse_clock, window_key
from jiaoxun.tracking.duty import SHIFT, UnitDuty
from jiaoxun.tracking.lines import (
    Alongside,
    MandatoryLine,
    Portions,
    driven_fractions,
    line_coverage,
    line_length_m,
    merge_portions,
)
from jiaoxun.tracking.patrol import MandatoryPoint

Status = Literal["done", "pending", "overdue", "late", "missed"]
_WORST: tuple[Status, ...] = ("missed", "overdue", "late", "pending", "done")


@dataclass(frozen=True)
class CheckInRecord:
    """A check-in as stored: by dwelling or by hand, proved or not."""

    point_id: int
    unit_id: int
    arrived_at: datetime
    checked_in_at: datetime
    manual: bool
    proved: bool


@dataclass(frozen=True)
class WindowReport:
    start: datetime
    end: datetime
    visited_at: datetime | None  # the first visit in the window, else the first after it
    status: Status


@dataclass(frozen=True)
class PointReport:
    point_id: int
    required: int
    visits: int  # proved visits
    unproved: int  # manual check-ins the track does not prove: shown, never counted
    first_at: datetime | None
    windows: tuple[WindowReport, ...]
    status: Status

    @property
    def late(self) -> bool:
        return any(w.status == "late" for w in self.windows)

    @property
    def missed(self) -> bool:
        return self.status == "missed"


@dataclass(frozen=True)
class LineReport:
    line_id: int
    length_m: float
    covered: float  # share of the length driven (within its windows, if any), 0..1
    passes: int
    required_passes: int
    status: Status


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
class Times:
    """Kilometres and minutes of a unit or zone: on patrol, on orders, out of zone unsent."""

    patrol_km: float = 0.0
    patrol_min: float = 0.0
    order_km: float = 0.0
    order_min: float = 0.0
    outside_zone_min: float = 0.0

    def __add__(self, other: Times) -> Times:
        return Times(
            self.patrol_km + other.patrol_km,
            self.patrol_min + other.patrol_min,
            self.order_km + other.order_km,
            self.order_min + other.order_min,
            self.outside_zone_min + other.outside_zone_min,
        )


@dataclass(frozen=True)
class UnitReport:
    unit_id: int
    unit: str  # call sign
    zone: str  # home zone
    times: Times
    check_ins: tuple[CheckInRecord, ...]  # at any point, in time order
    roads_as_of: datetime | None  # the last fix whose roads are matched (in the portions)
    duty: DutyReport  # the home zone's points and lines, by this unit alone


@dataclass(frozen=True)
class ZoneReport:
    zone: str
    units: tuple[str, ...]  # the units whose home zone it is
    times: Times
    duty: DutyReport  # by these units together


@dataclass(frozen=True)
class ShiftReport:
    start: datetime
    end: datetime
    units: tuple[UnitReport, ...]
    zones: tuple[ZoneReport, ...]


@dataclass(frozen=True)
class ReportRules:
    network: RoadNetwork
    points: Sequence[MandatoryPoint]
    lines: Sequence[MandatoryLine]
    tz: ZoneInfo
    min_visit_gap_s: float = 300.0
    #: the stretches alongside the lines' (`tracking.lines.alongside`): they count for them
    beside: Alongside = field(default_factory=dict)


def compliance(
    rules: ReportRules,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    units: Mapping[int, tuple[str, str]],
    duties: Mapping[int, UnitDuty],
    check_ins: Sequence[CheckInRecord],
) -> ShiftReport:
    """The report of the shift [start, end) judged at `now` (see the module docstring).

    Parameters
    ----------
    units : per unit id, its call sign and home zone code; every unit reported.
    duties : the stored duty of each unit of the shift that has one.
    check_ins : the shift's check-ins.
    """
    reports = []
    for unit_id, (sign, zone) in sorted(units.items(), key=lambda u: u[1][0]):
        duty = duties.get(unit_id)
        mine = tuple(sorted((c for c in check_ins if c.unit_id == unit_id), key=_at))
        portions = duty.on_lines if duty is not None else {}
        reports.append(
            UnitReport(
                unit_id=unit_id,
                unit=sign,
                zone=zone,
                times=_times(duty),
                check_ins=mine,
                roads_as_of=_roads_as_of(duty),
                duty=_duty(rules, zone, mine, portions, _passes([duty]), start, end, now),
            )
        )
    codes = {zone for _, zone in units.values()} | {p.zone for p in rules.points}
    codes |= {line.zone for line in rules.lines}
    zones = []
    for code in sorted(codes - {""}):
        home = [u for u in reports if u.zone == code]
        their = [duties[u.unit_id] for u in home if u.unit_id in duties]
        together: dict[str, Portions] = {
            key: merge_portions(*(d.on_lines.get(key, {}) for d in their))
            for key in {k for d in their for k in d.on_lines}
        }
        zones.append(
            ZoneReport(
                zone=code,
                units=tuple(u.unit for u in home),
                times=sum((u.times for u in home), Times()),
                duty=_duty(
                    rules,
                    code,
                    [c for u in home for c in u.check_ins],
                    together,
                    _passes(their),
                    start,
                    end,
                    now,
                ),
            )
        )
    return ShiftReport(start, end, tuple(reports), tuple(zones))


def _at(c: CheckInRecord) -> datetime:
    return c.checked_in_at


def _times(duty: UnitDuty | None) -> Times:
    if duty is None:
        return Times()
    return Times(
        patrol_km=duty.patrol_m / 1000,
        patrol_min=duty.patrol_s / 60,
        order_km=duty.order_m / 1000,
        order_min=duty.order_s / 60,
        outside_zone_min=duty.outside_s / 60,
    )


def _roads_as_of(duty: UnitDuty | None) -> datetime | None:
    if duty is None or not duty.pending:
        return duty.last.at if duty is not None and duty.last is not None else None
    return datetime.fromtimestamp(duty.pending[0][0], duty.shift_start.tzinfo)


def _passes(duties: Sequence[UnitDuty | None]) -> dict[int, int]:
    passes: dict[int, int] = {}
    for duty in duties:
        for line_id, n in (duty.passes if duty is not None else {}).items():
            passes[line_id] = passes.get(line_id, 0) + n
    return passes


def _duty(
    rules: ReportRules,
    zone: str,
    check_ins: Sequence[CheckInRecord],
    portions: Mapping[str, Portions],
    passes: Mapping[int, int],
    start: datetime,
    end: datetime,
    now: datetime,
) -> DutyReport:
    over = now >= end
    points = tuple(
        _point(rules, p, [c for c in check_ins if c.point_id == p.id], start, end, now)
        for p in rules.points
        if p.zone == zone
    )
    lines = []
    fractions: dict[tuple[str, ...], dict[int, float]] = {}  # by the keys of the portions
    for line in (x for x in rules.lines if x.zone == zone):
        keys = tuple(window_key(w) for w in line.windows) or (SHIFT,)
        if keys not in fractions:
            parts = [portions.get(k, {}) for k in keys]
            fractions[keys] = driven_fractions(
                parts[0] if len(parts) == 1 else merge_portions(*parts)
            )
        done = passes.get(line.id, 0)
        status: Status = (
            "done" if done >= line.passes_per_shift else "missed" if over else "pending"
        )
        lines.append(
            LineReport(
                line_id=line.id,
                length_m=line_length_m(rules.network, line.edges),
                covered=line_coverage(
                    rules.network, line.edges, fractions[keys], beside=rules.beside
                ),
                passes=done,
                required_passes=line.passes_per_shift,
                status=status,
            )
        )
    return DutyReport(points, tuple(lines))


def _point(
    rules: ReportRules,
    point: MandatoryPoint,
    check_ins: Sequence[CheckInRecord],
    start: datetime,
    end: datetime,
    now: datetime,
) -> PointReport:
    visits = _visits(sorted(c.checked_in_at for c in check_ins if c.proved), rules.min_visit_gap_s)
    windows = tuple(
        _window(w_start, w_end, visits, shift_end=end, now=now)
        for w_start, w_end in occurrences(point.windows, start, end, rules.tz)
    )
    if len(visits) >= point.visits_per_shift:
        status: Status = "done"
    else:
        status = "missed" if now >= end else "pending"
    for w in windows:
        status = min(status, w.status, key=_WORST.index)
    return PointReport(
        point_id=point.id,
        required=point.visits_per_shift,
        visits=len(visits),
        unproved=sum(1 for c in check_ins if not c.proved),
        first_at=visits[0] if visits else None,
        windows=windows,
        status=status,
    )


def _visits(times: Sequence[datetime], min_gap_s: float) -> list[datetime]:
    """The first check-in of each visit: check-ins closer than `min_gap_s` are one visit."""
    visits: list[datetime] = []
    for at in times:
        if not visits or (at - visits[-1]).total_seconds() >= min_gap_s:
            visits.append(at)
    return visits


def _window(
    start: datetime,
    end: datetime,
    visits: Sequence[datetime],
    *,
    shift_end: datetime,
    now: datetime,
) -> WindowReport:
    inside = [v for v in visits if start <= v < end]
    if inside:
        return WindowReport(start, end, inside[0], "done")
    after = [v for v in visits if end <= v < shift_end]
    if after:
        return WindowReport(start, end, after[0], "late")
    if now >= shift_end:
        return WindowReport(start, end, None, "missed")
    return WindowReport(start, end, None, "overdue" if now >= end else "pending")


def occurrences(
    windows: Sequence[tuple[str, str]], start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Each daily window as it falls within [start, end), clipped to it, in time order."""
    found = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, datetime.min.time(), tzinfo=tz) < end:
        for w_start, w_end in windows:
            a = datetime.combine(day, parse_clock(w_start), tzinfo=tz)
            b = datetime.combine(day, parse_clock(w_end), tzinfo=tz)
            if b <= a:
                b += timedelta(days=1)  # across midnight
            a, b = max(a, start), min(b, end)
            if a < b:
                found.append((a, b))
        day += timedelta(days=1)
    return sorted(found)
