"""Orders that nobody signed for: raised to the dispatcher once they pass the limit.

Like a lift's alarm bell that rings in the porter's lodge when nobody answers inside: an order
still only issued `ack_limit_s` after it went out is stamped `escalated_at`, written to the audit
log and announced as an `order`/`escalated` event, once. Several server rounds may look at the
same time: each locks the rows it raises (others skip them), and the update itself only touches
an order not escalated yet, so one of them raises it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from jiaoxun.audit.service import record
from jiaoxun.events import emit
from jiaoxun.incidents.lifecycle import OrderState
from jiaoxun.incidents.models import DispatchOrder
from jiaoxun.settings import Settings


def escalation_upkeep(
    sessions: sessionmaker[Session], settings: Settings, *, now: datetime
) -> list[int]:
    """Raise every order issued longer than `settings.ack_limit_s` ago and not acknowledged;
    the ids of the orders raised by this call."""
    limit_s = settings.ack_limit_s
    with sessions() as session, session.begin():
        due = session.scalars(
            select(DispatchOrder.id)
            .where(
                DispatchOrder.state == OrderState.ISSUED,
                DispatchOrder.escalated_at.is_(None),
                DispatchOrder.issued_at < now - timedelta(seconds=limit_s),
            )
            .order_by(DispatchOrder.id)
            .with_for_update(skip_locked=True)  # SQLite has no row locks: its writers queue
        ).all()
        if not due:
            return []
        raised = session.scalars(
            update(DispatchOrder)
            .where(
                DispatchOrder.id.in_(due),
                DispatchOrder.state == OrderState.ISSUED,
                DispatchOrder.escalated_at.is_(None),
            )
            .values(escalated_at=now)
            .returning(DispatchOrder.id)
            .execution_options(synchronize_session=False)
        ).all()
        orders = session.scalars(
            select(DispatchOrder)
            .where(DispatchOrder.id.in_(raised))
            .order_by(DispatchOrder.id)
            .options(selectinload(DispatchOrder.incident), selectinload(DispatchOrder.unit))
        ).all()
        for order in orders:
            _announce_escalation(session, order, limit_s=limit_s, now=now)
        return [order.id for order in orders]


def _announce_escalation(
    session: Session, order: DispatchOrder, *, limit_s: float, now: datetime
) -> None:
    waited_s = (now - order.issued_at).total_seconds()
    record(
        session,
        by="system",
        action="escalate",
        entity="order",
        entity_id=order.id,
        from_state=order.state.value,
        to_state=order.state.value,
        reason=(
            f"not acknowledged {waited_s:.0f} s after issue, beyond the limit of {limit_s:g} s: "
            "raised to the dispatcher"
        ),
        detail={"incident_id": order.incident_id, "unit_id": order.unit_id},
        at=now,
    )
    emit(
        session,
        "order",
        "escalated",
        {
            "id": order.id,
            "incident_id": order.incident_id,
            "number": order.incident.number,
            "unit_id": order.unit_id,
            "call_sign": order.unit.call_sign,
            "state": order.state.value,
            "issued_at": order.issued_at.isoformat(),
            "escalated_at": now.isoformat(),
            "waited_s": round(waited_s, 1),
        },
    )
