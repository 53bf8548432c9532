"""The ``omniretail`` command."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from omniretail.platform.config import get_settings


def _run(coro):
    return asyncio.run(coro)


@click.group()
@click.version_option(package_name="omniretail")
def cli() -> None:
    """omniretail: one source of truth for catalog, stock, prices and orders across every channel."""


@cli.command()
@click.option("--host", default=None, help="Bind address (default from OMNIRETAIL_HOST, 127.0.0.1)")
@click.option("--port", type=int, default=None, help="Port (default from OMNIRETAIL_PORT, 8000)")
@click.option("--workers", type=int, default=None, help="Server processes (PostgreSQL only; SQLite runs one)")
@click.option("--server", type=click.Choice(["uvicorn", "granian"]), default="uvicorn", show_default=True)
@click.option("--reload", is_flag=True, help="Reload on code changes (development)")
def serve(host: str | None, port: int | None, workers: int | None, server: str, reload: bool) -> None:
    """Run the HTTP server (API, docs and web pages)."""
    from omniretail.platform.db import is_sqlite_url

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    if is_sqlite_url(settings.database_url) and workers > 1:
        click.echo("SQLite is the embedded single-process mode: running 1 worker.", err=True)
        workers = 1
    click.echo(f"omniretail on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        # a worker takes no more requests at once than it has database connections: the rest wait in the
        # accept queue, not in Python for a pooled connection (bench orders: half the latency, fewer
        # PostgreSQL backends busy at once, ≈ 5 % more orders/s)
        Granian("omniretail.api.asgi:app", address=host, port=port, workers=workers,
                interface=Interfaces.ASGI, backpressure=settings.db_pool_size).serve()
        return
    import uvicorn

    uvicorn.run("omniretail.api.asgi:app", host=host, port=port, workers=workers, reload=reload,
                log_level="info", proxy_headers=True)


@cli.command()
@click.option("--revision", default="heads", show_default=True)
def migrate(revision: str) -> None:
    """Bring the database schema up to date."""
    from omniretail.platform.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    click.echo(f"database schema at {revision}")


@cli.command()
@click.option("--products", type=int, default=500, show_default=True, help="How many products to create")
def demo(products: int) -> None:
    """Load the demo retailer into the database (idempotent: a second run changes nothing)."""
    from omniretail.demo.loader import load_demo

    summary = _run(load_demo(get_settings().database_url, products=products))
    click.echo(json.dumps(summary, indent=2))


# --- users and tokens ------------------------------------------------------------------------------

@cli.group()
def user() -> None:
    """Manage user accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True,
              type=click.Choice(["owner", "admin", "manager", "associate", "integration", "analyst"]))
@click.option("--name", "full_name", default="")
@click.option("--password", default=None, help="Prompted for when omitted (integration accounts need none)")
@click.option("--location", "locations", multiple=True, help="Location code (associates; repeatable)")
@click.option("--channel", "channels", multiple=True, help="Channel code (integrations; repeatable)")
@click.option("--locale", default="en", type=click.Choice(["en", "pl", "tr", "sq"]))
def user_create(email, role, full_name, password, locations, channels, locale) -> None:
    """Create a user account."""
    from omniretail.cli import admin_ops

    if password is None and role != "integration":
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        created = _run(admin_ops.create_user(
            email=email, role=role, full_name=full_name, password=password, location_codes=list(locations),
            channel_codes=list(channels), locale=locale,
        ))
    except admin_ops.CliError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created user {created['id']} {created['email']} ({created['role']})")


@cli.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user the token acts as")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=int, default=None)
def token_create(email: str, name: str, expires_days: int | None) -> None:
    """Create an API token and print it (shown once)."""
    from omniretail.cli import admin_ops

    try:
        plain = _run(admin_ops.create_token(email=email, name=name, expires_days=expires_days))
    except admin_ops.CliError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(plain)


# --- catalog ---------------------------------------------------------------------------------------

@cli.group()
def catalog() -> None:
    """Import and export the catalog."""


@catalog.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some rows have errors")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the per-row error report to this CSV file")
def catalog_import(path: Path, skip_bad_rows: bool, errors_path: Path | None) -> None:
    """Import products and variants from a CSV file (one row per variant)."""
    from omniretail.cli import admin_ops

    report = _run(admin_ops.import_catalog(path, skip_bad_rows=skip_bad_rows))
    for err in report.errors[:50]:
        click.echo(f"row {err.row}, column {err.column}: {err.message}", err=True)
    if len(report.errors) > 50:
        click.echo(f"... and {len(report.errors) - 50} more errors", err=True)
    if errors_path:
        report.write_errors_csv(errors_path)
    click.echo(json.dumps(report.summary()))
    if report.errors and not skip_bad_rows:
        click.echo("nothing was imported; fix the rows above or use --skip-bad-rows", err=True)
        sys.exit(1)


@catalog.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def catalog_export(path: Path) -> None:
    """Export the catalog to a CSV file in the import format."""
    from omniretail.cli import admin_ops

    rows = _run(admin_ops.export_catalog(path))
    click.echo(f"wrote {rows} rows to {path}")


# --- benchmarks ------------------------------------------------------------------------------------

@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.option("--scale", type=int, default=None, help="Size of the scenario (rows, variants …)")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
@click.option("--database-url", default=None, help="Database to run against (default: a scratch one)")
def bench(name: str, scale: int | None, as_json: bool, database_url: str | None) -> None:
    """Run a benchmark: `omniretail bench list` shows them."""
    from omniretail.bench import registry

    if name in ("list", "LIST"):
        for bench_name, scenario in sorted(registry.SCENARIOS.items()):
            click.echo(f"{bench_name:20} {scenario.description}")
        return
    scenario = registry.SCENARIOS.get(name)
    if scenario is None:
        raise click.ClickException(f"unknown benchmark {name!r}; try `omniretail bench list`")
    result = scenario.run(scale=scale, database_url=database_url)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:24} {value}")


from omniretail.cli.stock import stock as _stock  # noqa: E402 (they import cli)

cli.add_command(_stock)

from omniretail.cli.worker import worker as _worker  # noqa: E402 (they import cli)

cli.add_command(_worker)

from omniretail.cli.feeds import feed as _feed  # noqa: E402 (they import cli)

cli.add_command(_feed)


def main() -> None:  # pragma: no cover
    cli()
