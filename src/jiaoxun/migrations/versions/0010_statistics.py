"""Statistics: where each incident record comes from, recognitions received, calendar overrides

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=10), nullable=False, server_default="live")
        )
        batch_op.add_column(
            sa.Column("batch", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("units_responding", sa.Integer(), nullable=True))
        batch_op.create_index("ix_incident_main_incident_id", ["main_incident_id"], unique=False)
        batch_op.add_column(
            sa.Column("located", sa.Boolean(), nullable=False, server_default=sa.text("true"))
        )
    op.create_table(
        "recognition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "banner",
                "letter",
                "good_deed",
                name="recognitionkind",
                native_enum=False,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("giver", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_recognition_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_recognition_unit_id_unit")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_recognition_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition")),
    )
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recognition_at"), ["at"], unique=False)
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workday", sa.Boolean(), nullable=False),
        sa.Column("holiday", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )


def downgrade() -> None:
    op.drop_table("calendar_day")
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recognition_at"))
    op.drop_table("recognition")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_main_incident_id")
        batch_op.drop_column("located")
        batch_op.drop_column("units_responding")
        batch_op.drop_column("batch")
        batch_op.drop_column("origin")
