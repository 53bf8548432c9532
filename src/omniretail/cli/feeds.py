"""``omniretail feed``: build a Google Merchant channel's feeds from the command line."""

from __future__ import annotations

import asyncio
import json

import click
from sqlalchemy import text

from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.errors import DomainError


@click.group()
def feed() -> None:
    """Google Merchant Center feeds (product and local inventory)."""


@feed.command("build")
@click.option("--channel", "channel_code", required=True, help="Channel code (a google_merchant channel)")
@click.option("--only", type=click.Choice(["products", "local_inventory"]), default=None,
              help="Build one feed only (default: both)")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON")
def build(channel_code: str, only: str | None, as_json: bool) -> None:
    """Build the feed files into var/feeds/<channel>/ and print a summary and the feed paths."""
    from omniretail.channels.feeds import service

    settings = get_settings()

    async def main() -> tuple[dict, dict[str, str]]:
        db = create_database(settings.database_url, pool_size=2)
        try:
            async with unit_of_work(db, readonly=True) as session:
                row = (await session.execute(text("SELECT id, settings FROM channel WHERE code = :c"),
                                             {"c": channel_code})).first()
                if row is None:
                    raise click.ClickException(f"unknown channel code {channel_code!r}")
                channel_settings = json.loads(row.settings) if isinstance(row.settings, str) else row.settings
                report = await service.build_channel_feeds(
                    session, row.id, var_dir=settings.var_dir, feeds=(only,) if only else service.FEEDS)
                paths = service.feed_paths(code=channel_code, channel_id=row.id, settings=channel_settings,
                                           secret_key=settings.resolved_secret_key())
                return report, paths
        finally:
            await db.dispose()

    try:
        report, paths = asyncio.run(main())
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for name, stats in report["feeds"].items():
        click.echo(f"{name:16} {stats['items']} items written, {stats['left_out']} left out (errors), "
                   f"{stats['warnings']} warnings, {stats['seconds']} s  -> {', '.join(stats['files'])}")
    for issue in report["issues"][:20]:
        click.echo(f"  {issue['severity']:7} {issue['id']} {issue['attribute']}: {issue['message']}", err=True)
    if report["issues_total"] > 20:
        click.echo(f"  … {report['issues_total'] - 20} more in report.json", err=True)
    directory = service.channel_dir(settings.var_dir, code=channel_code, channel_id=report["channel_id"])
    click.echo(f"files in {directory}; served at (prefix with your public base URL):")
    for path in paths.values():
        click.echo(f"  {path}")
