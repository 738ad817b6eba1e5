"""Reference data of the 110 workflow kept in the database: categories, response plans, tiers.

Seeded from the built-in taxonomy, plans and 1-3-5 tiers, then editable by a commander.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.incidents.categories import CATEGORIES
from jiaoxun.incidents.models import CategoryRow, ResponsePlanRow, TierRow
from jiaoxun.incidents.plans import DEFAULT_PLANS, ResponsePlan, plan_for
from jiaoxun.incidents.targets import DEFAULT_TIERS, Tier


def seed_reference(session: Session) -> int:
    """Add the built-in categories, plans and tiers that are not there yet; returns rows added."""
    added = 0
    known = set(session.scalars(select(CategoryRow.code)))
    for c in sorted(CATEGORIES, key=lambda c: c.level):
        if c.code not in known:
            session.add(
                CategoryRow(
                    code=c.code,
                    name_zh=c.name_zh,
                    name_en=c.name_en,
                    level=c.level,
                    parent_code=c.parent_code,
                    priority=c.priority,
                    active=True,
                )
            )
            session.flush()
            added += 1
    plans = {(p.top_code, p.priority) for p in session.scalars(select(ResponsePlanRow))}
    for (top, priority), plan in DEFAULT_PLANS.items():
        if (top, priority) not in plans:
            session.add(
                ResponsePlanRow(
                    top_code=top,
                    priority=priority,
                    units=plan.units,
                    distinct_zones=plan.distinct_zones,
                )
            )
            added += 1
    tiers = set(session.scalars(select(TierRow.name)))
    for tier in DEFAULT_TIERS:
        if tier.name not in tiers:
            session.add(
                TierRow(
                    name=tier.name,
                    bound_min=tier.bound_min,
                    applies_to=tier.applies_to,
                    place_classes=sorted(tier.place_classes),
                    zones=sorted(tier.zones),
                )
            )
            added += 1
    session.flush()
    return added


def category_row(session: Session, code: str) -> CategoryRow:
    row = session.get(CategoryRow, code)
    if row is None:
        raise InvalidInput(f"category_code {code!r} is not a known incident category")
    if not row.active:
        raise InvalidInput(f"category {code} ({row.name_zh}) is retired and takes no new incidents")
    return row


def top_code(code: str) -> str:
    """The level-1 code of a category code ("010203" → "010000")."""
    return code[:2] + "0000"


def response_plan(session: Session, *, code: str, priority: int) -> ResponsePlan:
    """The plan stored for (top-level category, priority), else the built-in one."""
    row = session.scalar(
        select(ResponsePlanRow).where(
            ResponsePlanRow.top_code == top_code(code), ResponsePlanRow.priority == priority
        )
    )
    if row is not None:
        return ResponsePlan(units=row.units, distinct_zones=row.distinct_zones)
    return plan_for(code, priority)


def tiers(session: Session) -> tuple[Tier, ...]:
    rows = session.scalars(select(TierRow).order_by(TierRow.bound_min, TierRow.id)).all()
    if not rows:
        return DEFAULT_TIERS
    return tuple(
        Tier(r.name, r.bound_min, r.applies_to, frozenset(r.place_classes), frozenset(r.zones))
        for r in rows
    )


def search_categories(session: Session, text: str | None, *, limit: int = 50) -> list[CategoryRow]:
    query = select(CategoryRow).where(CategoryRow.active).order_by(CategoryRow.code)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            CategoryRow.name_zh.contains(text)
            | CategoryRow.name_en.ilike(like)
            | CategoryRow.code.startswith(text)
        )
    rows = list(session.scalars(query.limit(limit)))
    if not rows and text and not session.scalars(select(CategoryRow).limit(1)).first():
        raise NotFound("no categories are loaded: run `jiaoxun serve` once to seed them")
    return rows
