"""Tables of the 110 workflow: categories, response plans, 1-3-5 tiers, incidents, orders,
the recorded verdicts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiaoxun.db import Base, UtcDateTime, str_enum
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.targets import Applies
from jiaoxun.units.models import Unit

#: origins of an incident record
LIVE, IMPORTED, SIMULATED = "live", "imported", "simulated"
#: the orders under way, as SQL: the predicate of their partial index (a query that states it
#: word for word is answered from that index, by SQLite too)
ACTIVE_ORDERS_SQL = "state IN ('issued', 'acknowledged', 'en_route', 'arrived')"


class Source(enum.StrEnum):
    POLICE_110 = "110"
    TRAFFIC_122 = "122"
    HOTLINE_12345 = "12345"
    WALK_IN = "walk_in"
    PATROL = "patrol"  # found by a unit on patrol


class CategoryRow(Base):
    """An incident category of the hierarchical taxonomy (seeded, editable)."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    priority: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ResponsePlanRow(Base):
    """How many units a (top-level category, priority) gets, and whether from distinct zones."""

    __tablename__ = "response_plan"
    __table_args__ = (
        UniqueConstraint("top_code", "priority"),
        CheckConstraint("units >= 1", name="units_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    top_code: Mapped[str] = mapped_column(String(6))
    priority: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    distinct_zones: Mapped[bool] = mapped_column(Boolean)


class TierRow(Base):
    """A 1-3-5 response tier (seeded, editable)."""

    __tablename__ = "response_tier"
    __table_args__ = (CheckConstraint("bound_min > 0", name="bound_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    bound_min: Mapped[float] = mapped_column(Float)
    applies_to: Mapped[Applies] = mapped_column(str_enum(Applies, length=10))
    place_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)


class Incident(Base):
    """A call for service (警情): intake fields, state, every timestamp, outcome."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    source: Mapped[Source] = mapped_column(str_enum(Source, length=10))
    caller_name: Mapped[str] = mapped_column(String(50), default="")
    caller_phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    priority: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[IncidentState] = mapped_column(str_enum(IncidentState, length=20), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    place_class: Mapped[str | None] = mapped_column(String(20))
    required_units: Mapped[int] = mapped_column(Integer, default=1)
    distinct_zones: Mapped[bool] = mapped_column(Boolean, default=False)
    main_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    outcome_code: Mapped[str] = mapped_column(String(20), default="")
    outcome_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(50))
    call_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    merged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    transferred_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the 1-3-5 tiers in force when the call was taken, copied: later edits do not reach it
    #: (None: taken before tiers were copied; judged by the tiers of today)
    tiers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: where the record comes from: taken here ("live"), imported from another center's CAD
    #: ("imported") or written by the history simulator ("simulated")
    origin: Mapped[str] = mapped_column(String(10), default=LIVE, server_default=LIVE)
    #: the import (file and mapping) or simulation (scenario and seed) that wrote it
    batch: Mapped[str] = mapped_column(String(80), default="", server_default="")
    #: False for a record whose location is unknown (an imported call without one): its
    #: lon/lat are as the source wrote them and place it nowhere
    located: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    #: units that responded, when the record carries a count instead of orders (imported)
    units_responding: Mapped[int | None] = mapped_column(Integer)

    orders: Mapped[list[DispatchOrder]] = relationship(
        back_populates="incident", order_by="DispatchOrder.id"
    )
    verdicts: Mapped[list[VerdictRow]] = relationship(order_by="VerdictRow.id")


class VerdictRow(Base):
    """One 1-3-5 verdict of an incident as recorded once decided, with a copy of its tier: the
    record no later edit of the tiers, clock or button changes (written once, never updated)."""

    __tablename__ = "incident_verdict"
    __table_args__ = (UniqueConstraint("incident_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    # the tier, copied
    tier: Mapped[str] = mapped_column(String(30))
    bound_min: Mapped[float] = mapped_column(Float)
    applies_to: Mapped[str] = mapped_column(String(10))
    place_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the verdict
    from_dispatch_s: Mapped[float | None] = mapped_column(Float)
    from_call_s: Mapped[float | None] = mapped_column(Float)
    met_from_dispatch: Mapped[bool | None] = mapped_column(Boolean)
    met_from_call: Mapped[bool | None] = mapped_column(Boolean)
    #: which arrival decided it: "gps" (the unit's fix at the scene), "report" (the officer's
    #: button), None (no unit arrived)
    arrival_source: Mapped[str | None] = mapped_column(String(10))
    #: what wrote it: "arrival", or how the incident ended ("closed", "cancelled", "merged")
    decided_on: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DispatchOrder(Base):
    """One unit's order for one incident (派警单) and its feedback."""

    __tablename__ = "dispatch_order"
    __table_args__ = (
        # a unit holds at most one active order: the database itself refuses a double dispatch
        Index(
            "uq_dispatch_order_active_unit",
            "unit_id",
            unique=True,
            sqlite_where=text(ACTIVE_ORDERS_SQL),
            postgresql_where=text(ACTIVE_ORDERS_SQL),
        ),
        # a unit's orders by time: the patrol duty reads them at every batch of fixes
        Index("ix_dispatch_order_unit_issued", "unit_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    state: Mapped[OrderState] = mapped_column(str_enum(OrderState, length=20))
    eta_s: Mapped[float | None] = mapped_column(Float)
    issued_by: Mapped[str] = mapped_column(String(50))
    feedback: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: when the order, still not acknowledged past the limit, was raised to the dispatcher
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the time of the unit's first accepted fix within the arrival distance of the scene
    gps_arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    incident: Mapped[Incident] = relationship(back_populates="orders")
    unit: Mapped[Unit] = relationship()
