"""Patrol duty kept as a record: one position per device and moment, a visit stored once,
duty windows, proved manual check-ins, the per-shift patrol state

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: rows that repeat another one's key: all but the first stored are duplicates
_DUPLICATES = "DELETE FROM {table} WHERE id NOT IN (SELECT MIN(id) FROM {table} GROUP BY {key})"


def upgrade() -> None:
    op.execute(_DUPLICATES.format(table="track_point", key="device_id, at"))
    op.execute(
        _DUPLICATES.format(table="patrol_check_in", key="point_id, unit_id, arrived_at, manual")
    )
    op.execute(_DUPLICATES.format(table="fence_event", key="unit_id, zone, kind, at"))
    with op.batch_alter_table("track_point", schema=None) as batch_op:
        batch_op.drop_index("ix_track_point_device_at")
        batch_op.create_index("uq_track_point_device_at", ["device_id", "at"], unique=True)
        batch_op.create_index("ix_track_point_at", ["at"], unique=False)
    with op.batch_alter_table("patrol_check_in", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proved", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(
            "uq_patrol_check_in_visit",
            ["point_id", "unit_id", "arrived_at", "manual"],
            unique=True,
        )
    with op.batch_alter_table("fence_event", schema=None) as batch_op:
        batch_op.create_index("uq_fence_event", ["unit_id", "zone", "kind", "at"], unique=True)
    with op.batch_alter_table("patrol_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("windows", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("patrol_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("passes_per_shift", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("windows", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "patrol_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shift_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("portions", sa.JSON(), nullable=False),
        sa.Column("roads", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_patrol_state_unit_id_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_state")),
    )
    with op.batch_alter_table("patrol_state", schema=None) as batch_op:
        batch_op.create_index("uq_patrol_state_unit_shift", ["unit_id", "shift_start"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("patrol_state", schema=None) as batch_op:
        batch_op.drop_index("uq_patrol_state_unit_shift")
    op.drop_table("patrol_state")
    with op.batch_alter_table("patrol_line", schema=None) as batch_op:
        batch_op.drop_column("windows")
        batch_op.drop_column("passes_per_shift")
    with op.batch_alter_table("patrol_point", schema=None) as batch_op:
        batch_op.drop_column("windows")
    with op.batch_alter_table("fence_event", schema=None) as batch_op:
        batch_op.drop_index("uq_fence_event")
    with op.batch_alter_table("patrol_check_in", schema=None) as batch_op:
        batch_op.drop_index("uq_patrol_check_in_visit")
        batch_op.drop_column("proved")
    with op.batch_alter_table("track_point", schema=None) as batch_op:
        batch_op.drop_index("ix_track_point_at")
        batch_op.drop_index("uq_track_point_device_at")
        batch_op.create_index("ix_track_point_device_at", ["device_id", "at"], unique=False)
