"""A unit's orders by time: the duty reads them at every batch of fixes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_dispatch_order_unit_issued", "dispatch_order", ["unit_id", "issued_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_dispatch_order_unit_issued", table_name="dispatch_order")
