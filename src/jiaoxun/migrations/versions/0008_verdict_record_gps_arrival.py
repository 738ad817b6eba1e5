"""1-3-5 verdicts as a record, tiers copied onto each incident, GPS-proved arrival of orders

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=30), nullable=False),
        sa.Column("bound_min", sa.Float(), nullable=False),
        sa.Column("applies_to", sa.String(length=10), nullable=False),
        sa.Column("place_classes", sa.JSON(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("from_dispatch_s", sa.Float(), nullable=True),
        sa.Column("from_call_s", sa.Float(), nullable=True),
        sa.Column("met_from_dispatch", sa.Boolean(), nullable=True),
        sa.Column("met_from_call", sa.Boolean(), nullable=True),
        sa.Column("arrival_source", sa.String(length=10), nullable=True),
        sa.Column("decided_on", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_verdict_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_verdict")),
        sa.UniqueConstraint("incident_id", "tier", name=op.f("uq_incident_verdict_incident_id")),
    )
    with op.batch_alter_table("incident_verdict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_verdict_incident_id"), ["incident_id"], unique=False
        )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tiers", sa.JSON(), nullable=True))
    with op.batch_alter_table("dispatch_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gps_arrived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatch_order", schema=None) as batch_op:
        batch_op.drop_column("gps_arrived_at")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("tiers")
    with op.batch_alter_table("incident_verdict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_verdict_incident_id"))
    op.drop_table("incident_verdict")
