"""The demo retailer and the CLI, against real database files (not the rolled-back test transaction)."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from stdnum import ean

from omniretail.catalog.models import Product, Variant
from omniretail.channels.models import Channel
from omniretail.channels.settings import ChannelSettings
from omniretail.cli.main import cli
from omniretail.demo.loader import load_demo
from omniretail.locations.models import Location
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.migrate import upgrade
from tests.conftest import _create_pg_database, _drop_pg_database, require_postgres


async def _demo_checks(url: str) -> None:
    first = await load_demo(url, products=60)
    assert first["status"] == "loaded" and first["products"] == 60
    second = await load_demo(url, products=60)
    assert second["status"] == "already loaded"
    db = create_database(url)
    async with unit_of_work(db, readonly=True) as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 60
        gtins = (await session.scalars(select(Variant.gtin))).all()
        assert gtins and all(ean.is_valid(g) for g in gtins)
        stores = (await session.scalars(select(Location.code).where(Location.kind == "store"))).all()
        assert len(stores) >= 3
        # what the loader stores is what an operator could have entered: the channel settings' own check
        settings = dict((await session.execute(select(Channel.code, Channel.settings))).all())
        for code, value in settings.items():
            ChannelSettings.model_validate(value or {})
        assert settings["amazon-de"]["shipping_cost_model"]["zone_costs"]["DE"] == 7.9
    await db.dispose()


def test_demo_is_loaded_once_on_sqlite(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    asyncio.run(_demo_checks(url))


@pytest.mark.postgres
def test_demo_is_loaded_once_on_postgresql():
    require_postgres()
    url = _create_pg_database("omniretail_demo_check")
    try:
        upgrade(url)
        asyncio.run(_demo_checks(url))
    finally:
        _drop_pg_database("omniretail_demo_check")


def test_cli_migrate_user_token(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        created = runner.invoke(cli, ["user", "create", "--email", "Ops@Example.com", "--role", "manager",
                                      "--password", "long-enough-pass"])
        assert created.exit_code == 0, created.output
        assert "ops@example.com" in created.output
        dup = runner.invoke(cli, ["user", "create", "--email", "ops@example.com", "--role", "manager",
                                  "--password", "long-enough-pass"])
        assert dup.exit_code != 0 and "exists" in dup.output
        no_store = runner.invoke(cli, ["user", "create", "--email", "a@example.com", "--role", "associate",
                                       "--password", "long-enough-pass", "--location", "NOPE"])
        assert no_store.exit_code != 0 and "unknown location code 'NOPE'" in no_store.output
        token = runner.invoke(cli, ["token", "create", "--email", "ops@example.com"])
        assert token.exit_code == 0 and token.output.strip().startswith("omr_")
        listed = runner.invoke(cli, ["bench", "list"])
        assert listed.exit_code == 0
    finally:
        get_settings.cache_clear()


def test_serve_under_granian_takes_no_more_requests_at_once_than_the_pool_has_connections(monkeypatch, tmp_path):
    import sys
    import types

    started = {}

    class Recorder:  # stands in for granian.Granian (an optional extra): what serve hands the server
        def __init__(self, target, **options):
            started.update(options, target=target)

        def serve(self):
            started["served"] = True

    constants = types.SimpleNamespace(Interfaces=types.SimpleNamespace(ASGI="asgi"))
    monkeypatch.setitem(sys.modules, "granian", types.SimpleNamespace(Granian=Recorder, constants=constants))
    monkeypatch.setitem(sys.modules, "granian.constants", constants)
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/none")
    monkeypatch.setenv("OMNIRETAIL_DB_POOL_SIZE", "6")
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--server", "granian", "--workers", "2", "--port", "8123"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert started["served"] and started["target"] == "omniretail.api.asgi:app"
    assert started["workers"] == 2 and started["backpressure"] == 6

