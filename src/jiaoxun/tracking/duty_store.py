"""The live patrol duty of every unit, taken fix by fix and stored with the fixes.

The ingestor hands each batch's accepted fixes to `DutyKeeper.take` inside the batch's
transaction, and a unit's duty is stored with them when it has news, else every half minute: a
stored `PatrolState` is never ahead of the track points stored, and a process killed mid-batch
loses both or neither. At start `resume` reads the states of the current shift and takes,
without announcing anything, the stored fixes that came after them; a unit with
fixes but no state (the first start of this version), or whose fixes came late (a terminal's
blind-area upload), is rebuilt from the shift's stored track (`rebuild`). Check-ins and zone
events found again are stored once (unique indexes), never announced twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, undefer

from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.duty import DutyRules, UnitDuty, flush, take_fix
from jiaoxun.tracking.duty_rules import OrderTimes
from jiaoxun.tracking.found import Found, store_found
from jiaoxun.tracking.models import PatrolState, TrackPoint
from jiaoxun.units.models import Unit

log = logging.getLogger(__name__)

#: a shift is keyed by its unit and start
ShiftKey = tuple[int, datetime]


@dataclass(frozen=True)
class UnitFixIn:
    """An accepted fix of a unit, as the duty takes it."""

    unit_id: int
    device_id: str
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None


class DutyKeeper:
    """Every unit's duty in its current shift (see the module docstring).

    Parameters
    ----------
    rules : the duty rules (fences, points, lines, matcher).
    clock : when shifts start and end.
    homes : the home zone code of each unit.
    zone_codes : the code of each zone by id, for the home zone of a unit added since.
    checkpoint_s : a duty is stored at least this often while its unit sends (see `_due`).
    """

    def __init__(
        self,
        rules: DutyRules,
        *,
        clock: ShiftClock,
        homes: Mapping[int, str],
        zone_codes: Mapping[int, str] | None = None,
        checkpoint_s: float = 30.0,
    ) -> None:
        self.rules, self.clock, self.homes = rules, clock, dict(homes)
        self.zone_codes = dict(zone_codes or {})
        #: a duty taken is stored at least this often (see `_due`)
        self.checkpoint_s = checkpoint_s
        self.stored_at: dict[ShiftKey, datetime] = {}
        self.duties: dict[int, UnitDuty] = {}
        self.row_ids: dict[ShiftKey, int] = {}
        #: units whose stored fixes came late: rebuilt by `rebuild_late`
        self.late: set[ShiftKey] = set()

    # -- live ---------------------------------------------------------------------------------

    def take(self, session: Session, fixes: Sequence[UnitFixIn], *, now: datetime) -> list[Found]:
        """Take a batch's accepted fixes (any order) into the duties, store the duties
        changed, and return what they found. A fix older than its unit's duty is left to
        `rebuild_late`."""
        if not fixes:
            return []
        orders = OrderTimes.read(
            session,
            (f.unit_id for f in fixes),
            since=min(f.at for f in fixes),
            until=max(f.at for f in fixes),
        )
        found: list[Found] = []
        touched: dict[ShiftKey, UnitDuty] = {}
        # a second device's fix a little older than the last one taken is fusion's to drop
        fused = timedelta(seconds=self.rules.fuse_s)
        ordered = sorted(fixes, key=lambda f: f.at)
        rules = self.rules
        x, y = (
            np.asarray(v, dtype=np.float64)
            for v in rules.fences.xy.transform([f.lon for f in ordered], [f.lat for f in ordered])
        )
        zones_near = rules.fences.candidates_many(x, y)
        margin_m = rules.visits.leave_margin_m
        points_near = rules.visits.fence.candidates_many(x, y, margin_m=margin_m)
        for i, fix in enumerate(ordered):
            duty = self._duty_at(session, fix.unit_id, fix.at, touched)
            if duty is None or (duty.last is not None and fix.at < duty.last.at - fused):
                self.late.add((fix.unit_id, self.clock.shift_at(fix.at)[0]))
                continue
            taken = take_fix(
                duty,
                self.rules,
                at=fix.at,
                lon=fix.lon,
                lat=fix.lat,
                device=fix.device_id,
                accuracy_m=fix.accuracy_m,
                on_order=orders.on_order(fix.unit_id, fix.at),
                xy=(float(x[i]), float(y[i])),
                near=(zones_near[i], points_near[i]),
            )
            touched[(duty.unit_id, duty.shift_start)] = duty
            if taken.fence_events or taken.check_ins:
                found.append(Found(fix.unit_id, fix.device_id, taken))
        news = {f.unit_id for f in found}
        self._store_many(
            session,
            [d for key, d in touched.items() if self._due(key, d, now=now, news=news)],
            now=now,
        )
        store_found(session, found)
        return found

    def _due(self, key: ShiftKey, duty: UnitDuty, *, now: datetime, news: set[int]) -> bool:
        """Whether a duty taken in this batch is stored now: when new, with new roads or news
        (a check-in, a zone crossed), else every `checkpoint_s`. A duty stored a little late
        loses nothing: `resume` takes the stored fixes after it again."""
        stored = self.stored_at.get(key)
        return (
            stored is None
            or duty.portions_dirty
            or duty.unit_id in news
            or (now - stored).total_seconds() >= self.checkpoint_s
        )

    def _store_many(self, session: Session, duties: Sequence[UnitDuty], *, now: datetime) -> None:
        """Store duties: the new ones as rows, the others in one statement per kind of change."""
        changes: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        new = [d for d in duties if (d.unit_id, d.shift_start) not in self.row_ids]
        if new:
            made = session.execute(
                insert(PatrolState).returning(PatrolState.id, PatrolState.unit_id),
                [
                    {
                        "unit_id": d.unit_id,
                        "shift_start": d.shift_start,
                        "shift_end": d.shift_end,
                        "state": d.state_json(),
                        "portions": d.portions_json(),
                        "roads": d.roads_json(),
                        "updated_at": now,
                    }
                    for d in new
                ],
            )
            row_of = {unit_id: row_id for row_id, unit_id in made}  # a unit once a batch
            for d in new:
                self.row_ids[(d.unit_id, d.shift_start)] = row_of[d.unit_id]
                self.stored_at[(d.unit_id, d.shift_start)] = now
                d.portions_dirty = False
        made_now = {id(d) for d in new}
        for duty in duties:
            key = (duty.unit_id, duty.shift_start)
            if id(duty) in made_now:
                continue
            row = {"row_id": self.row_ids[key], "b_state": duty.state_json(), "b_at": now}
            if duty.portions_dirty:
                row["b_portions"] = duty.portions_json()
                row["b_roads"] = duty.roads_json()
            changes[duty.portions_dirty].append(row)
            duty.portions_dirty = False
            self.stored_at[key] = now
        for with_portions, rows in changes.items():
            if not rows:
                continue
            values: dict[str, Any] = {
                "state": bindparam("b_state"),
                "updated_at": bindparam("b_at"),
            }
            if with_portions:
                values["portions"] = bindparam("b_portions")
                values["roads"] = bindparam("b_roads")
            statement = update(PatrolState).where(PatrolState.id == bindparam("row_id"))
            session.connection().execute(statement.values(**values), rows)

    def _duty_at(
        self,
        session: Session,
        unit_id: int,
        at: datetime,
        touched: dict[ShiftKey, UnitDuty],
    ) -> UnitDuty | None:
        """The unit's duty of the shift of `at`, rolled over into a new shift when `at` is past
        the current one; None when `at` lies in a shift before it."""
        duty = self.duties.get(unit_id)
        if duty is not None and duty.shift_start <= at < duty.shift_end:
            return duty
        start, end = self.clock.shift_at(at)
        if duty is not None and start < duty.shift_start:
            return None
        if duty is None:
            duty = UnitDuty(unit_id, self._home(session, unit_id), start, end)
        else:  # the shift is over: what was pending is matched and stored with it
            flush(duty, self.rules, keep_anchor=True)
            self._store(session, duty, now=at)
            touched.pop((unit_id, duty.shift_start), None)
            duty = duty.next_shift(start, end)
        self.duties[unit_id] = duty
        return duty

    def _home(self, session: Session, unit_id: int) -> str:
        """The unit's home zone code ('' for none), read for a unit added since the start."""
        if unit_id not in self.homes:
            zone_id = session.scalar(select(Unit.zone_id).where(Unit.id == unit_id))
            self.homes[unit_id] = self.zone_codes.get(zone_id, "") if zone_id else ""
        return self.homes[unit_id]

    def _store(self, session: Session, duty: UnitDuty, *, now: datetime) -> None:
        key = (duty.unit_id, duty.shift_start)
        values = {"state": duty.state_json(), "updated_at": now}
        if duty.portions_dirty or key not in self.row_ids:
            values["portions"] = duty.portions_json()
            values["roads"] = duty.roads_json()
        row_id = self.row_ids.get(key)
        if row_id is None:
            row = PatrolState(
                unit_id=duty.unit_id, shift_start=duty.shift_start, shift_end=duty.shift_end
            )
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            session.flush()
            self.row_ids[key] = row.id
        else:
            session.execute(update(PatrolState).where(PatrolState.id == row_id).values(**values))
        duty.portions_dirty = False
        self.stored_at[key] = now

    def flush_all(self, session: Session, *, now: datetime) -> None:
        """Map-match every unit's pending fixes now and store (before a report, at a stop)."""
        for duty in self.duties.values():
            if len(duty.pending) >= 2:
                flush(duty, self.rules, keep_anchor=True)
        self._store_many(session, list(self.duties.values()), now=now)

    # -- resuming and rebuilding --------------------------------------------------------------

    def resume(self, session: Session, *, now: datetime) -> int:
        """Read the duties of the current shift and catch them up with the stored fixes; a
        unit with fixes in the shift but no duty is rebuilt. Returns the fixes taken."""
        start, end = self.clock.shift_at(now)
        before, _ = self.clock.shift_at(start - timedelta(microseconds=1))
        self.duties.clear()
        self.row_ids.clear()
        rows = session.scalars(
            select(PatrolState)
            .options(undefer(PatrolState.roads))
            .where(PatrolState.shift_start.in_([before, start]))
            .order_by(PatrolState.shift_start)
        )
        for row in rows:  # the shift before first: where a unit is carries over
            duty = UnitDuty.from_json(
                row.unit_id, row.shift_start, row.shift_end, row.state, row.portions, row.roads
            )
            if row.shift_start == start:
                self.row_ids[(row.unit_id, start)] = row.id
                self.duties[row.unit_id] = duty
            else:
                self.duties[row.unit_id] = duty.next_shift(start, end)
        with_fixes = session.scalars(
            select(TrackPoint.unit_id)
            .where(TrackPoint.at >= start, TrackPoint.at < end, TrackPoint.unit_id.is_not(None))
            .distinct()
        ).all()
        taken = 0
        for unit_id in sorted(u for u in with_fixes if u is not None):
            stored = self.duties.get(unit_id)
            if (unit_id, start) not in self.row_ids or stored is None:
                taken += self.rebuild(session, unit_id, start, now=now)
            else:
                since = stored.last.at if stored.last is not None else None
                taken += self._catch_up(session, stored, since=since, now=now)
        return taken

    def rebuild(
        self, session: Session, unit_id: int, shift_start: datetime, *, now: datetime
    ) -> int:
        """The unit's duty of a shift taken again from its stored fixes; returns how many."""
        start, end = self.clock.shift_at(shift_start)
        duty = UnitDuty(unit_id, self._home(session, unit_id), start, end)
        known = self.duties.get(unit_id)
        if known is not None and known.shift_start == start:
            duty.zones = known.zones  # where it was when the shift began is not news
        taken = self._catch_up(session, duty, since=None, now=now)
        if unit_id not in self.duties or self.duties[unit_id].shift_start <= start:
            self.duties[unit_id] = duty
        return taken

    def rebuild_late(self, session: Session, *, now: datetime) -> int:
        """Rebuild the duties whose fixes came late (housekeeping)."""
        late, self.late = self.late, set()
        return sum(self.rebuild(session, unit, start, now=now) for unit, start in sorted(late))

    def _catch_up(
        self, session: Session, duty: UnitDuty, *, since: datetime | None, now: datetime
    ) -> int:
        """Take the stored fixes of the duty's shift after `since` (all with None), silently."""
        where = [
            TrackPoint.unit_id == duty.unit_id,
            TrackPoint.at >= duty.shift_start,
            TrackPoint.at < duty.shift_end,
        ]
        if since is not None:
            where.append(TrackPoint.at > since)
        rows = session.execute(
            select(
                TrackPoint.device_id,
                TrackPoint.at,
                TrackPoint.lon,
                TrackPoint.lat,
                TrackPoint.accuracy_m,
            )
            .where(*where)
            .order_by(TrackPoint.at, TrackPoint.id)
        ).all()
        if not rows and since is not None:
            return 0
        orders = OrderTimes.read(
            session, [duty.unit_id], since=duty.shift_start, until=duty.shift_end
        )
        found = []
        for device_id, at, lon, lat, accuracy_m in rows:
            taken = take_fix(
                duty,
                self.rules,
                at=at,
                lon=lon,
                lat=lat,
                device=device_id,
                accuracy_m=accuracy_m,
                on_order=orders.on_order(duty.unit_id, at),
            )
            if taken.fence_events or taken.check_ins:
                found.append(Found(duty.unit_id, device_id, taken))
        if duty.shift_end <= now:  # a shift over: nothing more will come to match
            flush(duty, self.rules, keep_anchor=False)
        store_found(session, found)
        duty.portions_dirty = True
        self._store(session, duty, now=now)
        return len(rows)
