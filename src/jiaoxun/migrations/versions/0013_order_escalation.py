"""Orders raised to the dispatcher when nobody acknowledges them in time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:58:56.029914
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatch_order", schema=None) as batch_op:
        batch_op.drop_column("escalated_at")
