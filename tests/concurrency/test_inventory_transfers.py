"""Transfers and count sheets under concurrent writers on real PostgreSQL: a transfer ships once, is never
received beyond what was shipped, and a count is applied once, however many clerks press the button."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omniretail.auth.schemas import Principal
from omniretail.inventory import counts, service, transfers
from omniretail.inventory.errors import WrongState
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.errors import InvalidInput
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, create_variants

pytestmark = pytest.mark.postgres
CLERKS = 12


async def _race(db, work, n: int) -> tuple[int, list[BaseException]]:
    """Run ``work(session)`` in ``n`` concurrent units of work; (successes, refusals)."""
    start = asyncio.Event()

    async def one():
        await start.wait()
        async with unit_of_work(db) as session:
            await work(session)

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    return n - len(errors), errors


def test_concurrent_ship_receive_and_approve(pg_url):
    async def scenario():
        db = create_database(pg_url, pool_size=CLERKS)
        try:
            async with unit_of_work(db) as session:
                wh, store = await create_location(session), await create_location(session)
                await create_variants(session, "RACE-1")
                await service.receive_stock(session, location_id=wh, lines=[("RACE-1", 20)], actor="t")
                transfer = await transfers.create_transfer(session, source_location_id=wh,
                                                           destination_location_id=store,
                                                           lines=[("RACE-1", 5)], actor="t")
                sheet = await counts.create_count_sheet(session, location_id=wh, actor="t", variance_threshold=0)

            shipped, refused = await _race(db, lambda s: transfers.ship_transfer(s, transfer.id, actor="clerk"),
                                           CLERKS)
            assert shipped == 1 and all(isinstance(e, WrongState) for e in refused), refused

            received, refused = await _race(db, lambda s: transfers.receive_transfer(
                s, transfer.id, actor="clerk", lines=[("RACE-1", 1)]), CLERKS)
            assert received == 5, refused
            assert all(isinstance(e, (WrongState, InvalidInput)) for e in refused), refused

            async with unit_of_work(db) as session:
                await counts.record_counts(session, sheet.id, lines=[("RACE-1", 12)], actor="t")
                await counts.submit_count_sheet(session, sheet.id, actor="t")
            manager = Principal.build(user_id=1, email="m@example.com", role="manager")
            approved, refused = await _race(db, lambda s: counts.approve_count_sheet(s, sheet.id, approver=manager),
                                            CLERKS)
            assert approved == 1 and all(isinstance(e, WrongState) for e in refused), refused

            async with unit_of_work(db, readonly=True) as session:
                await assert_invariants(session)
                levels = dict((await session.execute(text(
                    "SELECT location_id, on_hand FROM stock_level"))).all())
                assert levels == {wh: 12, store: 5}
                final = await transfers.get_transfer(session, transfer.id)
                assert final.state == "received" and final.lines[0].quantity_received == 5
        finally:
            await db.dispose()

    asyncio.run(scenario())
