"""``omniretail stock``: receive, adjust, count, import and look at stock from the command line.

Lines are written ``SKU=QUANTITY`` (``TSHIRT-RED-M=12``; adjustments may be negative: ``TSHIRT-RED-M=-2``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from sqlalchemy import text

from omniretail.auth.schemas import Principal
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.errors import DomainError

ACTOR = Principal.system("cli").label


def _lines(pairs: tuple[str, ...]) -> list[tuple[str, int]]:
    lines = []
    for pair in pairs:
        sku, _sep, quantity = pair.rpartition("=")
        try:
            lines.append((sku, int(quantity)))
        except ValueError:
            sku = ""
        if not sku:
            raise click.BadParameter(f"{pair!r}: write SKU=QUANTITY", param_hint="LINES")
    return lines


async def _location_id(session, code: str) -> int:
    found = (await session.execute(text("SELECT id FROM location WHERE code = :c"), {"c": code})).scalar()
    if found is None:
        raise click.ClickException(f"unknown location code {code!r}")
    return found


def _run(work, *, readonly: bool = False):
    """Run ``work(session)`` in one unit of work against the configured database."""
    async def main():
        db = create_database(get_settings().database_url)
        try:
            async with unit_of_work(db, readonly=readonly) as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        raise click.ClickException(f"{exc.detail} {json.dumps(exc.extensions) if exc.extensions else ''}") from exc


def _print_movements(movements) -> None:
    for m in movements:
        click.echo(f"{m.sku:30} {m.kind:14} {m.quantity:+6d}  on hand {m.on_hand_after}")


@click.group()
def stock() -> None:
    """Receive, adjust and count stock; list levels."""


@stock.command("receive")
@click.option("--location", "location_code", required=True, help="Location code")
@click.option("--reason", default="")
@click.option("--reference-type", default=None, help="e.g. purchase_order")
@click.option("--reference-id", default=None)
@click.argument("lines", nargs=-1, required=True)
def receive(location_code, reason, reference_type, reference_id, lines) -> None:
    """Record goods received: SKU=QUANTITY ..."""
    from omniretail.inventory import service

    async def work(session):
        return await service.receive_stock(
            session, location_id=await _location_id(session, location_code), lines=_lines(lines), actor=ACTOR,
            reason=reason, reference=service.MovementReference(reference_type, reference_id))

    _print_movements(_run(work))


@stock.command("adjust")
@click.option("--location", "location_code", required=True, help="Location code")
@click.option("--reason", required=True, help="Why the stock changed")
@click.option("--kind", type=click.Choice(["adjustment", "damage", "return_restock"]), default="adjustment",
              show_default=True)
@click.argument("lines", nargs=-1, required=True)
def adjust(location_code, reason, kind, lines) -> None:
    """Correct stock by signed quantities: SKU=-2 SKU2=+5 ..."""
    from omniretail.inventory import service

    async def work(session):
        return await service.adjust_stock(
            session, location_id=await _location_id(session, location_code), lines=_lines(lines), reason=reason,
            kind=kind, actor=ACTOR)

    _print_movements(_run(work))


@stock.command("count")
@click.option("--location", "location_code", required=True, help="Location code")
@click.option("--reason", default="cycle count", show_default=True)
@click.argument("lines", nargs=-1, required=True)
def count(location_code, reason, lines) -> None:
    """Record counted figures: SKU=COUNTED ... (on hand becomes the count)."""
    from omniretail.inventory import service

    async def work(session):
        return await service.count_stock(
            session, location_id=await _location_id(session, location_code), lines=_lines(lines), actor=ACTOR,
            reason=reason)

    _print_movements(_run(work))


@stock.command("levels")
@click.option("--sku", default=None)
@click.option("--location", "location_code", default=None, help="Location code")
@click.option("--low", "low_only", is_flag=True, help="Only levels below their low-stock threshold")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def levels(sku, location_code, low_only, limit, as_json) -> None:
    """List stock levels."""
    from omniretail.inventory import service

    async def work(session):
        location_id = await _location_id(session, location_code) if location_code else None
        items, _ = await service.list_levels(session, sku=sku, location_id=location_id, low_only=low_only,
                                             limit=min(limit, 500))
        return items

    items = _run(work, readonly=True)
    if as_json:
        click.echo(json.dumps([i.model_dump(mode="json") for i in items]))
        return
    click.echo(f"{'SKU':30} {'LOCATION':12} {'ON HAND':>8} {'RESERVED':>9} {'SAFETY':>7} {'AVAILABLE':>10}")
    for i in items:
        flag = "  LOW" if i.low_stock else ""
        click.echo(f"{i.sku:30} {i.location_code:12} {i.on_hand:8d} {i.reserved:9d} {i.safety_stock:7d} "
                   f"{i.available:10d}{flag}")


@stock.command("expire-holds")
def expire_holds() -> None:
    """Release every reservation whose hold has expired (the scheduled job, run by hand)."""
    from omniretail.inventory.tasks import expire_holds_job

    async def main():
        db = create_database(get_settings().database_url)
        try:
            return await expire_holds_job(db)
        finally:
            await db.dispose()

    click.echo(f"expired {asyncio.run(main())} reservation(s)")


class _RollBack(Exception):
    def __init__(self, report) -> None:
        super().__init__("stock import rolled back")
        self.report = report


@stock.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some are bad")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every error (row, column, message) to this CSV file")
def import_stock(path: Path, skip_bad_rows: bool, errors_path: Path | None) -> None:
    """Import stock from a CSV file: location_code, sku, on_hand | delta, reason, safety_stock,
    low_stock_threshold. Any error changes nothing unless --skip-bad-rows."""
    from omniretail.inventory import csv_import

    async def work(session):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            report = await csv_import.import_stock_csv(session, fh, actor=ACTOR, skip_bad_rows=skip_bad_rows,
                                                       reference=path.name)
        if report.aborted:
            raise _RollBack(report)  # the unit of work rolls back
        return report

    try:
        report = _run(work)
    except _RollBack as rolled_back:
        report = rolled_back.report
    for error in report.errors[:50]:
        click.echo(f"row {error.row}, {error.column or '-'}: {error.message}", err=True)
    if len(report.errors) > 50:
        click.echo(f"… and {len(report.errors) - 50} more", err=True)
    if errors_path is not None and report.errors:
        report.write_errors_csv(errors_path)
    click.echo(json.dumps(report.summary()))
    if report.aborted:
        click.echo("nothing was imported; fix the rows above or use --skip-bad-rows", err=True)
        sys.exit(1)
