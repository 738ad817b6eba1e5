"""Patrol duty of one unit in one shift, kept up to date fix by fix.

Like a tachograph that writes as the lorry drives rather than being read at the end, a unit's
`UnitDuty` takes each accepted fix once: the zone fences it is in, its visits to mandatory points,
its time on patrol, on orders and out of its zone without one, and, map-matched a few minutes
at a time, the roads it drove. The state is plain data that round-trips through JSON, so that it
is stored with the fixes that made it, and a restart resumes where it was (`tracking.duty_store`).

Rules, all of them in `DutyRules`:

- **Fusion.** A unit with several devices (a terminal and a phone) is one car: the device whose
  fix came last is followed, and another device's fix counts only when the followed one has been
  silent for `fuse_s` seconds, or reports a position at least twice as accurate. Two devices
  78 m apart in one parked car are not 78 m of driving each second.
- **Time.** The time between two consecutive fixes (at most `max_gap_s` apart) is order time
  when the unit was on a dispatch order at the first of them, else patrol time; patrol time with
  the unit's zone fences not holding its home zone is also time out of zone (unauthorised: a
  car sent to another zone is on an order).
- **Visits.** Mandatory points' circles with hysteresis (`tracking.patrol.PointVisits`): a car
  parked at the edge of a circle is one visit, whatever its GPS noise; a gap longer than
  `max_gap_s` ends every visit.
- **Roads.** The fixes not yet matched wait in `pending`; they are map-matched
  (`geo.matching`) once they span `match_every_s` and number `match_min_fixes` (the matcher
  needs a few fixes to tell a road from the one beside it), or span `match_max_s` whatever their
  number, or the unit's order state changes (so that a matched stretch is all patrol or all
  order), or a gap breaks the track. The pieces driven join the shift's portions, and those of
  each line duty window they fall in. The last matched fix starts the next stretch, so no metre
  is counted twice.
- **Passes.** A line is driven once each time what was driven of it since its last pass reaches
  `pass_share` of its length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from jiaoxun.geo.matching import MatchedPath, Matcher, path_length_m, path_portions, stretch_of
from jiaoxun.geo.network import Ints, RoadNetwork
from jiaoxun.tracking.clock import in_window, window_key
from jiaoxun.tracking.geofence import FenceEvent, FenceState, ZoneFences
from jiaoxun.tracking.lines import (
    Alongside,
    MandatoryLine,
    Portions,
    add_portions,
    alongside,
    driven_fractions,
    line_coverage,
    merge_portions,
)
from jiaoxun.tracking.patrol import CheckIn, MandatoryPoint, PointFence, PointVisits, Visit

#: portions as a duty keeps them, added to in place (`tracking.lines.add_portions`)
Driven = dict[int, tuple[tuple[float, float], ...]]

#: the key of a shift's whole portions, beside those of the line windows ("07:00-08:00")
SHIFT = "shift"


@dataclass(frozen=True)
class DutyRules:
    """What every unit's duty is judged by (see the module docstring)."""

    fences: ZoneFences
    visits: PointVisits
    lines: Sequence[MandatoryLine]
    network: RoadNetwork
    matcher: Matcher
    tz: ZoneInfo
    max_gap_s: float = 300.0
    fuse_s: float = 15.0
    match_every_s: float = 60.0
    match_min_fixes: int = 10
    match_max_s: float = 600.0
    pass_share: float = 0.9
    #: the line duty windows: key -> window
    line_windows: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: the stretches alongside the lines' (`tracking.lines.alongside`): they count for them
    beside: Alongside = field(default_factory=dict)
    #: the lines each stretch counts for, its own or alongside theirs
    lines_of: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        fences: ZoneFences,
        points: Sequence[MandatoryPoint],
        lines: Sequence[MandatoryLine],
        network: RoadNetwork,
        matcher: Matcher,
        tz: ZoneInfo,
        leave_margin_m: float = 20.0,
        min_visit_gap_s: float = 300.0,
        **options: Any,
    ) -> DutyRules:
        windows = {window_key(w): (w[0], w[1]) for line in lines for w in line.windows}
        fence = PointFence(points, xy=fences.xy)
        beside = alongside(network, lines, matcher.snapper)
        lines_of: dict[int, set[int]] = {}
        for line in lines:
            for edge in line.edges:
                key = stretch_of(network, edge)[0]
                for k in (key, *(other for other, _ in beside.get(key, ()))):
                    lines_of.setdefault(k, set()).add(line.id)
        return cls(
            fences=fences,
            visits=PointVisits(
                fence, leave_margin_m=leave_margin_m, min_visit_gap_s=min_visit_gap_s
            ),
            lines=tuple(lines),
            network=network,
            matcher=matcher,
            tz=tz,
            line_windows=windows,
            beside=beside,
            lines_of={k: tuple(sorted(v)) for k, v in lines_of.items()},
            **options,
        )


