"""Writing and reading the audit log. Every create and every state change goes through `record`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.models import AuditEntry


def record(
    session: Session,
    *,
    by: str,
    action: str,
    entity: str,
    entity_id: int | str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at or datetime.now(UTC),
        username=by,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> Sequence[AuditEntry]:
    """The newest entries first, optionally of one entity or after a time."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return session.scalars(query).all()
