"""Every table of jiaoxun in one metadata, for migrations and tests."""

from jiaoxun.activities.models import Activity
from jiaoxun.analytics.models import CalendarDay, Recognition
from jiaoxun.audit.models import AuditEntry
from jiaoxun.city.models import City, Kiosk, PatrolLine, PatrolPoint, Zone
from jiaoxun.db import Base
from jiaoxun.duty.models import (
    Absence,
    Brigade,
    CoverDemand,
    DutyShift,
    LedgerEntry,
    Roster,
    ShiftChange,
    ShiftPatternRow,
)
from jiaoxun.incidents.models import (
    CategoryRow,
    DispatchOrder,
    Incident,
    ResponsePlanRow,
    TierRow,
)
from jiaoxun.services.models import (
    Booking,
    CounterSession,
    Notification,
    OpeningHours,
    ServiceItem,
    ServiceRecord,
    Slot,
    Ticket,
    WaitlistEntry,
)
from jiaoxun.tracking.models import CheckInRow, Device, FenceEventRow, TrackPoint
from jiaoxun.traffic.models import (
    Accident,
    AccidentParty,
    AccidentStep,
    Photo,
    TrafficViolation,
    ViolationCode,
)
from jiaoxun.units.models import Officer, Unit
from jiaoxun.users.models import ApiToken, StreamTicket, User

metadata = Base.metadata

__all__ = [
    "Absence",
    "Accident",
    "AccidentParty",
    "AccidentStep",
    "Activity",
    "ApiToken",
    "AuditEntry",
    "Booking",
    "Brigade",
    "CalendarDay",
    "CategoryRow",
    "CheckInRow",
    "City",
    "CounterSession",
    "CoverDemand",
    "Device",
    "DispatchOrder",
    "DutyShift",
    "FenceEventRow",
    "Incident",
    "Kiosk",
    "LedgerEntry",
    "Notification",
    "Officer",
    "OpeningHours",
    "PatrolLine",
    "PatrolPoint",
    "Photo",
    "Recognition",
    "ResponsePlanRow",
    "Roster",
    "ServiceItem",
    "ServiceRecord",
    "ShiftChange",
    "ShiftPatternRow",
    "Slot",
    "StreamTicket",
    "Ticket",
    "TierRow",
    "TrackPoint",
    "TrafficViolation",
    "Unit",
    "User",
    "ViolationCode",
    "WaitlistEntry",
    "Zone",
    "metadata",
]
