"""Routes of the 110 reference data a commander may change: categories, response plans, tiers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy import select

from jiaoxun.incidents import reference
from jiaoxun.incidents.models import ResponsePlanRow, TierRow
from jiaoxun.incidents.plans import ResponsePlan
from jiaoxun.incidents.schemas import CategoryNew, CategoryOut, CategoryPatch, PlanIO, TierIO
from jiaoxun.incidents.targets import Tier
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import SessionDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api", tags=["reference"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
Configurer = Annotated[User, Depends(requires(Permission.CONFIGURE))]
CodePath = Annotated[str, Path(pattern=r"^\d{6}$")]
TierName = Annotated[str, Path(min_length=1, max_length=30)]


@router.post("/categories", status_code=status.HTTP_201_CREATED)
def add_category(body: CategoryNew, session: SessionDep, user: Configurer) -> CategoryOut:
    """Add a category under an existing parent."""
    row = reference.add_category(session, **body.model_dump(), by=user.username)
    session.flush()
    return CategoryOut.model_validate(row)


@router.patch("/categories/{code}")
def change_category(
    code: CodePath, body: CategoryPatch, session: SessionDep, user: Configurer
) -> CategoryOut:
    """Rename a category, change its default priority, or retire it (active: false)."""
    changes = body.model_dump(exclude_none=True)
    row = reference.update_category(session, code, changes=changes, by=user.username)
    return CategoryOut.model_validate(row)


@router.get("/plans")
def plans(session: SessionDep, _user: Reader) -> list[PlanIO]:
    """The stored response plans (run cards)."""
    rows = session.scalars(
        select(ResponsePlanRow).order_by(ResponsePlanRow.top_code, ResponsePlanRow.priority)
    )
    return [PlanIO.model_validate(r) for r in rows]


@router.put("/plans")
def set_plan(body: PlanIO, session: SessionDep, user: Configurer) -> PlanIO:
    """Set how many units, from how many zones, a category and priority get."""
    plan = ResponsePlan(units=body.units, distinct_zones=body.distinct_zones)
    row = reference.set_plan(
        session, top=body.top_code, priority=body.priority, plan=plan, by=user.username
    )
    return PlanIO.model_validate(row)


@router.get("/tiers")
def tiers(session: SessionDep, _user: Reader) -> list[TierIO]:
    """The 1-3-5 tiers incidents are judged against."""
    rows = session.scalars(select(TierRow).order_by(TierRow.bound_min, TierRow.id))
    return [TierIO.model_validate(r) for r in rows]


@router.put("/tiers")
def set_tier(body: TierIO, session: SessionDep, user: Configurer) -> TierIO:
    """Add a tier, or change the tier of that name."""
    tier = Tier(
        body.name,
        body.bound_min,
        body.applies_to,
        frozenset(body.place_classes),
        frozenset(body.zones),
    )
    return TierIO.model_validate(reference.set_tier(session, tier, by=user.username))


@router.delete("/tiers/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tier(name: TierName, session: SessionDep, user: Configurer) -> None:
    reference.delete_tier(session, name, by=user.username)
