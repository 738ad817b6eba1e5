from __future__ import annotations

import json
import shutil
from pathlib import Path

import osmium
import pytest
from typer.testing import CliRunner

from jiaoxun.city.maps import file_sha256
from jiaoxun.cli import app
from jiaoxun.data import DEMO_PBF


@pytest.fixture
def run(tmp_path: Path, database_url: str, cache_dir: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"JIAOXUN_DATABASE_URL": database_url, "JIAOXUN_CACHE_DIR": str(cache_dir)}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    env = {"JIAOXUN_DATABASE_URL": url}
    result = CliRunner().invoke(app, ["city", "build"], env=env)
    assert result.exit_code == 0, result.output
    return env


def test_city_build_and_info_json(run) -> None:  # type: ignore[no-untyped-def]
    built = run("city", "build")
    assert built.exit_code == 0, built.output
    said = " ".join(built.output.split())
    assert "9 kiosks, 9 zones, 27 units, 78 patrol lines, 60 patrol points" in said
    info = json.loads(run("city", "info", "--json").output)
    assert {k: info[k] for k in ("kiosks", "zones", "units", "patrol_lines", "patrol_points")} == {
        "kiosks": 9,
        "zones": 9,
        "units": 27,
        "patrol_lines": 78,
        "patrol_points": 60,
    }
    assert info["road_nodes"] > 4000
    assert info["road_edges"] > info["road_nodes"]
    assert 500 < info["road_km"] < 1500
    # the map by its place in the package, not by this checkout's absolute path
    assert info["source_pbf"] == "package:demo/harbin-centre.osm.pbf"


def test_a_city_outlives_its_extracts_folder(tmp_path: Path, cache_dir: Path) -> None:
    """The user's extract is kept in the data folder: deleting the download and moving the
    data folder leaves a city that starts."""
    download = tmp_path / "downloads" / "harbin-centre.osm.pbf"
    download.parent.mkdir()
    shutil.copyfile(DEMO_PBF, download)
    data = tmp_path / "data"
    env = {"JIAOXUN_DATA_DIR": str(data), "JIAOXUN_CACHE_DIR": str(cache_dir)}
    built = CliRunner().invoke(app, ["city", "build", str(download)], env=env)
    assert built.exit_code == 0, built.output
    shutil.rmtree(download.parent)
    data.rename(moved := tmp_path / "moved")
    env["JIAOXUN_DATA_DIR"] = str(moved)
    info = CliRunner().invoke(app, ["city", "info", "--json"], env=env)
    assert info.exit_code == 0, info.output
    assert json.loads(info.output)["source_pbf"] == f"sha256:{file_sha256(DEMO_PBF)}"


