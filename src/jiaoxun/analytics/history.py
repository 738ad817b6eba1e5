"""A simulated history: a year before the reform and the months after it, written as records.

A new command center has no past, so its statistics page has nothing to compare; like the
synthetic population a census office publishes for testing, `simulate_history` writes a
plausible past drawn from a `Scenario` (the article's figures by default) into the same tables
the live workflow fills: incidents with their dispatch orders and 1-3-5 verdicts (judged by the
real `incidents.targets.judge`), field activities and recognitions. Every record is marked —
incidents `origin="simulated"` with the batch `"<scenario>:<seed>"`, activities and recognitions
`recorded_by="simulated:<scenario>:<seed>"` — so that it can be told apart and replaced, and
no live record is ever touched. The same seed gives the same history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

import numpy as np
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity
from jiaoxun.analytics import history_incidents, history_rows, history_street
from jiaoxun.analytics.history_draw import Days
from jiaoxun.analytics.history_scenario import REFORM, WEEKDAYS, Scenario
from jiaoxun.analytics.models import Recognition
from jiaoxun.city.context import CityContext, load_city_context
from jiaoxun.db import analyze
from jiaoxun.errors import Conflict, InvalidInput
from jiaoxun.incidents.models import SIMULATED, DispatchOrder, Incident, VerdictRow
from jiaoxun.settings import Settings

#: the seed of the demo city's history, written on its first start
DEMO_SEED = 110
#: the longest history written at once (a bound on the work, not a rule of the domain)
MAX_DAYS = 3 * 366
#: rows inserted in one statement
CHUNK = 2000
#: (what is being written, rows written so far, rows in all)
Progress = Callable[[str, int, int], None]
Period = tuple[date, date]


@dataclass(frozen=True)
class HistoryWritten:
    """What `simulate_history` wrote (all zero and `already` when the batch was there)."""

    batch: str
    incidents: int = 0
    invalid: int = 0
    merged: int = 0
    orders: int = 0
    verdicts: int = 0
    activities: int = 0
    recognitions: int = 0
    #: incidents of earlier simulated batches deleted first (`replace`)
    replaced: int = 0
    already: bool = False


def batch_of(scenario: Scenario, seed: int) -> str:
    return f"{scenario.name}:{seed}"


def recorder_of(batch: str) -> str:
    """The `recorded_by` of the activities and recognitions of a simulated batch."""
    return f"{SIMULATED}:{batch}"


def default_periods(today: date) -> tuple[Period, Period]:
    """After: the last two full months before `today`; before: the year up to them, so that
    the months after have last year's to compare with and every month and quarter of the year
    before has its figures."""
    after_end = today.replace(day=1) - timedelta(days=1)
    after_start = (after_end.replace(day=1) - timedelta(days=1)).replace(day=1)
    before_start = after_start.replace(year=after_start.year - 1)
    return (before_start, after_start - timedelta(days=1)), (after_start, after_end)


def check_periods(before: Period, after: Period, *, today: date) -> None:
    """Refuse periods that are empty, overlap, reach today or are longer than `MAX_DAYS`."""
    for name, (start, end) in (("before", before), ("after", after)):
        if start > end:
            raise InvalidInput(f"{name} period starts {start} after it ends {end}")
    if before[1] >= after[0]:
        raise InvalidInput(
            f"the before period must end ({before[1]}) before after starts ({after[0]})"
        )
    if after[1] >= today:
        raise InvalidInput(f"after ends {after[1]}: a history must end before today ({today})")
    days = (after[1] - before[0]).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"the history spans {days} days; at most {MAX_DAYS} are written")


def stored_batches(session: Session) -> set[str]:
    """The simulated batches in the database (from incidents, activities and recognitions)."""
    batches = set(
        session.scalars(select(Incident.batch).where(Incident.origin == SIMULATED).distinct())
    )
    prefix = f"{SIMULATED}:"
    for table in (Activity, Recognition):
        marks = session.scalars(
            select(table.recorded_by).where(table.recorded_by.startswith(prefix)).distinct()
        )
        batches.update(m.removeprefix(prefix) for m in marks)
    return batches


def delete_simulated(session: Session) -> int:
    """Delete every simulated record (never a live one); returns the incidents deleted. A live
    recognition that named a simulated incident keeps its record, without the incident."""
    simulated = select(Incident.id).where(Incident.origin == SIMULATED).scalar_subquery()
    marked = Recognition.recorded_by.startswith(f"{SIMULATED}:")
    session.execute(delete(Recognition).where(marked))
    session.execute(
        update(Recognition).where(Recognition.incident_id.in_(simulated)).values(incident_id=None)
    )
    session.execute(delete(Activity).where(Activity.recorded_by.startswith(f"{SIMULATED}:")))
    session.execute(delete(VerdictRow).where(VerdictRow.incident_id.in_(simulated)))
    session.execute(delete(DispatchOrder).where(DispatchOrder.incident_id.in_(simulated)))
    count = session.scalar(
        select(func.count()).select_from(Incident).where(Incident.origin == SIMULATED)
    )
    # the duplicates first (ix_incident_main_incident_id spares a scan per incident deleted)
    merged = (Incident.origin == SIMULATED) & Incident.main_incident_id.is_not(None)
    session.execute(delete(Incident).where(merged))
    session.execute(delete(Incident).where(Incident.origin == SIMULATED))
    session.expire_all()
    return int(count or 0)


def history_days(before: Period, after: Period, *, settings: Settings, factor: float) -> Days:
    """Each local day of both periods, with its weekday weight and `factor` on the statutory
    holidays the calendar knows (years it does not know get none)."""
    import chinese_calendar

    dates, after_flags = [], []
    for (start, end), is_after in ((before, False), (after, True)):
        for k in range((end - start).days + 1):
            dates.append(start + timedelta(days=k))
            after_flags.append(is_after)
    weights = []
    for day in dates:
        weight = WEEKDAYS[day.weekday()]
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if on_holiday and name is not None:
                weight *= factor
        except NotImplementedError:
            pass
        weights.append(weight)
    midnight = [datetime.combine(d, time(), tzinfo=settings.tz).timestamp() for d in dates]
    return Days(
        midnight_s=np.array(midnight, dtype=np.float64),
        after=np.array(after_flags, dtype=bool),
        weight=np.array(weights, dtype=np.float64),
    )


def simulate_history(
    session: Session,
    city: CityContext,
    settings: Settings,
    *,
    scenario: Scenario,
    seed: int,
    before: Period,
    after: Period,
    now: datetime,
    replace: bool = False,
    progress: Progress | None = None,
) -> HistoryWritten:
    """Write the simulated history of `scenario` drawn with `seed` (flushes, never commits).

    Writes nothing when this batch is stored already; refuses when another simulated batch is
    stored, unless `replace`, which deletes every simulated record first.
    """
    if not 0 <= seed < 2**32:
        raise InvalidInput(f"seed(={seed}) must be between 0 and 2**32 - 1")
    check_periods(before, after, today=now.astimezone(settings.tz).date())
    batch = batch_of(scenario, seed)
    stored = stored_batches(session)
    replaced = 0
    if stored and not replace:
        if stored == {batch}:
            return HistoryWritten(batch=batch, already=True)
        others = ", ".join(sorted(stored - {batch}))
        raise Conflict(
            f"simulated history {others} is stored; replace it with {batch} (--replace) or keep it"
        )
    if stored:
        replaced = delete_simulated(session)
    days = history_days(before, after, settings=settings, factor=scenario.holiday_factor)
    rows = _draw_rows(session, city, settings, scenario=scenario, seed=seed, days=days, now=now)
    written = _insert_all(session, rows, progress=progress)
    analyze(session, "incident", "dispatch_order", "incident_verdict", "activity", "recognition")
    return HistoryWritten(
        batch=batch,
        incidents=written["incident"],
        invalid=rows.invalid,
        merged=written["merged"],
        orders=written["order"],
        verdicts=written["verdict"],
        activities=written["activity"],
        recognitions=written["recognition"],
        replaced=replaced,
    )


def simulate_demo_history(session: Session, settings: Settings, *, now: datetime) -> HistoryWritten:
    """The demo city's history on its first start: the `REFORM` scenario with `DEMO_SEED`
    over the default periods, so that the statistics page has a year to show."""
    before, after = default_periods(now.astimezone(settings.tz).date())
    return simulate_history(
        session,
        load_city_context(session, settings),
        settings,
        scenario=REFORM,
        seed=DEMO_SEED,
        before=before,
        after=after,
        now=now,
    )


def _draw_rows(
    session: Session,
    city: CityContext,
    settings: Settings,
    *,
    scenario: Scenario,
    seed: int,
    days: Days,
    now: datetime,
) -> history_rows.Rows:
    """Every row of the history, drawn in a fixed order from one generator seeded `seed`."""
    rng = np.random.default_rng(seed)
    deployment = history_rows.deployment_of(session, city)
    calls = history_rows.calls_of(rng, city, scenario, days)
    rows = history_rows.Rows(batch=batch_of(scenario, seed))
    history_incidents.add_incidents(
        rows,
        session,
        city,
        settings,
        scenario=scenario,
        rng=rng,
        days=days,
        calls=calls,
        deployment=deployment,
        now=now,
    )
    history_street.add_activities(
        rows, city, scenario=scenario, rng=rng, days=days, deployment=deployment
    )
    history_street.add_recognitions(
        rows, scenario=scenario, rng=rng, days=days, now_s=now.timestamp()
    )
    return rows


def _insert_all(
    session: Session, rows: history_rows.Rows, *, progress: Progress | None
) -> dict[str, int]:
    """Insert the rows in chunks (Core executemany); the incidents first, for their ids."""
    total = rows.count()
    done = 0

    def tick(what: str, n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(what, done, total)

    table = cast(Table, Incident.__table__)
    ids: list[int] = []
    for part in _chunks(rows.incidents):
        returned = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), part
        )
        ids.extend(int(i) for i in returned.scalars())
        tick("incidents", len(part))
    merged = rows.link_duplicates(ids)
    for part in _chunks(merged):
        returned = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), part
        )
        ids.extend(int(i) for i in returned.scalars())
        tick("merged duplicates", len(part))
    children = (
        ("order", DispatchOrder, rows.orders_for(ids)),
        ("verdict", VerdictRow, rows.verdicts_for(ids)),
        ("activity", Activity, rows.activities),
        ("recognition", Recognition, rows.recognitions_for(ids)),
    )
    counts = {"incident": len(rows.incidents), "merged": len(merged)}
    for name, model, values in children:
        for part in _chunks(values):
            session.execute(insert(cast(Table, model.__table__)), part)
            tick(f"{name}s", len(part))
        counts[name] = len(values)
    session.expire_all()
    return counts


def _chunks(values: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def stored_count(session: Session, batch: str) -> int:
    """Incidents of a simulated batch in the database."""
    query = select(func.count()).select_from(Incident)
    return int(
        session.scalar(query.where(Incident.origin == SIMULATED, Incident.batch == batch)) or 0
    )
