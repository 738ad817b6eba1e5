"""Getting a command center ready to serve: schema, city, reference data, crews, first users."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from jiaoxun.city import service as city_service
from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.settings import Settings
from jiaoxun.units.service import seed_crews
from jiaoxun.users.roles import Role
from jiaoxun.users.service import seed_users


def prepare(
    settings: Settings, *, step: Callable[[str], None] = lambda _: None
) -> tuple[Engine, dict[str, tuple[Role, str]]]:
    """Migrate, build the demo city if no city is stored, seed what is missing.

    Returns the engine and the users created now with their first-login passwords.
    """
    engine = make_engine(settings.database)
    step("migrating the database")
    migrate(engine)
    with transaction(engine) as session:
        if city_service.current_city(session) is None:
            city_service.build_city(session, settings, step=step)
        step("seeding categories, response plans, 1-3-5 tiers, crews and users")
        seed_reference(session)
        seed_crews(session, now=datetime.now(UTC))
        users = seed_users(session)
    return engine, users
