"""Alembic environment: runs migrations with the blocking driver twin of the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from omniretail.platform.config import get_settings
from omniretail.platform.db import sync_url
from omniretail.schema import metadata

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or sync_url(get_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
