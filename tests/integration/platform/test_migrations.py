"""Migrations from empty on SQLite and PostgreSQL: up, down, up again, and the schema equals the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from omniretail.platform.db import sync_url
from omniretail.platform.migrate import downgrade, upgrade
from omniretail.schema import metadata
from tests.conftest import _create_pg_database, _drop_pg_database, require_postgres


def _check_round_trip(url: str) -> None:
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_from_empty_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrations_from_empty_postgresql():
    require_postgres()
    name = "omniretail_migration_check"
    url = _create_pg_database(name)
    try:
        _check_round_trip(url)
    finally:
        _drop_pg_database(name)
