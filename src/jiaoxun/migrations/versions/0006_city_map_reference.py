"""the city's map by a reference that survives moving the checkout

An extract inside the package was stored by its absolute path; it becomes
``package:<path inside jiaoxun/data>``. Other absolute paths stay: they still resolve while the
file is there (see `jiaoxun.city.maps`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = "/jiaoxun/data/"


def upgrade() -> None:
    connection = op.get_bind()
    cities = connection.execute(sa.text("SELECT id, source_pbf FROM city")).all()
    for city_id, source in cities:
        if _MARK in source.replace("\\", "/"):
            reference = "package:" + source.replace("\\", "/").rsplit(_MARK, 1)[1]
            connection.execute(
                sa.text("UPDATE city SET source_pbf = :reference WHERE id = :id"),
                {"reference": reference, "id": city_id},
            )


def downgrade() -> None:
    pass  # a reference is what every version from this one reads
