"""The audit log table. Rows are only ever inserted: the migration adds triggers that refuse
UPDATE and DELETE on it, in SQLite and in PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime


class AuditEntry(Base):
    """One change: who, when, what (entity and id), from which state to which, and why."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(30))  # create, transition, update, login
    entity: Mapped[str] = mapped_column(String(30))  # incident, order, unit, user, category…
    entity_id: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
