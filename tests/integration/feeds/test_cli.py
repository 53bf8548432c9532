"""``omniretail feed build`` against a real SQLite file."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from omniretail.cli.main import cli
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.migrate import upgrade

from .helpers import rss_items, seed_google_channel


async def _seed(url: str):
    db = create_database(url)
    async with unit_of_work(db) as session:
        seeded = await seed_google_channel(session)
    await db.dispose()
    return seeded


def test_feed_build_writes_the_files_and_prints_their_paths(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", url)
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OMNIRETAIL_SECRET_KEY", "cli-test-secret")
    get_settings.cache_clear()
    try:
        upgrade(url)
        seeded = asyncio.run(_seed(url))
        runner = CliRunner()
        result = runner.invoke(cli, ["feed", "build", "--channel", seeded.code])
        assert result.exit_code == 0, result.output
        assert "products         4 items written, 2 left out" in result.output
        assert f"/feeds/{seeded.code}/products.xml?token=" in result.output
        assert seeded.skus["long_sku"] in result.output  # the error list names the bad item
        items = rss_items(tmp_path / "var" / "feeds" / seeded.code / "products.xml")
        assert seeded.skus["in_stock"] in items and seeded.skus["long_sku"] not in items
        only = runner.invoke(cli, ["feed", "build", "--channel", seeded.code, "--only", "local_inventory"])
        assert only.exit_code == 0 and "local_inventory" in only.output and "products " not in only.output
        unknown = runner.invoke(cli, ["feed", "build", "--channel", "nope"])
        assert unknown.exit_code != 0 and "unknown channel" in unknown.output
    finally:
        get_settings.cache_clear()


def test_the_rebuild_job_builds_every_active_google_channel(tmp_path):
    from omniretail.channels.feeds import service, tasks
    from omniretail.platform.config import Settings
    from omniretail.platform.jobs import WorkerContext

    url = f"sqlite+aiosqlite:///{tmp_path / 'job.db'}"
    upgrade(url)
    seeded = asyncio.run(_seed(url))
    settings = Settings(database_url=url, var_dir=tmp_path / "var", secret_key="job-secret")

    async def run_job():
        db = create_database(url)
        try:
            await tasks.rebuild_feeds(WorkerContext(db=db, settings=settings))
        finally:
            await db.dispose()

    asyncio.run(run_job())
    report = service.read_report(settings.var_dir, code=seeded.code, channel_id=seeded.channel_id)
    assert report["status"] == "ok" and report["feeds"]["products"]["items"] == 4