@dataclass
class Fixed:
    """The last fix a unit's duty took."""

    at: datetime
    lon: float
    lat: float
    device: str
    accuracy_m: float | None


@dataclass
class UnitDuty:
    """One unit's duty in the shift [shift_start, shift_end) so far (see the module docstring).

    `pending` holds the fixes not yet map-matched (Unix seconds, lon, lat), the first of them
    the last fix matched; `portions` the roads driven, by `SHIFT` and line window, and
    `on_lines` the part of them that counts for the mandatory lines (what the report reads);
    `line_drive` what was driven of each home line since its last pass, and `passes` the passes
    made.
    """

    unit_id: int
    home_zone: str
    shift_start: datetime
    shift_end: datetime
    last: Fixed | None = None
    on_order: bool = False
    zones: frozenset[str] = frozenset()
    visits: dict[int, Visit] = field(default_factory=dict)
    patrol_s: float = 0.0
    order_s: float = 0.0
    outside_s: float = 0.0
    patrol_m: float = 0.0
    order_m: float = 0.0
    pending: list[tuple[float, float, float]] = field(default_factory=list)
    pending_on_order: bool = False
    portions: dict[str, Driven] = field(default_factory=dict)
    on_lines: dict[str, Driven] = field(default_factory=dict)
    line_drive: dict[int, Portions] = field(default_factory=dict)
    passes: dict[int, int] = field(default_factory=dict)
    #: the portions changed since they were last stored
    portions_dirty: bool = False

    # -- storage ------------------------------------------------------------------------------

    def state_json(self) -> dict[str, Any]:
        """Everything but the portions, as JSON."""
        last = self.last
        return {
            "home_zone": self.home_zone,
            "last": None
            if last is None
            else [last.at.isoformat(), last.lon, last.lat, last.device, last.accuracy_m],
            "on_order": self.on_order,
            "zones": sorted(self.zones),
            "visits": [
                [
                    v.point_id,
                    v.arrived_at.isoformat(),
                    v.last_at.isoformat(),
                    _iso(v.checked_in_at),
                    _iso(v.left_at),
                    v.away_s,
                ]
                for v in self.visits.values()
            ],
            "times_s": [self.patrol_s, self.order_s, self.outside_s],
            "metres": [self.patrol_m, self.order_m],
            "pending": self.pending,
            "pending_on_order": self.pending_on_order,
            "passes": {str(k): v for k, v in self.passes.items()},
        }

    def portions_json(self) -> dict[str, Any]:
        """What was driven of the lines, and their passes in progress, as JSON."""
        return {
            "on_lines": {k: _portions_json(p) for k, p in self.on_lines.items()},
            "lines": {str(k): _portions_json(p) for k, p in self.line_drive.items()},
        }

    def roads_json(self) -> dict[str, Any]:
        """The roads driven, as JSON."""
        return {k: _portions_json(p) for k, p in self.portions.items()}

    @classmethod
    def from_json(
        cls,
        unit_id: int,
        shift_start: datetime,
        shift_end: datetime,
        state: Mapping[str, Any],
        portions: Mapping[str, Any],
        roads: Mapping[str, Any] | None = None,
    ) -> UnitDuty:
        """A duty stored as `state_json`, `portions_json` and `roads_json`; without `roads`
        (the report needs only what counts for the lines) its `portions` are left empty."""
        last = state.get("last")
        duty = cls(unit_id, str(state["home_zone"]), shift_start, shift_end)
        if last is not None:
            duty.last = Fixed(datetime.fromisoformat(last[0]), last[1], last[2], last[3], last[4])
        duty.on_order = bool(state["on_order"])
        duty.zones = frozenset(state["zones"])
        for point_id, arrived, last_at, checked, left, away_s in state["visits"]:
            duty.visits[int(point_id)] = Visit(
                int(point_id),
                datetime.fromisoformat(arrived),
                datetime.fromisoformat(last_at),
                _from_iso(checked),
                _from_iso(left),
                float(away_s),
            )
        duty.patrol_s, duty.order_s, duty.outside_s = state["times_s"]
        duty.patrol_m, duty.order_m = state["metres"]
        duty.pending = [(float(t), float(x), float(y)) for t, x, y in state["pending"]]
        duty.pending_on_order = bool(state["pending_on_order"])
        duty.passes = {int(k): int(v) for k, v in state["passes"].items()}
        duty.on_lines = {k: _portions_of(p) for k, p in portions.get("on_lines", {}).items()}
        duty.portions = {k: _portions_of(p) for k, p in (roads or {}).items()}
        duty.line_drive = {int(k): _portions_of(p) for k, p in portions.get("lines", {}).items()}
        return duty

    def next_shift(self, shift_start: datetime, shift_end: datetime) -> UnitDuty:
        """The duty of the following shift: where the unit is, its fences and its visit in
        progress carry over; its times, roads and passes start again."""
        following = UnitDuty(self.unit_id, self.home_zone, shift_start, shift_end)
        following.last, following.on_order, following.zones = self.last, self.on_order, self.zones
        following.visits = dict(self.visits)
        if self.pending:
            following.pending = self.pending[-1:]
            following.pending_on_order = self.pending_on_order
        return following


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _portions_json(portions: Portions) -> dict[str, list[list[float]]]:
    return {str(k): [[lo, hi] for lo, hi in v] for k, v in portions.items()}


