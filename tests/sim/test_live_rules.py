"""The simulator dispatches by the rules in force in the live server."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.incidents.models import ResponsePlanRow, TierRow
from jiaoxun.incidents.plans import ResponsePlan, plan_for
from jiaoxun.incidents.reference import seed_reference
from jiaoxun.settings import Settings
from jiaoxun.sim.service import live_rules


def test_the_stored_plans_and_tiers_and_the_configured_turnout(session: Session) -> None:
    seed_reference(session)
    robbery = session.scalars(
        select(ResponsePlanRow).where(
            ResponsePlanRow.top_code == "010000", ResponsePlanRow.priority == 1
        )
    ).one()
    robbery.units = 4
    three = session.scalars(select(TierRow).where(TierRow.name == "3分钟")).one()
    three.bound_min = 2.5
    session.flush()
    settings = Settings(turnout_s={"at_kiosk": 90.0}, max_fix_age_s=45.0)
    rules = live_rules(session, settings)
    assert plan_for("010200", plans=rules.plans) == ResponsePlan(units=4, distinct_zones=True)
    assert {t.name: t.bound_min for t in rules.tiers}["3分钟"] == 2.5
    assert rules.turnout_s == {"at_kiosk": 90.0}
    assert rules.max_fix_age_s == 45.0
