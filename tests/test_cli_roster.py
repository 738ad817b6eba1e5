"""`jiaoxun roster`: a month solved and published from the command line, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jiaoxun.cli import app
from jiaoxun.settings import Settings
from jiaoxun.web.server import prepare


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict[str, str]:
    """A prepared demo city with its force (no history)."""
    folder = tmp_path_factory.mktemp("roster")
    env = {
        "JIAOXUN_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "JIAOXUN_DATA_DIR": str(folder),
        "JIAOXUN_CACHE_DIR": str(cache_dir),
        "JIAOXUN_DEMO_HISTORY": "0",
    }
    settings = Settings(
        database_url=env["JIAOXUN_DATABASE_URL"],
        data_dir=folder,
        cache_dir=cache_dir,
        demo_history=False,
    )
    prepare(settings)[0].dispose()
    return env


def test_a_month_solved_and_published(force: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["roster", "solve", "--month", "2026-11", "--time-limit", "60", "--publish"], env=force
    )
    assert result.exit_code == 0, result.output
    assert "published" in result.output
    assert "car shifts" in result.output
    listed = CliRunner().invoke(app, ["roster", "list"], env=force)
    assert listed.exit_code == 0, listed.output
    assert "2026-11" in listed.output
    assert "published" in listed.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--month", "2026-13"], 2, "YYYY-MM"),
        (["--month", "2026-11", "--pattern", "nosuch"], 1, "nosuch"),
    ],
)
def test_a_bad_month_or_pattern_is_named(
    force: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(app, ["roster", "solve", *args], env=force)
    assert result.exit_code == code, result.output
    assert message in result.output