def _portions_of(data: Mapping[str, Any]) -> Driven:
    return {int(k): tuple((float(lo), float(hi)) for lo, hi in v) for k, v in data.items()}


@dataclass(frozen=True)
class Taken:
    """What one fix changed that others must hear of: zone events and check-ins."""

    fence_events: tuple[FenceEvent, ...] = ()
    check_ins: tuple[CheckIn, ...] = ()


def take_fix(
    duty: UnitDuty,
    rules: DutyRules,
    *,
    at: datetime,
    lon: float,
    lat: float,
    device: str,
    accuracy_m: float | None,
    on_order: bool,
    xy: tuple[float, float] | None = None,
    near: tuple[Ints, Ints] | None = None,
) -> Taken:
    """Take one fix of the unit into its duty (see the module docstring); fixes not later than
    the last one taken, and those of a device not followed, change nothing. A batch finds
    for all its fixes at once `xy`, the fix projected with the fences' `xy`, and `near`, the
    zone fences and the points near it (`candidates_many`)."""
    last = duty.last
    if last is not None and at <= last.at:
        return Taken()
    if last is not None and device != last.device and not _switch(last, at, accuracy_m, rules):
        return Taken()
    gap_s = None if last is None else (at - last.at).total_seconds()
    joined = gap_s is not None and gap_s <= rules.max_gap_s
    if joined and gap_s is not None:
        if duty.on_order:
            duty.order_s += gap_s
        else:
            duty.patrol_s += gap_s
            if duty.home_zone and duty.home_zone not in duty.zones:
                duty.outside_s += gap_s
    if not joined:  # the track breaks: what was pending is a stretch of its own
        flush(duty, rules, keep_anchor=False)
        duty.pending_on_order = on_order
    duty.pending.append((at.timestamp(), lon, lat))
    span_s = duty.pending[-1][0] - duty.pending[0][0]
    enough = span_s >= rules.match_every_s and len(duty.pending) >= rules.match_min_fixes
    if on_order != duty.pending_on_order or enough or span_s >= rules.match_max_s:
        flush(duty, rules, keep_anchor=True)  # the step to this fix goes with the one before
    duty.pending_on_order = on_order
    x, y = rules.fences.xy.transform(lon, lat) if xy is None else xy
    zones_near, points_near = (None, None) if near is None else near
    state = FenceState(duty.zones)
    fence, events = rules.fences.update_xy(state, float(x), float(y), at, near=zones_near)
    duty.zones = fence.zones
    check_ins = rules.visits.step(
        duty.visits,
        float(x),
        float(y),
        at,
        unit=str(duty.unit_id),
        joined=joined,
        candidates=points_near,
    )
    duty.last = Fixed(at, lon, lat, device, accuracy_m)
    duty.on_order = on_order
    return Taken(events, check_ins)


