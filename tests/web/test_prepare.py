"""Getting a command center ready, again and again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from jiaoxun.city import service as city_service
from jiaoxun.db import transaction
from jiaoxun.settings import Settings
from jiaoxun.units.models import Officer
from jiaoxun.web.server import prepare


def test_the_server_starts_again_after_a_city_rebuild(tmp_path: Path, cache_dir: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'again.db'}", data_dir=tmp_path, cache_dir=cache_dir
    )
    engine, users = prepare(settings)
    assert len(users) == 5
    with transaction(engine) as session:
        city_service.build_city(session, settings)
    engine.dispose()
    engine, again = prepare(settings)
    assert again == {}  # the users were there already
    with transaction(engine) as session:
        officers = session.scalar(select(func.count()).select_from(Officer))
        badges = session.scalar(select(func.count(func.distinct(Officer.badge))))
    engine.dispose()
    assert officers == badges == 54  # a crew of two for each of the 27 new cars
