"""Response plans (run cards): how many units an incident gets and from where.

一点报警，多点响应 — one alarm, many responders: a plan can ask for several units and require that
they come from different zones, so that a serious incident draws the nearest cars of several
kiosks instead of stripping one zone bare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from jiaoxun.errors import InvalidInput
from jiaoxun.incidents.categories import PRIORITIES, Category
from jiaoxun.incidents.categories import category as category_by_code


@dataclass(frozen=True)
class ResponsePlan:
    """`units` cars, from `units` different zones when `distinct_zones` (as far as possible)."""

    units: int = 1
    distinct_zones: bool = False

    def __post_init__(self) -> None:
        if self.units < 1:
            raise ValueError(f"units(={self.units}) must be >= 1.")


#: wildcards of `DEFAULT_PLANS` keys: every top-level category, every priority
ANY_TOP = "*"
ANY_PRIORITY = 0

_MULTI_3 = ResponsePlan(units=3, distinct_zones=True)
_MULTI_2 = ResponsePlan(units=2, distinct_zones=True)

#: the default run cards, keyed by (top-level category code, priority); see `plan_for`
DEFAULT_PLANS: Mapping[tuple[str, int], ResponsePlan] = MappingProxyType(
    {
        # priority 1: one alarm, many responders
        ("010000", 1): _MULTI_3,  # criminal: the scene, the escape routes, the backup
        ("040000", 1): _MULTI_3,  # fire and rescue: cordon, traffic, the rescue itself
        ("070000", 1): _MULTI_3,  # group incidents
        ("080000", 1): _MULTI_3,  # disasters
        (ANY_TOP, 1): _MULTI_2,  # e.g. an injury accident: one at the scene, one diverting upstream
        # a group incident never gets a single car, whatever its priority
        ("070000", ANY_PRIORITY): _MULTI_2,
        # priority 2: two cars for crime and disorder, one for the rest
        ("010000", 2): ResponsePlan(units=2),
        ("020000", 2): ResponsePlan(units=2),
        (ANY_TOP, 2): ResponsePlan(),
        (ANY_TOP, 3): ResponsePlan(),
        (ANY_TOP, 4): ResponsePlan(),
    }
)


def plan_for(
    category: Category | str,
    priority: int | None = None,
    *,
    plans: Mapping[tuple[str, int], ResponsePlan] = DEFAULT_PLANS,
) -> ResponsePlan:
    """The response plan of an incident of this category and priority.

    The first of (top, priority), (top, `ANY_PRIORITY`), (`ANY_TOP`, priority) found in `plans`
    wins, where top is the category's level-1 code; with none of them, one unit.

    Parameters
    ----------
    category : Category or str
        The incident's category, or its code.
    priority : int, optional
        The incident's priority, 1 (most urgent) … 4; by default the category's.
    plans : mapping
        Run cards keyed by (top-level code, priority), as `DEFAULT_PLANS`.

    Raises
    ------
    InvalidInput
        For a malformed code or a priority outside 1 … 4.
    NotFound
        For a code that is no category.
    """
    cat = category if isinstance(category, Category) else category_by_code(category)
    level = cat.priority if priority is None else priority
    if level not in PRIORITIES:
        raise InvalidInput(f"priority(={level}) must be one of 1, 2, 3, 4")
    for key in ((cat.top, level), (cat.top, ANY_PRIORITY), (ANY_TOP, level)):
        if key in plans:
            return plans[key]
    return ResponsePlan()