def _switch(last: Fixed, at: datetime, accuracy_m: float | None, rules: DutyRules) -> bool:
    """Whether a fix of another device than the one followed is taken (see fusion)."""
    if (at - last.at).total_seconds() > rules.fuse_s:
        return True
    before = last.accuracy_m
    return accuracy_m is not None and before is not None and 2 * accuracy_m <= before


def flush(duty: UnitDuty, rules: DutyRules, *, keep_anchor: bool = True) -> None:
    """Map-match the pending fixes and add the roads driven to the duty; the last of them
    stays pending as the start of the next stretch with `keep_anchor`."""
    if len(duty.pending) >= 2:
        t, lon, lat = (np.array(column) for column in zip(*duty.pending, strict=True))
        path = rules.matcher.match(t, lon, lat)
        driven = path_portions(rules.network, path)
        metres = path_length_m(rules.network, path)
        if duty.pending_on_order:
            duty.order_m += metres
        else:
            duty.patrol_m += metres
        middle = datetime.fromtimestamp((t[0] + t[-1]) / 2, UTC)
        keys = [SHIFT] + [
            k for k, w in rules.line_windows.items() if in_window(middle, w, rules.tz)
        ]
        on_lines = {k: v for k, v in driven.items() if k in rules.lines_of}
        for key in keys:
            add_portions(duty.portions.setdefault(key, {}), driven)
            add_portions(duty.on_lines.setdefault(key, {}), on_lines)
        _passes(duty, rules, path)
        duty.portions_dirty = bool(driven) or duty.portions_dirty
    duty.pending = duty.pending[-1:] if keep_anchor and duty.pending else []


def _passes(duty: UnitDuty, rules: DutyRules, path: MatchedPath) -> None:
    """Count the home lines driven whole again, piece by piece in driving order (see passes)."""
    lines = {line.id: line for line in rules.lines if line.zone == duty.home_zone}
    pieces = zip(
        path.piece_edge.tolist(), path.piece_from.tolist(), path.piece_to.tolist(), strict=True
    )
    for edge, lo, hi in pieces:
        key, a = stretch_of(rules.network, edge, lo)
        _, b = stretch_of(rules.network, edge, hi)
        for line_id in rules.lines_of.get(key, ()):
            line = lines.get(line_id)
            if line is None:
                continue
            so_far = merge_portions(
                duty.line_drive.get(line_id, {}), {key: ((min(a, b), max(a, b)),)}
            )
            covered = line_coverage(
                rules.network, line.edges, driven_fractions(so_far), beside=rules.beside
            )
            if covered >= rules.pass_share:
                duty.passes[line_id] = duty.passes.get(line_id, 0) + 1
                so_far = {}
            duty.line_drive[line_id] = so_far
