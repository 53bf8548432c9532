"""``omniretail stock`` against a real SQLite file."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from omniretail.cli.main import cli
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.migrate import upgrade
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, create_variants


async def _seed(url: str) -> None:
    db = create_database(url)
    async with unit_of_work(db) as session:
        await create_location(session, code="CLI-STORE")
        await create_variants(session, "CLI-1", "CLI-2")
    await db.dispose()


async def _invariants(url: str) -> None:
    db = create_database(url)
    async with unit_of_work(db, readonly=True) as session:
        await assert_invariants(session)
    await db.dispose()


def test_stock_receive_adjust_count_levels(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", url)
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        upgrade(url)
        asyncio.run(_seed(url))
        runner = CliRunner()
        received = runner.invoke(cli, ["stock", "receive", "--location", "CLI-STORE", "--reference-type",
                                       "purchase_order", "--reference-id", "PO-1", "CLI-1=10", "CLI-2=3"])
        assert received.exit_code == 0, received.output
        assert "on hand 10" in received.output
        no_reason = runner.invoke(cli, ["stock", "adjust", "--location", "CLI-STORE", "CLI-1=-2"])
        assert no_reason.exit_code != 0
        adjusted = runner.invoke(cli, ["stock", "adjust", "--location", "CLI-STORE", "--reason", "broken",
                                       "--kind", "damage", "CLI-1=-2"])
        assert adjusted.exit_code == 0, adjusted.output
        counted = runner.invoke(cli, ["stock", "count", "--location", "CLI-STORE", "CLI-2=5"])
        assert counted.exit_code == 0 and "+2" in counted.output
        too_much = runner.invoke(cli, ["stock", "adjust", "--location", "CLI-STORE", "--reason", "x", "CLI-1=-99"])
        assert too_much.exit_code != 0 and "cannot remove 99" in too_much.output
        bad_line = runner.invoke(cli, ["stock", "receive", "--location", "CLI-STORE", "CLI-1"])
        assert bad_line.exit_code != 0 and "SKU=QUANTITY" in bad_line.output
        levels = runner.invoke(cli, ["stock", "levels", "--location", "CLI-STORE", "--json"])
        assert [(x["sku"], x["on_hand"]) for x in json.loads(levels.output)] == [("CLI-1", 8), ("CLI-2", 5)]
        table = runner.invoke(cli, ["stock", "levels"])
        assert "CLI-1" in table.output and "AVAILABLE" in table.output
        expired = runner.invoke(cli, ["stock", "expire-holds"])
        assert expired.exit_code == 0 and "expired 0" in expired.output
        asyncio.run(_invariants(url))
    finally:
        get_settings.cache_clear()
