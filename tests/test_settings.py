from __future__ import annotations

from pathlib import Path

import pytest

from jiaoxun.settings import Settings


def test_the_database_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    urls = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        settings = Settings()
        urls.add(settings.database)
        assert settings.data_dir == tmp_path / "share" / "jiaoxun"
        assert settings.cache_dir == tmp_path / "cache" / "jiaoxun"
    assert urls == {f"sqlite:///{tmp_path / 'share' / 'jiaoxun' / 'jiaoxun.db'}"}


def test_the_data_folder_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIAOXUN_DATA_DIR", str(tmp_path / "police"))
    assert Settings().database == f"sqlite:///{tmp_path / 'police' / 'jiaoxun.db'}"
