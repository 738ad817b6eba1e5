"""Getting a command center ready to serve: schema, city, reference data, crews, first users."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from jiaoxun.analytics.history import simulate_demo_history
from jiaoxun.city import service as city_service
from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.duty.organisation import seed_force
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.services.catalogue import seed_services
from jiaoxun.settings import Settings
from jiaoxun.traffic.codes import seed_violation_codes
from jiaoxun.units.service import seed_crews
from jiaoxun.users.roles import Role
from jiaoxun.users.service import seed_users


def prepare(
    settings: Settings, *, step: Callable[[str], None] = lambda _: None
) -> tuple[Engine, dict[str, tuple[Role, str]]]:
    """Migrate, build the demo city if no city is stored, seed what is missing; a demo city
    built now also gets its simulated history (unless `settings.demo_history` is off).

    Returns the engine and the users created now with their first-login passwords.
    """
    engine = make_engine(settings.database)
    step("migrating the database")
    migrate(engine)
    with transaction(engine) as session:
        first_start = city_service.current_city(session) is None
        if first_start:
            city_service.build_city(session, settings, step=step)
        step("seeding categories, response plans, 1-3-5 tiers, crews, users and the force")
        seed_reference(session)
        seed_crews(session, now=datetime.now(UTC))
        users = seed_users(session)
        seed_force(session, now=datetime.now(UTC))
        seed_services(session)
        seed_violation_codes(session)
        if first_start and settings.demo_history:
            step("simulating the demo city's history for the statistics")
            simulate_demo_history(session, settings, now=datetime.now(UTC))
    return engine, users
