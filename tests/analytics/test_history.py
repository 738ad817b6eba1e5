"""The simulated history on the demo city, on SQLite and PostgreSQL: what it writes, how it is
marked, the reform's picture, the verdicts against the real judge, reruns and replacement."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload
from typer.testing import CliRunner

from jiaoxun.activities.models import Activity
from jiaoxun.activities.schemas import ActivityIn
from jiaoxun.analytics.history import (
    HistoryWritten,
    check_periods,
    default_periods,
    delete_simulated,
    simulate_history,
    stored_batches,
)
from jiaoxun.analytics.history_rows import zones_at
from jiaoxun.analytics.history_scenario import (
    ARTICLE_DAYS,
    REFORM,
    REFORM_BEFORE,
    Scenario,
    reform_after,
)
from jiaoxun.analytics.models import Recognition, RecognitionKind
from jiaoxun.city.context import CityContext, load_city_context
from jiaoxun.cli import app
from jiaoxun.db import make_engine, transaction
from jiaoxun.errors import Conflict, InvalidInput
from jiaoxun.incidents import verdicts
from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.models import LIVE, SIMULATED, DispatchOrder, Incident, Source, VerdictRow
from jiaoxun.incidents.targets import judge
from jiaoxun.settings import Settings
from jiaoxun.units.models import Unit
from jiaoxun.web.server import prepare

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # a fixed clock: the tests do not age
BEFORE = (date(2025, 10, 1), date(2025, 11, 30))
AFTER = (date(2026, 10, 1), date(2026, 11, 30))
SEED = 3
ZONE = ZoneInfo("Asia/Shanghai")  # the city's time zone (the settings' default)
NONE_AFTER = ("010200", "010300", "020101", "020500")  # robbery, snatching, gang fight, provoking


@dataclass(frozen=True)
class Demo:
    engine: Engine
    settings: Settings
    city: CityContext
    written: HistoryWritten


def _settings(url: str, data: Path, cache_dir: Path, *, history: bool = False) -> Settings:
    return Settings(database_url=url, data_dir=data, cache_dir=cache_dir, demo_history=history)


def _simulate(
    session: Session, demo: Demo, *, seed: int = SEED, replace: bool = False
) -> HistoryWritten:
    return simulate_history(
        session,
        demo.city,
        demo.settings,
        scenario=REFORM,
        seed=seed,
        before=BEFORE,
        after=AFTER,
        now=NOW,
        replace=replace,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Demo]:
    """A demo command center (without its own history) and the history of `SEED` written once
    and committed; the tests change it only inside a transaction rolled back."""
    settings = _settings(new_database(request.param), tmp_path_factory.mktemp("data"), cache_dir)
    engine, _ = prepare(settings)
    with transaction(engine) as session:
        city = load_city_context(session, settings)
        written = simulate_history(
            session, city, settings, scenario=REFORM, seed=SEED, before=BEFORE, after=AFTER, now=NOW
        )
    yield Demo(engine, settings, city, written)
    engine.dispose()


@pytest.fixture
def db(demo: Demo) -> Iterator[Session]:
    with demo.engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        outer.rollback()


def _local(day: date, settings: Settings) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=settings.tz)


def _valid_codes(session: Session, settings: Settings, period: tuple[date, date]) -> Counter[str]:
    """Category codes of the valid incidents called in the period (not invalid, not merged)."""
    start, end = _local(period[0], settings), _local(period[1] + timedelta(days=1), settings)
    codes = session.scalars(
        select(Incident.category_code).where(
            Incident.call_at >= start,
            Incident.call_at < end,
            Incident.state != IncidentState.MERGED,
            Incident.outcome_code != "invalid",
        )
    )
    return Counter(codes)


def _fingerprint(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(Incident.number, Incident.category_code, Incident.call_at, Incident.zone_id)
        .where(Incident.origin == SIMULATED)
        .order_by(Incident.number)
    )
    return [tuple(r) for r in rows]


# -- the scenario -----------------------------------------------------------------------------


def test_the_reform_scenario_follows_the_article() -> None:
    before, after = REFORM.before_per_day, REFORM.after_per_day

    def total(rates: Mapping[str, float], *prefixes: str) -> float:
        return sum(r for c, r in rates.items() if not prefixes or c.startswith(prefixes))

    assert total(after) * ARTICLE_DAYS == pytest.approx(1765, abs=1)
    assert total(after) / total(before) == pytest.approx(1 - 0.127)
    assert total(after, "01", "02") / total(before, "01", "02") == pytest.approx(1 - 0.26)
    assert total(after, "0301") / total(before, "0301") == pytest.approx(1 - 0.044)
    assert all(after[code] == 0 for code in NONE_AFTER)
    assert all(before[code] > 0 for code in NONE_AFTER)
    violations_before, violations_after = REFORM.violations_per_day
    assert violations_after * ARTICLE_DAYS == pytest.approx(13_453)
    assert violations_after / violations_before == pytest.approx(3.84)
    assert REFORM.assists_per_day[1] * ARTICLE_DAYS == pytest.approx(757)
    assert REFORM.good_deeds_per_day * ARTICLE_DAYS == pytest.approx(65)
    assert (REFORM.banners_per_day + REFORM.letters_per_day) * ARTICLE_DAYS == pytest.approx(12)


def test_a_scenario_refuses_unknown_categories_and_bad_names() -> None:
    with pytest.raises(InvalidInput, match=r"'123400'.*not in the taxonomy"):
        Scenario("x", before_per_day={"123400": 1.0}, after_per_day={})
    with pytest.raises(InvalidInput, match="without ':'"):
        Scenario("a:b", before_per_day=REFORM_BEFORE, after_per_day=reform_after(REFORM_BEFORE))
    with pytest.raises(InvalidInput, match=r"after_per_day\[010500\]\(=-1"):
        Scenario("x", before_per_day={}, after_per_day={"010500": -1.0})


def test_default_periods_are_last_two_full_months_and_the_year_before_them() -> None:
    assert default_periods(date(2026, 12, 2)) == (
        (date(2025, 10, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 11, 30)),
    )
    assert default_periods(date(2026, 1, 31)) == (
        (date(2024, 11, 1), date(2025, 10, 31)),
        (date(2025, 11, 1), date(2025, 12, 31)),
    )


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ((date(2025, 2, 1), date(2025, 1, 1)), AFTER, "before period starts 2025-02-01 after"),
        (BEFORE, (date(2025, 11, 1), date(2025, 12, 1)), "must end \\(2025-11-30\\) before"),
        (BEFORE, (date(2026, 10, 1), date(2026, 12, 2)), "must end before today \\(2026-12-02\\)"),
        ((date(2020, 1, 1), date(2020, 2, 1)), AFTER, "spans 2526 days"),
    ],
)
def test_periods_are_checked(
    before: tuple[date, date], after: tuple[date, date], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_periods(before, after, today=date(2026, 12, 2))


# -- what is written --------------------------------------------------------------------------


def test_every_record_written_is_marked(db: Session, demo: Demo) -> None:
    written = demo.written
    assert written.incidents > 3000
    assert written.merged > 50
    assert written.invalid > 200
    assert stored_batches(db) == {f"reform:{SEED}"}
    origins = db.execute(
        select(Incident.origin, Incident.batch, func.count()).group_by(
            Incident.origin, Incident.batch
        )
    ).all()
    assert origins == [(SIMULATED, f"reform:{SEED}", written.incidents + written.merged)]
    marks = {f"{SIMULATED}:reform:{SEED}"}
    assert set(db.scalars(select(Activity.recorded_by).distinct())) == marks
    assert set(db.scalars(select(Recognition.recorded_by).distinct())) == marks
    assert set(db.scalars(select(DispatchOrder.issued_by).distinct())) == marks
    assert db.scalar(select(func.count()).select_from(Activity)) == written.activities
    assert db.scalar(select(func.count()).select_from(DispatchOrder)) == written.orders
    assert db.scalar(select(func.count()).select_from(VerdictRow)) == written.verdicts
    # orders go to the city's real units
    units = set(db.scalars(select(Unit.id)))
    assert set(db.scalars(select(DispatchOrder.unit_id).distinct())) <= units
    assert len(set(db.scalars(select(DispatchOrder.unit_id).distinct()))) == len(units)


def test_incidents_lie_on_the_roads_in_the_zone_intake_would_give(db: Session, demo: Demo) -> None:
    sample = db.scalars(select(Incident).order_by(Incident.id).limit(300)).all()
    lon = np.array([i.lon for i in sample])
    lat = np.array([i.lat for i in sample])
    assert demo.city.travel_times.snap_many(lon, lat).distance_m.max() < 1.0
    for incident in sample:
        zone = demo.city.zone_at(incident.lon, incident.lat)
        assert zone is not None
        assert incident.zone_id == zone.id
        assert incident.place_class == demo.city.place_class_at(incident.lon, incident.lat)
    many = zones_at(demo.city, lon, lat)
    assert [demo.city.zones[z].id for z in many] == [i.zone_id for i in sample]
    # every zone gets incidents, and a few key sites
    zones = set(db.scalars(select(Incident.zone_id).distinct()))
    assert zones == {z.id for z in demo.city.zones}
    key_sites = db.scalar(select(func.count()).where(Incident.place_class == "key_site"))
    assert key_sites is not None
    assert key_sites > 0


def test_after_the_reform_crime_and_disorder_fall_and_robberies_stop(
    db: Session, demo: Demo
) -> None:
    before = _valid_codes(db, demo.settings, BEFORE)
    after = _valid_codes(db, demo.settings, AFTER)

    def count(codes: Counter[str], *prefixes: str) -> int:
        return sum(n for c, n in codes.items() if c.startswith(prefixes))

    assert count(after, "01", "02") / count(before, "01", "02") == pytest.approx(0.74, abs=0.06)
    assert sum(after[c] for c in NONE_AFTER) == 0
    assert sum(before[c] for c in NONE_AFTER) > 10
    assert sum(after.values()) / sum(before.values()) == pytest.approx(0.873, abs=0.05)
    assert count(after, "0301") / count(before, "0301") == pytest.approx(0.956, abs=0.12)
    assert sum(after.values()) == pytest.approx(1765, rel=0.08)


def test_activities_and_recognitions_follow_the_scenario(db: Session, demo: Demo) -> None:
    def kinds(period: tuple[date, date]) -> Counter[str]:
        start = _local(period[0], demo.settings)
        end = _local(period[1] + timedelta(days=1), demo.settings)
        rows = db.scalars(select(Activity.kind).where(Activity.at >= start, Activity.at < end))
        return Counter(k.value for k in rows)

    before, after = kinds(BEFORE), kinds(AFTER)
    assert after["violation"] == pytest.approx(13_453, rel=0.05)
    assert after["violation"] / before["violation"] == pytest.approx(3.84, rel=0.08)
    assert after["assistance"] == pytest.approx(757, rel=0.1)
    recognitions = Counter(k.value for k in db.scalars(select(Recognition.kind)))
    assert recognitions[RecognitionKind.GOOD_DEED] == pytest.approx(65, abs=25)
    assert 3 <= recognitions[RecognitionKind.BANNER] + recognitions[RecognitionKind.LETTER] <= 25
    first_after = _local(AFTER[0], demo.settings)
    earliest = db.scalar(select(func.min(Recognition.at)))
    assert earliest is not None
    assert earliest >= first_after
    thanked = db.scalars(select(Recognition).where(Recognition.kind != RecognitionKind.GOOD_DEED))
    for recognition in thanked:
        incident = db.get(Incident, recognition.incident_id)
        assert incident is not None
        assert incident.closed_at is not None
        assert recognition.at > incident.closed_at
    # what the officer's form would have stored
    check = TypeAdapter(ActivityIn)
    for activity in db.scalars(select(Activity).order_by(Activity.id).limit(300)):
        body = {"kind": activity.kind.value, "unit_id": activity.unit_id, "lon": activity.lon}
        check.validate_python({**body, "lat": activity.lat, **activity.details})


def test_duplicates_are_merged_and_invalid_calls_closed_untouched(db: Session) -> None:
    merged = db.scalars(
        select(Incident)
        .where(Incident.state == IncidentState.MERGED)
        .options(selectinload(Incident.orders))
    ).all()
    assert merged
    for dup in merged:
        main = db.get(Incident, dup.main_incident_id)
        assert main is not None
        assert main.origin == SIMULATED
        assert main.state == IncidentState.CLOSED
        assert dup.merged_at is not None
        assert main.closed_at is not None
        assert main.call_at < dup.call_at < dup.merged_at < main.closed_at
        assert dup.category_code == main.category_code
        assert not dup.orders
    invalid = db.scalars(
        select(Incident)
        .where(Incident.outcome_code == "invalid")
        .options(selectinload(Incident.orders))
    ).all()
    assert invalid
    for call in invalid:
        assert call.state == IncidentState.CLOSED
        assert call.dispatched_at is None
        assert not call.orders
    sources = Counter(s.value for s in db.scalars(select(Incident.source)))
    assert sources[Source.POLICE_110.value] > sources[Source.TRAFFIC_122.value] > 0


def test_verdicts_are_those_the_real_judge_gives(db: Session, demo: Demo) -> None:
    incidents = db.scalars(
        select(Incident)
        .where(Incident.dispatched_at.is_not(None), Incident.id % 10 == 0)  # before and after
        .order_by(Incident.id)
        .options(selectinload(Incident.orders), selectinload(Incident.verdicts))
    ).all()
    zone_code = {z.id: z.code for z in demo.city.zones}
    sources: Counter[str | None] = Counter()
    for incident in incidents:
        assert incident.orders
        assert incident.tiers == verdicts.copy_tiers(db)
        arrivals = [a for a in map(verdicts.arrival_of, incident.orders) if a is not None]
        assert incident.closed_at is not None
        expected = judge(
            verdicts.tiers_of(db, incident),
            call_at=incident.call_at,
            dispatched_at=incident.dispatched_at,
            arrivals=[at for at, _ in arrivals],
            sources=[source for _, source in arrivals],
            required_units=incident.required_units,
            place_class=incident.place_class,
            zone=zone_code[incident.zone_id] if incident.zone_id else None,
            now=incident.closed_at,
        )
        stored = {row.tier: row for row in incident.verdicts}
        assert set(stored) == {v.tier for v in expected}
        for verdict in expected:
            row = stored[verdict.tier]
            assert row.met_from_dispatch == verdict.met_from_dispatch
            assert row.met_from_call == verdict.met_from_call
            assert row.arrival_source == verdict.arrival_source
            assert row.from_call_s == pytest.approx(verdict.from_call_s)
            assert row.decided_on == (verdicts.ARRIVAL if verdict.arrival_source else "closed")
            sources[row.arrival_source] += 1
        # the record read back is the record written
        assert {v.tier: v.met_from_dispatch for v in verdicts.read(db, incident, now=NOW)} == {
            t: r.met_from_dispatch for t, r in stored.items()
        }
    assert sources["gps"] > 0
    assert sources["report"] > 0


def test_responses_are_quicker_after_the_reform(db: Session, demo: Demo) -> None:
    def met_share(period: tuple[date, date]) -> float:
        start = _local(period[0], demo.settings)
        end = _local(period[1] + timedelta(days=1), demo.settings)
        met = (
            db.execute(
                select(VerdictRow.met_from_dispatch)
                .join(Incident, Incident.id == VerdictRow.incident_id)
                .where(
                    VerdictRow.tier == "3分钟", Incident.call_at >= start, Incident.call_at < end
                )
                .where(Incident.dispatched_at.is_not(None))
            )
            .scalars()
            .all()
        )
        return sum(bool(m) for m in met) / len(met)

    assert met_share(BEFORE) < 0.2 < 0.6 < met_share(AFTER)


# -- running again ----------------------------------------------------------------------------


def test_running_again_writes_nothing(db: Session, demo: Demo) -> None:
    before = _fingerprint(db)
    again = _simulate(db, demo)
    assert again.already
    assert again.incidents == 0
    assert again.batch == f"reform:{SEED}"
    assert _fingerprint(db) == before


def test_the_same_seed_draws_the_same_history(db: Session, demo: Demo) -> None:
    before = _fingerprint(db)
    again = _simulate(db, demo, replace=True)
    assert again.replaced == demo.written.incidents + demo.written.merged
    assert (again.incidents, again.merged, again.orders, again.verdicts, again.activities) == (
        demo.written.incidents,
        demo.written.merged,
        demo.written.orders,
        demo.written.verdicts,
        demo.written.activities,
    )
    assert _fingerprint(db) == before


def test_another_seed_is_refused_unless_replacing(db: Session, demo: Demo) -> None:
    with pytest.raises(Conflict, match=rf"reform:{SEED} is stored; replace it with reform:4"):
        _simulate(db, demo, seed=4)
    first = _fingerprint(db)
    other = _simulate(db, demo, seed=4, replace=True)
    assert stored_batches(db) == {"reform:4"}
    assert other.replaced == len(first)
    assert _fingerprint(db) != first
    assert db.scalar(select(func.count()).where(Incident.batch == f"reform:{SEED}")) == 0


def test_live_records_are_never_touched(db: Session, demo: Demo) -> None:
    simulated = db.scalars(
        select(Incident).where(Incident.outcome_code == "handled").limit(1)
    ).one()
    live = Incident(
        number="220800LIVE000001",
        source=Source.POLICE_110,
        lon=simulated.lon,
        lat=simulated.lat,
        category_code="010500",
        priority=2,
        state=IncidentState.TAKEN,
        zone_id=simulated.zone_id,
        created_by="dispatcher",
        call_at=NOW - timedelta(minutes=5),
        origin=LIVE,
    )
    unit = db.scalars(select(Unit.id)).first()
    assert unit is not None
    activity = Activity(
        kind="violation",
        unit_id=unit,
        recorded_by="officer",
        at=NOW,
        lon=live.lon,
        lat=live.lat,
        details={"plate": "吉G12345", "violation": "red_light", "note": ""},
    )
    thanks = Recognition(
        kind=RecognitionKind.BANNER, at=NOW, incident_id=simulated.id, recorded_by="commander"
    )
    db.add_all([live, activity, thanks])
    db.flush()
    with pytest.raises(Conflict):
        _simulate(db, demo, seed=5)
    _simulate(db, demo, seed=5, replace=True)
    assert delete_simulated(db) > 0  # and once more, deleting every simulated record
    db.expire_all()
    assert db.scalars(select(Incident.number)).all() == ["220800LIVE000001"]
    assert db.get(Incident, live.id) is not None
    assert db.scalars(select(Activity.recorded_by)).all() == ["officer"]
    kept = db.scalars(select(Recognition)).one()
    assert kept.recorded_by == "commander"
    assert kept.incident_id is None
    assert stored_batches(db) == set()


# -- the demo's first start and the command ---------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_demo_city_starts_with_its_history(
    kind: str, new_database: Callable[[str], str], tmp_path: Path, cache_dir: Path
) -> None:
    settings = _settings(new_database(kind), tmp_path, cache_dir, history=True)
    engine, _ = prepare(settings)
    with transaction(engine) as session:
        first = session.scalar(select(func.count()).where(Incident.origin == SIMULATED))
        assert stored_batches(session) == {"reform:110"}
        calls = session.execute(
            select(func.min(Incident.call_at), func.max(Incident.call_at))
        ).one()
    engine.dispose()
    today = datetime.now(UTC).astimezone(settings.tz).date()
    (b0, _), (_, a1) = default_periods(today)
    assert calls[0].astimezone(settings.tz).date() == b0
    assert calls[1].astimezone(settings.tz).date() <= a1
    assert first is not None
    assert first > 10_000
    engine, _ = prepare(settings)  # a second start adds nothing
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).where(Incident.origin == SIMULATED)) == first
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_history_simulate_command(
    kind: str, new_database: Callable[[str], str], tmp_path: Path, cache_dir: Path
) -> None:
    url = new_database(kind)
    engine, _ = prepare(_settings(url, tmp_path, cache_dir))
    engine.dispose()
    env = {
        "JIAOXUN_DATABASE_URL": url,
        "JIAOXUN_DATA_DIR": str(tmp_path),
        "JIAOXUN_CACHE_DIR": str(cache_dir),
    }
    runner = CliRunner()
    span = ["--after-start", "2025-10-01", "--after-end", "2025-10-31", "--seed", "8"]
    result = runner.invoke(
        app, ["history", "simulate", *span, "--before-start", "2024-10-01"], env=env
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "simulated history reform:8" in said
    assert "incidents" in said
    engine = make_engine(url)
    with transaction(engine) as session:
        count = session.scalar(select(func.count()).where(Incident.batch == "reform:8"))
        first, last = session.execute(
            select(func.min(Incident.call_at), func.max(Incident.call_at))
        ).one()
    assert count is not None
    assert count > 500
    assert first.astimezone(ZONE).date() == date(2024, 10, 1)
    assert last.astimezone(ZONE).date() <= date(2025, 10, 31)
    again = runner.invoke(app, ["history", "simulate", *span], env=env)
    assert again.exit_code == 0
    assert "stored already: nothing written" in " ".join(again.output.split())
    other = runner.invoke(app, ["history", "simulate", "--seed", "9"], env=env)
    assert other.exit_code == 1
    assert "--replace" in other.output
    bad = runner.invoke(app, ["history", "simulate", "--after-end", "30.11.2026"], env=env)
    assert bad.exit_code == 2
    assert "--after-end must be a date YYYY-MM-DD" in " ".join(bad.output.split())
    unknown = runner.invoke(app, ["history", "simulate", "--scenario", "utopia"], env=env)
    assert unknown.exit_code == 2
    assert "'utopia' is not one of: reform" in unknown.output
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).where(Incident.batch == "reform:8")) == count
    engine.dispose()
