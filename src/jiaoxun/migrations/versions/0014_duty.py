"""The force on duty: brigades, officers' skills and kiosks, users linked to officers, shift
patterns, cover demands, rosters and their shifts, leave and requests, the ledger, shift changes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:00:46.270338
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brigade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("traffic_patrol", "highway", name="brigadekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brigade")),
        sa.UniqueConstraint("code", name=op.f("uq_brigade_code")),
    )
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("pattern_code", sa.String(length=20), nullable=False),
        sa.Column("pattern", sa.JSON(), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft", "published", "withdrawn", name="rosterstate", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("wall_s", sa.Float(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=50), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster")),
    )
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_month"), ["month"], unique=False)

    op.create_table(
        "shift_pattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=50), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_pattern")),
        sa.UniqueConstraint("code", name=op.f("uq_shift_pattern_code")),
    )
    op.create_table(
        "shift_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crews", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["roster.id"],
            name=op.f("fk_shift_change_roster_id_roster"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_change")),
        sa.UniqueConstraint("starts_at", "roster_id", name=op.f("uq_shift_change_starts_at")),
    )
    op.create_table(
        "cover_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pattern_code", sa.String(length=20), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(length=4), nullable=False),
        sa.Column(
            "day_kind",
            sa.Enum("workday", "restday", "holiday", name="daykind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("cars", sa.Integer(), nullable=False),
        sa.Column("crew", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("patrol", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"],
            ["kiosk.id"],
            name=op.f("fk_cover_demand_kiosk_id_kiosk"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cover_demand")),
        sa.UniqueConstraint(
            "pattern_code",
            "kiosk_id",
            "shift",
            "day_kind",
            name=op.f("uq_cover_demand_pattern_code"),
        ),
    )
    with op.batch_alter_table("cover_demand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cover_demand_kiosk_id"), ["kiosk_id"], unique=False)

    op.create_table(
        "duty_absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("leave", "day_off", "shift", name="absencekind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=4), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officer.id"],
            name=op.f("fk_duty_absence_officer_id_officer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_absence")),
    )
    with op.batch_alter_table("duty_absence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duty_absence_officer_id"), ["officer_id"], unique=False
        )

    op.create_table(
        "duty_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("nights", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officer.id"],
            name=op.f("fk_duty_ledger_officer_id_officer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["roster.id"],
            name=op.f("fk_duty_ledger_roster_id_roster"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_ledger")),
        sa.UniqueConstraint("officer_id", "month", name=op.f("uq_duty_ledger_officer_id")),
    )
    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=4), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column(
            "post",
            sa.Enum("car", "counter", "patrol", name="post", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"],
            ["kiosk.id"],
            name=op.f("fk_duty_shift_kiosk_id_kiosk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officer.id"],
            name=op.f("fk_duty_shift_officer_id_officer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["roster.id"],
            name=op.f("fk_duty_shift_roster_id_roster"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_duty_shift_unit_id_unit"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shift")),
        sa.UniqueConstraint("roster_id", "officer_id", "day", name=op.f("uq_duty_shift_roster_id")),
    )
    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_shift_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_shift_roster_id"), ["roster_id"], unique=False)
        batch_op.create_index("ix_duty_shift_time", ["starts_at", "ends_at"], unique=False)

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_app_user_officer_id"), ["officer_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_app_user_officer_id_officer"),
            "officer",
            ["officer_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brigade_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_kiosk_brigade_id_brigade"),
            "brigade",
            ["brigade_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rank", sa.String(length=30), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(sa.Column("brigade_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("kiosk_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("team", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("traffic", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("patrol", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("accident", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("licence", sa.String(length=4), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(batch_op.f("ix_officer_kiosk_id"), ["kiosk_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_officer_kiosk_id_kiosk"),
            "kiosk",
            ["kiosk_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_officer_brigade_id_brigade"),
            "brigade",
            ["brigade_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_officer_brigade_id_brigade"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_officer_kiosk_id_kiosk"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_officer_kiosk_id"))
        batch_op.drop_column("active")
        batch_op.drop_column("licence")
        batch_op.drop_column("accident")
        batch_op.drop_column("patrol")
        batch_op.drop_column("traffic")
        batch_op.drop_column("team")
        batch_op.drop_column("kiosk_id")
        batch_op.drop_column("brigade_id")
        batch_op.drop_column("rank")

    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_kiosk_brigade_id_brigade"), type_="foreignkey")
        batch_op.drop_column("brigade_id")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_app_user_officer_id_officer"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_app_user_officer_id"), type_="unique")
        batch_op.drop_column("officer_id")

    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_shift_time")
        batch_op.drop_index(batch_op.f("ix_duty_shift_roster_id"))
        batch_op.drop_index(batch_op.f("ix_duty_shift_officer_id"))

    op.drop_table("duty_shift")
    op.drop_table("duty_ledger")
    with op.batch_alter_table("duty_absence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_absence_officer_id"))

    op.drop_table("duty_absence")
    with op.batch_alter_table("cover_demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cover_demand_kiosk_id"))

    op.drop_table("cover_demand")
    op.drop_table("shift_change")
    op.drop_table("shift_pattern")
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_month"))

    op.drop_table("roster")
    op.drop_table("brigade")