def test_city_export_writes_geojson(built_demo: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "city.geojson"
    result = CliRunner().invoke(app, ["city", "export", "--geojson", str(target)], env=built_demo)
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 9 + 9 + 78 + 60


def test_eta_json(built_demo: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        ["eta", "--from", "126.6300,45.7500", "--to", "126.6800,45.7200", "--json"],
        env=built_demo,
    )
    assert result.exit_code == 0, result.output
    reply = json.loads(result.output)
    assert 120 < reply["travel_time_s"] < 1200
    assert 4000 < reply["distance_m"] < 12000
    coords = reply["route"]["coordinates"]
    assert coords[0] == pytest.approx([126.63, 45.75], abs=0.002)
    assert coords[-1] == pytest.approx([126.68, 45.72], abs=0.002)


def _write_pbf(path: Path, highway: str) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(3):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(126.6 + i * 0.001, 45.7)))
        writer.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2, 3], tags={"highway": highway}))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.osm.pbf", "does not exist"),
        (
            lambda d: (d / "t.osm.pbf", (d / "t.osm.pbf").write_text("hello"))[0],
            "not an OpenStreetMap PBF",
        ),
        (lambda d: _write_pbf(d / "foot.osm.pbf", "footway"), "no drivable roads"),
    ],
    ids=["missing", "not-a-pbf", "no-roads"],
)
def test_city_build_refuses_bad_extracts(run, tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("city", "build", str(make(tmp_path)))
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("none.geojson", '{"type": "FeatureCollection", "features": []}', "at least 1 kiosk"),
        ("none.csv", "name,lon,lat\n", "at least 1 kiosk"),
        ("bad.csv", "name,lon,lat\nA,126.6,north\n", "kiosk 1 in bad.csv: lat"),
        ("far.csv", "name,lon,lat\nA,126.6,95\n", "kiosk 1 in far.csv: lat"),
        (
            "bad.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"geometry": {"type": "Point", "coordinates": [126.6]}, "properties": {"name": "A"}}]}',
            "Point [lon, lat]",
        ),
        ("broken.geojson", "{not json", "not valid JSON"),
    ],
)
def test_city_build_refuses_bad_kiosk_files(
    run, tmp_path: Path, name: str, content: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run("city", "build", "--kiosks", str(path))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_city_build_with_kiosks_in_gcj02(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "kiosks.csv"
    path.write_text(
        "name,lon,lat,datum\n东站,126.6952,45.7446,gcj02\n西站,126.6152,45.7476,gcj02\n"
    )
    result = run("city", "build", "--kiosks", str(path))
    assert result.exit_code == 0, result.output
    info = json.loads(run("city", "info", "--json").output)
    assert (info["kiosks"], info["zones"], info["units"]) == (2, 2, 6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "126.63;45.75", "--to", "126.68,45.72"], "--from must be LON,LAT"),
        (["--from", "126.63,45.75", "--to", "126.68,99"], "outside lon -180..180"),
        (["--from", "116.40,39.90", "--to", "126.68,45.72"], "from the nearest road"),
    ],
    ids=["malformed", "out-of-range", "off-network"],
)
def test_eta_refuses_bad_points(built_demo: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["eta", *args], env=built_demo)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["city", "info"], env={"JIAOXUN_MAX_SNAP_M": "-3", "JIAOXUN_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "max_snap_m" in said
    assert "must be > 0, got -3" in said


def test_user_add(run) -> None:  # type: ignore[no-untyped-def]
    assert run("city", "build").exit_code == 0
    good = "twelve plus chars"
    added = run("user", "add", "wang", "--role", "officer", "--password", good, "--unit", "JX01-1")
    assert added.exit_code == 0, added.output
    assert "added officer wang" in added.output
    again = run("user", "add", "wang", "--role", "dispatcher", "--password", good)
    assert again.exit_code != 0
    assert "exists already" in again.output
    rules = {
        "short-pass1": "at least 12 characters",
        "li-the-dispatcher": "must not contain the user name",
        "Password2024!": "most common passwords",
    }
    for password, rule in rules.items():
        refused = run("user", "add", "li", "--role", "dispatcher", "--password", password)
        said = " ".join(refused.output.split())
        assert refused.exit_code == 2, said
        assert rule in said
        assert password not in said  # a password is never echoed
    no_unit = run("user", "add", "zhou", "--role", "officer", "--password", good)
    assert no_unit.exit_code == 2
    assert "needs his unit" in " ".join(no_unit.output.split())
    role = run("user", "add", "zhao", "--role", "chief", "--password", good)
    assert role.exit_code == 2
    assert "chief" in role.output


def _row_of(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if f" {name} " in line)


def test_user_reset_disable_enable(run) -> None:  # type: ignore[no-untyped-def]
    assert run("city", "build").exit_code == 0
    added = run("user", "add", "sun", "--role", "dispatcher", "--password", "twelve plus chars")
    assert added.exit_code == 0, added.output
    assert "active, password to change" in _row_of(run("user", "list").output, "sun")
    reset = run("user", "reset-password", "sun")
    assert reset.exit_code == 0, reset.output
    password = reset.output.split()[-1]
    assert len(password) == 16
    assert run("user", "disable", "sun").exit_code == 0
    assert "disabled" in _row_of(run("user", "list").output, "sun")
    assert run("user", "enable", "sun").exit_code == 0
    missing = run("user", "disable", "nobody")
    assert missing.exit_code != 0
    assert "does not exist" in missing.output


def test_patrol_report(built_demo: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["patrol", "report", "--json"], env=built_demo)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["zones"]) == 9
    assert len(report["units"]) == 27
    assert all(z["duty"]["visits_required"] > 0 for z in report["zones"])
    table = CliRunner().invoke(app, ["patrol", "report"], env=built_demo)
    assert table.exit_code == 0
    assert "JX01-1" in table.output
    naive = CliRunner().invoke(
        app, ["patrol", "report", "--at", "2026-11-29T08:00:00"], env=built_demo
    )
    assert naive.exit_code == 2
    assert "time zone offset" in naive.output


