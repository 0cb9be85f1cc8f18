"""Alembic environment: migrates the connection handed over in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from mltrail.store.sql.schema import metadata

config = context.config


def run_offline() -> None:
    """Emit SQL for the URL in the config without connecting (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("mltrail migrations run through mltrail.store.factory.upgrade(url)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
