"""Reference data of the 110 workflow kept in the database: categories, response plans, tiers.

Seeded from the built-in taxonomy, plans and 1-3-5 tiers, then editable by a commander.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.incidents.categories import CATEGORIES, Category
from jiaoxun.incidents.models import CategoryRow, ResponsePlanRow, TierRow
from jiaoxun.incidents.plans import ANY_TOP, DEFAULT_PLANS, ResponsePlan, plan_for
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
    """The stored plan for the category and priority, by the fallbacks of `plan_for`."""
    plans = {
        (r.top_code, r.priority): ResponsePlan(units=r.units, distinct_zones=r.distinct_zones)
        for r in session.scalars(select(ResponsePlanRow))
    }
    return plan_for(code, priority, plans=plans or DEFAULT_PLANS)


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


def update_category(
    session: Session, code: str, *, changes: dict[str, object], by: str
) -> CategoryRow:
    """Change a category's names, priority or whether it takes new incidents (audited)."""
    row = session.get(CategoryRow, code)
    if row is None:
        raise NotFound(f"category {code} does not exist")
    before = {key: getattr(row, key) for key in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    record(
        session,
        by=by,
        action="update",
        entity="category",
        entity_id=code,
        detail={"before": before, "after": changes},
    )
    return row


def add_category(
    session: Session, *, code: str, name_zh: str, name_en: str, priority: int, by: str
) -> CategoryRow:
    """A new category under an existing parent (its code says which)."""
    shape = Category(code, name_zh, name_en, priority)  # checks the code and priority
    if session.get(CategoryRow, code) is not None:
        raise Conflict(f"category {code} exists already")
    if shape.parent_code and session.get(CategoryRow, shape.parent_code) is None:
        raise InvalidInput(
            f"category {code} needs its parent {shape.parent_code}, which is missing"
        )
    row = CategoryRow(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        level=shape.level,
        parent_code=shape.parent_code,
        priority=priority,
        active=True,
    )
    session.add(row)
    record(
        session,
        by=by,
        action="create",
        entity="category",
        entity_id=code,
        detail={"name_zh": name_zh, "priority": priority},
    )
    return row


def set_plan(
    session: Session, *, top: str, priority: int, plan: ResponsePlan, by: str
) -> ResponsePlanRow:
    """Store the response plan of (top-level category, priority), replacing any before."""
    if top != ANY_TOP and (session.get(CategoryRow, top) is None or top != top_code(top)):
        raise InvalidInput(f"top_code {top!r} is neither a level-1 category nor '{ANY_TOP}'")
    row = session.scalar(
        select(ResponsePlanRow).where(
            ResponsePlanRow.top_code == top, ResponsePlanRow.priority == priority
        )
    )
    if row is None:
        row = ResponsePlanRow(top_code=top, priority=priority)
        session.add(row)
    row.units, row.distinct_zones = plan.units, plan.distinct_zones
    record(
        session,
        by=by,
        action="update",
        entity="response_plan",
        entity_id=f"{top}/{priority}",
        detail={"units": plan.units, "distinct_zones": plan.distinct_zones},
    )
    return row


def set_tier(session: Session, tier: Tier, *, by: str) -> TierRow:
    """Store a 1-3-5 tier by name, replacing the one of that name; the audit row says who,
    when, and the tier before and after. Incidents taken earlier keep their copy of it."""
    row = session.scalar(select(TierRow).where(TierRow.name == tier.name))
    before = None
    if row is None:
        row = TierRow(name=tier.name)
        session.add(row)
    else:
        before = {"bound_min": row.bound_min, "applies_to": row.applies_to.value}
    row.bound_min, row.applies_to = tier.bound_min, tier.applies_to
    row.place_classes, row.zones = sorted(tier.place_classes), sorted(tier.zones)
    record(
        session,
        by=by,
        action="update",
        entity="response_tier",
        entity_id=tier.name,
        detail={
            "bound_min": tier.bound_min,
            "applies_to": tier.applies_to.value,
            "place_classes": row.place_classes,
            "zones": row.zones,
            "before": before,
        },
    )
    return row


def delete_tier(session: Session, name: str, *, by: str) -> None:
    row = session.scalar(select(TierRow).where(TierRow.name == name))
    if row is None:
        raise NotFound(f"tier {name!r} does not exist")
    session.delete(row)
    record(session, by=by, action="delete", entity="response_tier", entity_id=name)
