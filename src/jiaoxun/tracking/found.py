"""What a unit's duty found in its fixes: zone events and check-ins, stored once however often
they are found, and announced on the event stream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jiaoxun.db import insert_new
from jiaoxun.events import Event
from jiaoxun.tracking.duty import Taken
from jiaoxun.tracking.geofence import FenceEvent
from jiaoxun.tracking.models import CheckInRow, FenceEventRow
from jiaoxun.tracking.patrol import CheckIn


@dataclass(frozen=True)
class Found:
    """Zone events and check-ins of one unit found by a batch."""

    unit_id: int
    device_id: str
    taken: Taken


def store_found(session: Session, found: Sequence[Found]) -> None:
    """Zone events and check-ins, each stored once however often it is found."""
    events: list[tuple[Found, FenceEvent]] = [(f, e) for f in found for e in f.taken.fence_events]
    insert_new(
        session,
        FenceEventRow,
        [
            {
                "unit_id": f.unit_id,
                "device_id": f.device_id,
                "zone": e.zone,
                "kind": e.kind,
                "at": e.at,
            }
            for f, e in events
        ],
    )
    check_ins: list[tuple[Found, CheckIn]] = [(f, c) for f in found for c in f.taken.check_ins]
    insert_new(
        session,
        CheckInRow,
        [
            {
                "point_id": c.point_id,
                "unit_id": f.unit_id,
                "arrived_at": c.arrived_at,
                "checked_in_at": c.checked_in_at,
                "manual": False,
                "proved": True,
                "by": f.device_id,
            }
            for f, c in check_ins
        ],
    )


def announced(found: Sequence[Found]) -> list[Event]:
    """The zone events and check-ins found, for the event stream."""
    events = []
    for f in found:
        events += [
            Event(
                "zone",
                e.kind,
                {
                    "device_id": f.device_id,
                    "unit_id": f.unit_id,
                    "zone": e.zone,
                    "at": e.at.isoformat(),
                },
            )
            for e in f.taken.fence_events
        ]
        events += [
            Event(
                "check_in",
                "created",
                {
                    "point_id": c.point_id,
                    "device_id": f.device_id,
                    "unit_id": f.unit_id,
                    "arrived_at": c.arrived_at.isoformat(),
                    "checked_in_at": c.checked_in_at.isoformat(),
                },
            )
            for c in f.taken.check_ins
        ]
    return events