def test_simulate(built_demo: dict[str, str], tmp_path: Path) -> None:
    png = tmp_path / "after.png"
    result = CliRunner().invoke(
        app,
        ["simulate", "after", "--days", "1", "--replications", "2", "--json", "--png", str(png)],
        env=built_demo,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["replications"] == 2
    assert summary["incidents"] > 10
    assert 60 < summary["response_p50_s"] < 600
    assert set(summary["compliance"]) == {"1分钟", "3分钟", "5分钟"}
    assert png.stat().st_size > 10_000
    spread = CliRunner().invoke(
        app,
        ["simulate", "after", "--days", "1", "--replications", "2", "--json", "--jobs", "2"],
        env=built_demo,
    )
    assert spread.exit_code == 0, spread.output
    assert json.loads(spread.output) == summary, "two processes give the same runs as one"
    both = CliRunner().invoke(
        app,
        ["simulate", "before", "after", "--days", "1", "--replications", "1", "--json"],
        env=built_demo,
    )
    assert both.exit_code == 0, both.output
    assert [s["scenario"] for s in json.loads(both.output)] == ["before", "after"]
    bad = CliRunner().invoke(app, ["simulate", "sometime"], env=built_demo)
    assert bad.exit_code == 2
    assert "neither a file nor one of" in " ".join(bad.output.split())


def test_plan_kiosks(built_demo: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "kiosks",
            "--count",
            "9",
            "--spacing",
            "600",
            "--json",
            "--png",
            str(tmp_path / "c.png"),
        ],
        env=built_demo,
    )
    assert result.exit_code == 0, result.output
    reply = json.loads(result.output)
    assert reply["status"] == "OPTIMAL"
    assert len(reply["sites"]) == 9
    assert reply["optimal"]["3"] >= reply["current"]["3"] > 0.5
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_speeds_learn(built_demo: dict[str, str], tmp_path: Path) -> None:
    """A car drives one street of the demo city at 36 km/h, 30 times in the last hours: the
    learned speed of that street moves from its class speed towards 36 km/h."""
    from datetime import UTC, datetime, timedelta

    import numpy as np
    from sqlalchemy.orm import Session

    from jiaoxun.db import make_engine
    from jiaoxun.geo.osm import network_from_pbf
    from jiaoxun.geo.speeds import load_speeds, speeds_path
    from jiaoxun.tracking.models import TrackPoint

    network = network_from_pbf(DEMO_PBF, cache=False)
    edge = int(np.flatnonzero((network.edge_length_m > 300) & (network.edge_speed_kph < 30))[0])
    start = datetime.now(UTC) - timedelta(hours=3)
    engine = make_engine(built_demo["JIAOXUN_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        for run in range(30):
            for s in range(int(network.edge_length_m[edge] / 10)):
                at = start + timedelta(minutes=5 * run, seconds=s)
                session.add(
                    TrackPoint(
                        device_id="T1",
                        at=at,
                        lon=0.0,
                        lat=0.0,
                        edge=edge,
                        fraction=10.0 * s / float(network.edge_length_m[edge]),
                        source="test",
                    )
                )
    engine.dispose()
    env = {**built_demo, "JIAOXUN_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["speeds", "learn", "--days", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "km of driving sampled on 1 of" in " ".join(result.output.split())
    speeds = load_speeds(speeds_path(tmp_path, network), network)
    assert speeds is not None
    learned = speeds.speed_kph[edge][speeds.observed_m[edge] > 0]
    assert len(learned) >= 1
    assert (learned > network.edge_speed_kph[edge] + 3).all()
    assert (learned < 36.0).all()
    simulated = CliRunner().invoke(
        app,
        ["simulate", "after", "--days", "0.3", "--replications", "1", "--json", "--learned-speeds"],
        env=env,
    )
    assert simulated.exit_code == 0, simulated.output
    unlearned = {**built_demo, "JIAOXUN_DATA_DIR": str(tmp_path / "elsewhere")}
    refused = CliRunner().invoke(app, ["simulate", "after", "--learned-speeds"], env=unlearned)
    assert refused.exit_code == 2
    assert "no speeds are learned" in " ".join(refused.output.split())


def test_eta_accuracy(built_demo: dict[str, str]) -> None:
    """No order has a GPS arrival in a freshly built city: every figure is there, empty."""
    result = CliRunner().invoke(app, ["speeds", "accuracy", "--json"], env=built_demo)
    assert result.exit_code == 0, result.output
    reply = json.loads(result.output)
    assert set(reply) >= {"stored ETA", "class table"}
    assert reply["stored ETA"] == {
        "count": 0,
        "median_abs_error_s": None,
        "p90_abs_error_s": None,
        "bias_s": None,
    }
    table = CliRunner().invoke(app, ["speeds", "accuracy", "--days", "7"], env=built_demo)
    assert table.exit_code == 0, table.output
    assert "median |error| s" in table.output
