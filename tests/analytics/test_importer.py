"""The CAD history import: the real Seattle sample, bad rows, the mapping's own errors, the CLI.
On SQLite and PostgreSQL (the `session` fixture)."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jiaoxun.analytics.importer import RowError, batch_name, import_history
from jiaoxun.analytics.mapping import mapping_from_toml, mapping_named
from jiaoxun.cli import app
from jiaoxun.data import MAPPINGS
from jiaoxun.db import make_engine
from jiaoxun.errors import InvalidInput
from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.models import IMPORTED, Incident, Source
from jiaoxun.incidents.reference import seed_reference

SEATTLE = Path(__file__).parents[1] / "data" / "seattle_spd_dispatch_2024_sample1000.csv"
HEADER = SEATTLE.read_text().splitlines()[0]
#: the sample's one call with no location (0,0)
NO_LOCATION = RowError(
    933,
    "lon,lat",
    "Dispatch_Longitude,dispatch_latitude",
    "must lie in the mapping's area -122.5..-122.2 E, 47.4..47.8 N",
    "0,0",
)


@pytest.fixture
def db(session: Session) -> Session:
    seed_reference(session)  # the categories
    return session


def imported_rows(session: Session, batch: str) -> list[Incident]:
    query = select(Incident).where(Incident.batch == batch).order_by(Incident.number)
    return list(session.scalars(query))


def test_the_seattle_sample_imports_every_call(db: Session) -> None:
    result = import_history(db, SEATTLE, mapping_named("seattle_spd"))
    assert (result.read, result.imported, result.already_there, result.rejected) == (
        1000,
        1000,
        0,
        0,
    )
    assert result.batch == "seattle_spd:seattle_spd_dispatch_2024_sample1000.csv"
    rows = imported_rows(db, result.batch)
    assert len(rows) == 1000
    # the call without a location (0,0) is kept for its times, marked unlocated
    (unlocated,) = [r for r in rows if not r.located]
    assert (unlocated.number, unlocated.lon, unlocated.lat) == ("SEA-2024000003201", 0.0, 0.0)
    assert unlocated.dispatched_at == unlocated.call_at + timedelta(seconds=296)
    # 2024000000800,2,1,NORTH,-122.36563809,47.66865279,"2024-01-01 20:24:01",131,516,...
    first = rows[0]
    call_at = datetime(2024, 1, 2, 4, 24, 1, tzinfo=UTC)  # 20:24:01 PST = UTC-8
    assert (first.number, first.call_at, first.taken_at) == ("SEA-2024000000800", call_at, call_at)
    assert first.dispatched_at == call_at + timedelta(seconds=131)
    assert first.arrived_at == first.closed_at == call_at + timedelta(seconds=516)
    assert (first.lon, first.lat) == (-122.36563809, 47.66865279)
    assert (first.priority, first.units_responding) == (1, 2)
    assert first.address == "BALLARD SOUTH, NORTH"
    assert (first.state, first.source, first.category_code) == (
        IncidentState.CLOSED,
        Source.POLICE_110,
        "999900",
    )
    assert (first.origin, first.created_by) == (IMPORTED, "import")
    # 2024000000801: first_response_time NULL, so no arrival; closed at the dispatch
    second = rows[1]
    assert second.arrived_at is None
    assert second.closed_at == second.dispatched_at == second.call_at + timedelta(seconds=10220)


def test_a_second_import_changes_nothing(db: Session) -> None:
    mapping = mapping_named("seattle_spd")
    first = import_history(db, SEATTLE, mapping)

    def snapshot() -> list[tuple[Any, ...]]:
        return list(db.execute(select(Incident.__table__).order_by(Incident.id)).all())

    before = snapshot()
    again = import_history(db, SEATTLE, mapping)
    assert (again.read, again.imported, again.already_there, again.rejected) == (1000, 0, 1000, 0)
    assert snapshot() == before
    assert db.scalar(select(func.count()).where(Incident.batch == first.batch)) == 1000


def test_a_mapping_that_rejects_unlocated_calls_names_the_row(db: Session) -> None:
    mapping = mapping_named("seattle_spd").model_copy(update={"unlocated": "reject"})
    result = import_history(db, SEATTLE, mapping)
    assert (result.imported, result.rejected) == (999, 1)
    assert result.errors == (NO_LOCATION,)


def test_medians_per_priority_are_those_of_the_raw_file(db: Session) -> None:
    """Call to dispatch and call to arrival, median per priority: the raw CSV (NULLs skipped,
    the rejected row left out) against what was stored."""
    result = import_history(db, SEATTLE, mapping_named("seattle_spd"))
    rejected = {e.row for e in result.errors}
    raw_dispatch: dict[int, list[float]] = defaultdict(list)
    raw_arrival: dict[int, list[float]] = defaultdict(list)
    with SEATTLE.open(newline="") as stream:
        for row, record in enumerate(csv.DictReader(stream), start=2):
            if row in rejected:
                continue
            priority = int(record["priority"])
            raw_dispatch[priority].append(float(record["first_dispatch_delay"]))
            if record["first_response_time"] != "NULL":
                raw_arrival[priority].append(float(record["first_response_time"]))
    stored_dispatch: dict[int, list[float]] = defaultdict(list)
    stored_arrival: dict[int, list[float]] = defaultdict(list)
    for incident in imported_rows(db, result.batch):
        assert incident.dispatched_at is not None
        since_call = incident.dispatched_at - incident.call_at
        stored_dispatch[incident.priority].append(since_call.total_seconds())
        if incident.arrived_at is not None:
            since_call = incident.arrived_at - incident.call_at
            stored_arrival[incident.priority].append(since_call.total_seconds())

    def medians(samples: dict[int, list[float]]) -> dict[int, float]:
        return {p: statistics.median(values) for p, values in sorted(samples.items())}

    assert set(raw_dispatch) == {1, 2, 3, 4, 5, 7}
    assert medians(stored_dispatch) == medians(raw_dispatch)
    assert medians(stored_arrival) == medians(raw_arrival)
    assert sum(map(len, stored_arrival.values())) == 1000 - 131  # 131 calls without an arrival


BAD_ROWS = [
    'S1,2,1,NORTH,-122.36,47.66,"2024-01-01 20:24:01",131,516,131,"BALLARD"',  # row 2: good
    'S2,1,2,EAST,-122.30,47.60,"2024-13-01 20:25:02",10,20,10,"CENTRAL"',  # 3: no month 13
    'S3,1,2,EAST,-222.5,47.60,"2024-01-01 20:25:02",10,20,10,"CENTRAL"',  # 4: lon
    'S4,1,high,EAST,-122.30,47.60,"2024-01-01 20:25:02",10,20,10,"CENTRAL"',  # 5: priority text
    'S5,1,2,EAST,-122.30,47.60,"2024-01-01 20:25:02",NaN,20,10,"CENTRAL"',  # 6: a NaN
    ',1,2,EAST,-122.30,47.60,"2024-01-01 20:25:02",10,20,10,"CENTRAL"',  # 7: no id
    'S1,1,2,EAST,-122.30,47.60,"2024-01-01 20:25:02",10,20,10,"CENTRAL"',  # 8: S1 again
    'S6,1,3,WEST,-122.32,47.59,"2024-01-01 20:31:35",71,NULL,71,"CHINATOWN"',  # 9: good
    'S7,1,8,EAST,-122.30,47.60,"2024-01-01 20:25:02",10,20,10,"CENTRAL"',  # 10: priority 8
    'S8,1,2,EAST,-122.30,47.60,"2024-03-10 02:30:00",10,20,10,"CENTRAL"',  # 11: DST gap
    'S9,1,2,EAST,-122.30,47.60,"2024-01-01 20:25:02",10,20',  # 12: short row
    'S10,1,2,EAST,-122.30,47.60,"2024-01-01 20:25:02",-5,,10,""',  # 13: negative delay
    'S11,1,2,SOUTH,-122.30,47.55,"2024-11-03 01:30:00",5,,5,""',  # 14: good (ambiguous hour)
]
TIME_RULE = "must be a date and time as %Y-%m-%d %H:%M:%S"
EXPECTED_ERRORS = (
    RowError(3, "call_at", "CAD_Event_Original_Time_Queued", TIME_RULE, "2024-13-01 20:25:02"),
    RowError(4, "lon", "Dispatch_Longitude", "must be within -180..180", "-222.5"),
    RowError(5, "priority", "priority", "must be an integer within 1..7", "high"),
    RowError(
        6,
        "dispatched_at",
        "first_dispatch_delay",
        "must be a finite number (not NaN or infinity)",
        "NaN",
    ),
    RowError(7, "id", "cad_id", "required (not empty or NULL)", ""),
    RowError(8, "id", "cad_id", "must be unique in the file (first at row 2)", "S1"),
    RowError(10, "priority", "priority", "must be an integer within 1..7", "8"),
    RowError(
        11,
        "call_at",
        "CAD_Event_Original_Time_Queued",
        "must exist in America/Los_Angeles (it falls in a spring-forward gap)",
        "2024-03-10 02:30:00",
    ),
    RowError(12, "(row)", "", "must have 11 fields", "9 fields"),
    RowError(13, "dispatched_at", "first_dispatch_delay", "must be seconds >= 0", "-5"),
)


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, *BAD_ROWS]) + "\n")
    return path


def test_bad_rows_are_named_and_the_good_ones_imported(db: Session, bad_csv: Path) -> None:
    result = import_history(db, bad_csv, mapping_named("seattle_spd"))
    assert result.errors == EXPECTED_ERRORS
    assert (result.read, result.imported, result.rejected) == (13, 3, 10)
    rows = imported_rows(db, result.batch)
    assert [r.number for r in rows] == ["SEA-S1", "SEA-S11", "SEA-S6"]
    assert rows[0].address == "BALLARD, NORTH"
    assert rows[1].address == "SOUTH"  # the empty neighborhood left out
    # 01:30 on 3 November 2024 happens twice in Seattle: the first (PDT, UTC-7) is taken
    assert rows[1].call_at == datetime(2024, 11, 3, 8, 30, tzinfo=UTC)


def test_the_error_cap_keeps_the_count(db: Session, bad_csv: Path) -> None:
    result = import_history(db, bad_csv, mapping_named("seattle_spd"), max_errors=2)
    assert result.errors == EXPECTED_ERRORS[:2]
    assert (result.rejected, result.rows_left_off) == (10, 8)


def test_strict_imports_nothing_from_a_file_with_a_bad_row(db: Session, bad_csv: Path) -> None:
    result = import_history(db, bad_csv, mapping_named("seattle_spd"), strict=True)
    assert (result.imported, result.rejected, result.errors) == (0, 10, EXPECTED_ERRORS)
    assert imported_rows(db, result.batch) == []


def seattle_mapping_with(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    path = tmp_path / "edited.toml"
    path.write_text(edit((MAPPINGS / "seattle_spd.toml").read_text()))
    return path


def test_a_column_the_file_lacks_is_an_error_before_any_row(db: Session, tmp_path: Path) -> None:
    path = seattle_mapping_with(
        tmp_path, lambda text: text.replace('"responding_units"', '"units_sent"')
    )
    count = select(func.count()).select_from(Incident)
    before = db.scalar(count)
    with pytest.raises(InvalidInput, match="columns the file does not have: units_sent"):
        import_history(db, SEATTLE, mapping_from_toml(path))
    assert db.scalar(count) == before


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("number_prefix", "prefix"), r"number_prefix: Field required"),
        (lambda t: t.replace("America/Los_Angeles", "Pacific/Nowhere"), "'Pacific/Nowhere'"),
        (lambda t: t.replace("max = 7", "max = 0"), "min 1 is above max 0"),
        (
            lambda t: t.replace("[fields.arrived_at]", '[fields.arrived_at]\ncolumn = "x"'),
            "fields.arrived_at: .*exactly one of 'column' and 'seconds_after_call'",
        ),
        (lambda t: t + "\nextra = 1\n", "extra: Extra inputs are not permitted"),
        (lambda t: t.replace("[file]", "[file"), "is not valid TOML"),
    ],
)
def test_a_malformed_mapping_says_which_key_and_rule(
    tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        mapping_from_toml(seattle_mapping_with(tmp_path, edit))


def test_a_category_the_database_lacks_is_an_error(db: Session, tmp_path: Path) -> None:
    path = seattle_mapping_with(tmp_path, lambda t: t.replace('"999900"', '"999999"'))
    with pytest.raises(InvalidInput, match="categories the database does not have: 999999"):
        import_history(db, SEATTLE, mapping_from_toml(path))


def test_an_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(InvalidInput, match=r"neither a file nor a shipped mapping \(seattle_spd"):
        mapping_named("tokyo")


def test_a_long_batch_name_fits_and_stays_distinct() -> None:
    mapping = mapping_named("seattle_spd")
    one = batch_name(mapping, Path("x" * 100 + "1.csv"))
    two = batch_name(mapping, Path("x" * 100 + "2.csv"))
    assert len(one) == len(two) == 80
    assert one != two


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_cli_imports_and_exits_non_zero_on_bad_rows(
    backend: str, new_database: Callable[[str], str], bad_csv: Path, tmp_path: Path
) -> None:
    url = new_database(backend)  # its own database: the command commits
    env = {"JIAOXUN_DATABASE_URL": url}
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, BAD_ROWS[0], BAD_ROWS[7]]) + "\n")
    done = runner.invoke(app, ["history", "import", str(good), "--mapping", "seattle_spd"], env=env)
    assert done.exit_code == 0, done.output
    assert "2 rows read, 2 imported, 0 already there, 0 rejected" in " ".join(done.output.split())
    bad = runner.invoke(
        app, ["history", "import", str(bad_csv), "--mapping", "seattle_spd"], env=env
    )
    assert bad.exit_code == 1, bad.output
    said = " ".join(bad.output.split())
    assert "13 rows read, 1 imported, 2 already there, 10 rejected" in said  # S1, S6 were there
    table_rows = [line.split("│")[1:3] for line in bad.output.splitlines() if line[:1] == "│"]
    shown = [(int(row), field.strip()) for row, field in table_rows if row.strip()]
    assert shown == [(e.row, e.field) for e in EXPECTED_ERRORS]
    assert "'2024-13-01" in said
    engine = make_engine(url)
    with engine.connect() as conn:
        numbers = conn.scalars(select(Incident.number).order_by(Incident.number)).all()
    engine.dispose()
    assert numbers == ["SEA-S1", "SEA-S11", "SEA-S6"]
    missing = runner.invoke(app, ["history", "import", str(good), "--mapping", "no"], env=env)
    assert missing.exit_code == 2
    assert "neither a file nor a shipped mapping" in missing.output


OTHER_MAPPING = """
source = "122"
timezone = "Asia/Shanghai"
number_prefix = "HRB"

