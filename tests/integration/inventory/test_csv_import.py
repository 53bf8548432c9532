"""Stock CSV import (SQLite and PostgreSQL): the happy path, each kind of error, all-or-nothing, skip_bad_rows,
and the same file through the API and the CLI."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from omniretail.cli.main import cli
from omniretail.inventory import csv_import, service
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.migrate import upgrade
from tests.factories import bearer, create_location, create_user_with_token, problem
from tests.integration.inventory.helpers import assert_invariants, create_variants

HEADER = "location_code,sku,on_hand,delta,reason,safety_stock,low_stock_threshold\n"


def _csv(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO(header + "".join(row + "\n" for row in rows))


async def _levels(session, location_id: int) -> dict[str, tuple[int, int, int | None]]:
    items, _ = await service.list_levels(session, location_id=location_id)
    return {x.sku: (x.on_hand, x.safety_stock, x.low_stock_threshold) for x in items}


async def _ledger_size(session) -> int:
    return (await session.execute(text("SELECT COUNT(*) FROM stock_movement"))).scalar_one()


@pytest.fixture
async def shop(session):
    loc = await create_location(session, code="IMP-1")
    await create_variants(session, "IMP-A", "IMP-B", "IMP-C")
    await service.receive_stock(session, location_id=loc, lines=[("IMP-A", 10), ("IMP-B", 2)], actor="t")
    return loc


async def test_happy_path_counts_deltas_and_settings(session, shop):
    report = await csv_import.import_stock_csv(session, _csv(
        "IMP-1,IMP-A,7,,recount,,",
        "IMP-1,IMP-B,,5,,1,3",
        "IMP-1,IMP-C,,,,2,default",
        "",
        "imp-1,IMP-A,,1,,,",  # a different (unknown) location code: codes are exact
    ), actor="import", skip_bad_rows=True)
    assert [(e.row, e.column) for e in report.errors] == [(6, "location_code")]
    assert report.summary()["applied"] == 3 and report.movements == 2 and report.settings == 2
    assert await _levels(session, shop) == {"IMP-A": (7, 0, None), "IMP-B": (7, 1, 3), "IMP-C": (0, 2, None)}
    moves, _ = await service.list_movements(session, location_id=shop, reference_type="stock_import")
    assert sorted((m.sku, m.kind, m.quantity) for m in moves) == [("IMP-A", "count", -3), ("IMP-B", "receipt", 5)]
    await assert_invariants(session)


async def test_a_semicolon_file_as_polish_excel_saves_it_imports_and_a_stray_cell_is_an_error(session, shop):
    report = await csv_import.import_stock_csv(session, _csv(
        "IMP-1;IMP-A;7;;recount;;",
        "IMP-1;IMP-B;;5;;1;3",
        header=HEADER.replace(",", ";")), actor="import")
    assert report.errors == [] and report.movements == 2
    assert (await _levels(session, shop))["IMP-A"] == (7, 0, None)
    shifted = await csv_import.import_stock_csv(session, _csv("IMP-1,IMP-A,,2,,,,found"), actor="import")
    assert shifted.aborted and [(e.row, e.column) for e in shifted.errors] == [(2, "")]
    assert "'found' has no column" in shifted.errors[0].message


@pytest.mark.parametrize(("row", "column", "fragment"), [
    ("NOWHERE,IMP-A,1,,,,", "location_code", "unknown location"),
    ("IMP-1,NO-SUCH,1,,,,", "sku", "unknown SKU"),
    ("IMP-1,IMP-A,ten,,,,", "on_hand", "not a whole number"),
    ("IMP-1,IMP-A,-1,,,,", "on_hand", "0 or more"),
    ("IMP-1,IMP-A,9223372036854775807,,,,", "on_hand", "at most 1,000,000,000"),
    ("IMP-1,IMP-A,,99999999999999999999999,x,,", "delta", "at most 1,000,000,000"),
    ("IMP-1,IMP-A,1,2,,,", "delta", "not both"),
    ("IMP-1,IMP-A,,0,,,", "delta", "changes nothing"),
    ("IMP-1,IMP-A,,-2,,,", "reason", "needs a reason"),
    ("IMP-1,IMP-A,,,,-1,", "safety_stock", "0 or more"),
    ("IMP-1,IMP-A,,,,,x", "low_stock_threshold", "not a whole number"),
    ("IMP-1,IMP-A,,,,,", "on_hand", "nothing to change"),
    (",IMP-A,1,,,,", "location_code", "required"),
    ("IMP-1,IMP-B,,-5,lost,,", "delta", "cannot remove 5"),  # refused when applied: 2 on hand, both reserved
])
async def test_each_error_is_reported_and_nothing_changes(session, shop, row, column, fragment):
    await service.reserve_stock(session, sku="IMP-B", location_id=shop, quantity=2)  # IMP-B: nothing free
    before, ledger = await _levels(session, shop), await _ledger_size(session)
    report = await csv_import.import_stock_csv(session, _csv("IMP-1,IMP-C,,4,,,", row), actor="t")
    assert report.aborted
    assert [(e.row, e.column) for e in report.errors] == [(3, column)], report.errors
    assert fragment in report.errors[0].message
    if not report.movements:  # checked before anything was written
        assert await _levels(session, shop) == before and await _ledger_size(session) == ledger


async def test_header_errors_and_duplicates(session, shop):
    unknown = await csv_import.import_stock_csv(session, _csv("IMP-1,IMP-A,1", header="location_code,sku,onhand\n"),
                                                actor="t", skip_bad_rows=True)
    assert unknown.aborted and unknown.unreadable
    assert {(e.row, e.column) for e in unknown.errors} == {(1, "onhand"), (1, "on_hand")}
    missing = await csv_import.import_stock_csv(session, _csv("1", header="on_hand\n"), actor="t")
    assert {e.column for e in missing.errors} == {"location_code", "sku"}
    empty = await csv_import.import_stock_csv(session, io.StringIO(""), actor="t")
    assert empty.aborted and empty.errors[0].row == 1
    twice = await csv_import.import_stock_csv(session, _csv("IMP-1,IMP-A,1,,,,", "IMP-1,IMP-A,2,,,,"), actor="t")
    assert [(e.row, e.column) for e in twice.errors] == [(3, "sku")] and "row 2" in twice.errors[0].message


async def test_skip_bad_rows_applies_the_good_ones_including_after_a_refusal(session, shop):
    await service.reserve_stock(session, sku="IMP-B", location_id=shop, quantity=2)
    report = await csv_import.import_stock_csv(session, _csv(
        "IMP-1,IMP-A,,3,,,", "IMP-1,IMP-B,0,,,4,", "IMP-1,NOPE,1,,,,", "IMP-1,IMP-C,,6,,,"),
        actor="t", skip_bad_rows=True)
    assert not report.aborted
    assert [(e.row, e.column) for e in report.errors] == [(3, "on_hand"), (4, "sku")]
    assert report.summary()["applied"] == 2
    levels = await _levels(session, shop)
    assert levels["IMP-A"][0] == 13 and levels["IMP-C"][0] == 6
    assert levels["IMP-B"] == (2, 0, None)  # the refused row's settings were not applied either
    await assert_invariants(session)


async def test_upload_through_the_api_and_associate_scope(client, session, shop):
    other = await create_location(session, code="IMP-2")
    _uid, token = await create_user_with_token(session, role="associate", location_ids=[shop])
    auth = bearer(token)
    body = HEADER + "IMP-1,IMP-A,,2,,,\nIMP-2,IMP-A,,2,,,\n"
    refused = await client.post("/api/v1/inventory/import", headers=auth,
                                files={"file": ("stock.csv", body, "text/csv")})
    assert refused.status_code == 422
    assert problem(refused)["errors"] == [{"row": 3, "column": "location_code",
                                           "message": "unknown location 'IMP-2'"}]
    assert (await _levels(session, shop))["IMP-A"][0] == 10
    ok = await client.post("/api/v1/inventory/import", headers=auth, params={"skip_bad_rows": "true"},
                           files={"file": ("stock.csv", body, "text/csv")})
    assert ok.status_code == 200, ok.text
    assert ok.json()["summary"]["applied"] == 1 and len(ok.json()["errors"]) == 1
    assert (await _levels(session, shop))["IMP-A"][0] == 12 and await _levels(session, other) == {}


async def _seed(url: str) -> None:
    db = create_database(url)
    async with unit_of_work(db) as session:
        await create_location(session, code="CLI-IMP")
        await create_variants(session, "CLI-IMP-1")
    await db.dispose()


async def _on_hand(url: str) -> dict[str, int]:
    db = create_database(url)
    async with unit_of_work(db, readonly=True) as session:
        items, _ = await service.list_levels(session, sku="CLI-IMP-1")
        await assert_invariants(session)
    await db.dispose()
    return {x.location_code: x.on_hand for x in items}


def test_cli_import_all_or_nothing_and_errors_file(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", url)
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        upgrade(url)
        asyncio.run(_seed(url))
        bad = tmp_path / "bad.csv"
        bad.write_text(HEADER + "CLI-IMP,CLI-IMP-1,8,,,,\nCLI-IMP,GHOST,1,,,,\n")
        runner = CliRunner()
        refused = runner.invoke(cli, ["stock", "import", str(bad), "--errors", str(tmp_path / "errors.csv")])
        assert refused.exit_code == 1 and "unknown SKU 'GHOST'" in refused.output
        assert (tmp_path / "errors.csv").read_text().splitlines()[1].startswith("3,sku,")
        assert asyncio.run(_on_hand(url)) == {}
        skipped = runner.invoke(cli, ["stock", "import", str(bad), "--skip-bad-rows"])
        assert skipped.exit_code == 0, skipped.output
        assert json.loads(skipped.output.strip().splitlines()[-1])["applied"] == 1
        assert asyncio.run(_on_hand(url)) == {"CLI-IMP": 8}
    finally:
        get_settings.cache_clear()
