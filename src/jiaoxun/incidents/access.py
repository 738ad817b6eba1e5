"""Need to know: what of the operation an officer may read.

The center (dispatchers, commanders, admins) sees everything. An officer sees the incidents of
his unit's zone and those his unit was sent to, the caller's name and phone only on the
latter, his own unit's track, his own field records. Like a case file handed to the team on
the case: the neighbouring team knows there is a case, not who called.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from jiaoxun.errors import NotAllowed
from jiaoxun.incidents.models import DispatchOrder, Incident
from jiaoxun.units.models import Unit
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role


@dataclass(frozen=True)
class Scope:
    """What one user may read; `None` fields mean no limit (the center)."""

    username: str
    unit_id: int | None = None
    zone_id: int | None = None
    limited: bool = False

    def sent_to(self, incident: Incident) -> bool:
        return any(o.unit_id == self.unit_id for o in incident.orders)

    def sees(self, incident: Incident) -> bool:
        if not self.limited:
            return True
        home = self.zone_id is not None and incident.zone_id == self.zone_id
        return home or self.sent_to(incident)

    def sees_caller(self, incident: Incident) -> bool:
        return not self.limited or self.sent_to(incident)

    def incidents(self) -> ColumnElement[bool] | None:
        """The SQL condition on `Incident` rows this scope may read (None: all)."""
        if not self.limited:
            return None
        mine = select(DispatchOrder.incident_id).where(DispatchOrder.unit_id == self.unit_id)
        return or_(Incident.zone_id == self.zone_id, Incident.id.in_(mine))

    def check(self, incident: Incident) -> None:
        if not self.sees(incident):
            raise NotAllowed(
                f"officer {self.username} may read only his zone's incidents and those his "
                f"unit was sent to, not incident {incident.id}"
            )

    def check_unit(self, unit_id: int) -> None:
        if self.limited and unit_id != self.unit_id:
            raise NotAllowed(f"officer {self.username} may read only his own unit's records")


def scope_of(session: Session, user: User) -> Scope:
    if user.role is not Role.OFFICER:
        return Scope(user.username)
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    return Scope(
        user.username,
        unit_id=user.unit_id,
        zone_id=unit.zone_id if unit else None,
        limited=True,
    )