[file]
delimiter = ";"
null = ["", "-"]

[category]
default = "999900"
column = "kind"
values = { fight = "020100" }

[fields]
id = "no"
lon = "x"
lat = "y"

[fields.call_at]
column = "received"

[fields.priority]
column = "level"
max = 4

[fields.arrived_at]
column = "on_scene"

[fields.closed_at]
column = "done"
format = "%d.%m.%Y %H:%M"
"""


def test_a_mapping_of_timestamp_columns_and_category_values(db: Session, tmp_path: Path) -> None:
    mapping_path = tmp_path / "harbin_cad.toml"
    mapping_path.write_text(OTHER_MAPPING)
    data = tmp_path / "calls.csv"
    data.write_text(
        "\ufeffno;received;x;y;level;kind;on_scene;done\n"  # with a BOM, as Excel writes
        "1;2024-05-01 08:00:00;126.6;45.75;2;fight;2024-05-01T00:04:00+00:00;01.05.2024 09:00\n"
        "2;2024-05-01 09:00:00;126.6;45.75;1;010100;-;-\n"  # a category code as it is
        "3;2024-05-01 10:00:00;126.6;45.75;3;noise;2024-05-01 09:59:00;-\n"  # arrived before
        "4;2024-05-01;126.6;45.75;3;noise;-;-\n"  # a date alone
    )
    result = import_history(db, data, mapping_from_toml(mapping_path))
    assert result.batch == "harbin_cad:calls.csv"
    assert result.errors == (
        RowError(4, "arrived_at", "on_scene", "must not be before call_at", "2024-05-01 09:59:00"),
        RowError(5, "call_at", "received", "must be a date and time as iso", "2024-05-01"),
    )
    one, two = imported_rows(db, result.batch)
    assert (one.number, one.source, one.category_code, two.category_code) == (
        "HRB1",
        Source.TRAFFIC_122,
        "020100",
        "010100",
    )
    assert one.call_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert one.arrived_at == datetime(2024, 5, 1, 0, 4, tzinfo=UTC)  # its own offset
    assert one.closed_at == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    assert (two.dispatched_at, two.arrived_at, two.closed_at) == (None, None, two.call_at)
    assert one.units_responding is None
