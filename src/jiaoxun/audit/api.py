"""Routes of the audit log (read only: nothing can change it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from jiaoxun.audit.service import entries
from jiaoxun.inputs import Instant
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import SessionDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/audit", tags=["audit"], route_class=Route)


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: str
    from_state: str | None
    to_state: str | None
    reason: str
    detail: dict[str, Any]


@router.get("")
def audit_log(
    session: SessionDep,
    _user: Annotated[User, Depends(requires(Permission.READ_AUDIT))],
    entity: Annotated[str | None, Query(max_length=30)] = None,
    entity_id: Annotated[str | None, Query(max_length=40)] = None,
    since: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """The newest audit entries first."""
    rows = entries(session, entity=entity, entity_id=entity_id, since=since, limit=limit)
    return [AuditOut.model_validate(r) for r in rows]
