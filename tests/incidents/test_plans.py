"""Response plans: the default run cards and the fallback from exact key to one unit."""

from __future__ import annotations

import pytest

from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.incidents.categories import CATEGORIES, category
from jiaoxun.incidents.plans import (
    ANY_PRIORITY,
    ANY_TOP,
    DEFAULT_PLANS,
    ResponsePlan,
    plan_for,
)

ONE = ResponsePlan()


@pytest.mark.parametrize(
    ("code", "priority", "plan"),
    [
        ("010100", None, ResponsePlan(3, distinct_zones=True)),  # homicide, default priority 1
        ("040101", None, ResponsePlan(3, distinct_zones=True)),  # building fire
        ("070300", 1, ResponsePlan(3, distinct_zones=True)),  # road blockade
        ("080300", 1, ResponsePlan(3, distinct_zones=True)),  # building collapse
        ("030101", None, ResponsePlan(2, distinct_zones=True)),  # injury accident
        ("050500", None, ResponsePlan(2, distinct_zones=True)),  # suicide attempt
        ("020100", None, ResponsePlan(2)),  # fight, priority 2
        ("010500", 2, ResponsePlan(2)),  # theft
        ("030300", 2, ONE),  # hit-and-run, priority 2
        ("020200", None, ONE),  # dispute, priority 3
        ("090100", None, ONE),  # crime tip-off, priority 4
        ("010100", 4, ONE),  # the dispatcher's priority wins over the category's
    ],
)
def test_default_plans(code: str, priority: int | None, plan: ResponsePlan) -> None:
    assert plan_for(code, priority) == plan


def test_group_incident_gets_two_cars_at_any_priority() -> None:
    for priority in (2, 3, 4):
        assert plan_for("070100", priority) == ResponsePlan(2, distinct_zones=True)


def test_category_object_or_code() -> None:
    assert plan_for(category("010200")) == plan_for("010200") == ResponsePlan(3, True)


def test_fallback_order() -> None:
    plans = {
        ("010000", 2): ResponsePlan(4),
        ("010000", ANY_PRIORITY): ResponsePlan(5),
        (ANY_TOP, 2): ResponsePlan(6),
        (ANY_TOP, 3): ResponsePlan(7),
    }
    assert plan_for("010500", 2, plans=plans) == ResponsePlan(4)  # exact
    assert plan_for("010500", 3, plans=plans) == ResponsePlan(5)  # top, any priority
    assert plan_for("020100", 2, plans=plans) == ResponsePlan(6)  # priority default
    assert plan_for("020100", 3, plans=plans) == ResponsePlan(7)
    assert plan_for("020100", 1, plans=plans) == ONE  # nothing fits
    assert plan_for("020100", 1, plans={}) == ONE


def test_every_category_and_priority_has_a_sensible_plan() -> None:
    for c in CATEGORIES:
        for priority in (1, 2, 3, 4):
            plan = plan_for(c, priority)
            assert 1 <= plan.units <= 3
            assert plan.distinct_zones <= (plan.units > 1)
            assert plan.units >= plan_for(c, min(priority + 1, 4)).units  # urgency never costs cars


def test_default_plans_are_frozen() -> None:
    with pytest.raises(TypeError):
        DEFAULT_PLANS[(ANY_TOP, 4)] = ResponsePlan(9)  # type: ignore[index]


@pytest.mark.parametrize("priority", [0, 5, -1])
def test_bad_priority(priority: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_for("010100", priority)
    assert str(caught.value) == f"priority(={priority}) must be one of 1, 2, 3, 4"


def test_bad_codes() -> None:
    with pytest.raises(NotFound, match="'019900'"):
        plan_for("019900", 1)
    with pytest.raises(InvalidInput, match="must be 6 digits"):
        plan_for("01", 1)


def test_response_plan_refuses_no_units() -> None:
    with pytest.raises(ValueError, match=r"^units\(=0\) must be >= 1\.$"):
        ResponsePlan(0)
