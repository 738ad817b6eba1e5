"""The stored city names its extract so that moving the checkout or the extract breaks nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from jiaoxun.city.maps import DEMO_MAP, file_sha256, map_path, store_map
from jiaoxun.data import DEMO_PBF
from jiaoxun.db import alembic_config, make_engine
from jiaoxun.errors import DataSourceError


def test_the_demo_extract_is_named_by_its_place_in_the_package(tmp_path: Path) -> None:
    assert (
        store_map(DEMO_PBF, data_dir=tmp_path) == DEMO_MAP == "package:demo/harbin-centre.osm.pbf"
    )
    assert map_path(DEMO_MAP, data_dir=tmp_path / "anywhere") == DEMO_PBF
    assert not (tmp_path / "maps").exists()  # nothing copied


def test_another_extract_is_kept_by_content_hash_in_the_data_folder(tmp_path: Path) -> None:
    outside = tmp_path / "downloads" / "city.osm.pbf"
    outside.parent.mkdir()
    shutil.copyfile(DEMO_PBF, outside)
    data = tmp_path / "data"
    reference = store_map(outside, data_dir=data)
    assert reference == f"sha256:{file_sha256(DEMO_PBF)}"
    assert store_map(outside, data_dir=data) == reference  # the same content, the same file
    assert [p.name for p in (data / "maps").iterdir()] == [f"{reference[7:]}.osm.pbf"]
    shutil.rmtree(outside.parent)
    # the user's file is gone, the data folder is moved: the city still finds its map
    moved = tmp_path / "moved"
    data.rename(moved)
    assert map_path(reference, data_dir=moved).read_bytes() == DEMO_PBF.read_bytes()


def test_a_missing_map_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"sha256:abc is not at .*abc\.osm\.pbf"):
        map_path("sha256:abc", data_dir=tmp_path)
    with pytest.raises(DataSourceError, match=r"/gone/x\.osm\.pbf is not at"):
        map_path("/gone/x.osm.pbf", data_dir=tmp_path)
    legacy = tmp_path / "kept.osm.pbf"
    shutil.copyfile(DEMO_PBF, legacy)
    assert map_path(str(legacy), data_dir=tmp_path) == legacy  # an old absolute path still works


def test_migration_turns_an_old_checkouts_demo_path_into_a_reference(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0005")
    old = "/home/someone/old-checkout/src/jiaoxun/data/demo/harbin-centre.osm.pbf"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO city (name, source_pbf, built_at) VALUES ('a', :p, :t), ('b', :q, :t)"
            ),
            {"p": old, "q": "/srv/maps/baicheng.osm.pbf", "t": "2026-11-30 10:00:00"},
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT source_pbf FROM city ORDER BY id")).scalars().all()
    engine.dispose()
    assert stored == [DEMO_MAP, "/srv/maps/baicheng.osm.pbf"]
