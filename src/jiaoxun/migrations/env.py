"""Alembic environment: runs the migrations on the engine jiaoxun hands over."""

from alembic import context

from jiaoxun.models import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
