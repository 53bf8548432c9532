"""Never oversold, against real PostgreSQL with many concurrent writers (not the rolled-back test transaction).

Each test gets a fresh migrated database. Buyers run on their own connections: asyncio tasks in this process
(through the HTTP API) and separate processes (through the service layer).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time

import httpx
import pytest
from sqlalchemy import text

from omniretail.api.app import create_app
from omniretail.inventory import service
from omniretail.platform.config import Settings
from omniretail.platform.db import create_database, unit_of_work
from tests.concurrency import inventory_workers
from tests.factories import bearer, create_location, create_user_with_token
from tests.integration.inventory.helpers import assert_invariants, create_variants

pytestmark = pytest.mark.postgres


async def _stock(url: str, skus: list[str], units: int, locations: int = 1) -> list[int]:
    db = create_database(url, pool_size=2)
    try:
        async with unit_of_work(db) as session:
            location_ids = [await create_location(session) for _ in range(locations)]
            await create_variants(session, *skus)
            for loc in location_ids:
                await service.receive_stock(session, location_id=loc, lines=[(s, units) for s in skus], actor="t")
        return location_ids
    finally:
        await db.dispose()


async def _check(url: str) -> tuple[int, int, int]:
    """Invariants hold; returns (on_hand, reserved, open reservations) summed over everything."""
    db = create_database(url, pool_size=1)
    try:
        async with unit_of_work(db, readonly=True) as session:
            await assert_invariants(session)
            row = (await session.execute(text(
                "SELECT (SELECT COALESCE(SUM(on_hand), 0) FROM stock_level), "
                "(SELECT COALESCE(SUM(reserved), 0) FROM stock_level), "
                "(SELECT COUNT(*) FROM reservation WHERE state = 'open')"))).one()
            negative = (await session.execute(text(
                "SELECT COUNT(*) FROM stock_level WHERE on_hand - reserved - safety_stock < 0"))).scalar()
            assert negative == 0, "a level shows negative available"
            return int(row[0]), int(row[1]), int(row[2])
    finally:
        await db.dispose()


def test_flash_sale_over_http_64_buyers_for_10_units(pg_url, tmp_path):
    async def scenario():
        [loc] = await _stock(pg_url, ["FLASH-1"], units=10)
        db = create_database(pg_url, pool_size=20)
        settings = Settings(database_url=pg_url, secret_key="concurrency-test-secret", var_dir=tmp_path)
        try:
            async with unit_of_work(db) as session:
                _uid, token = await create_user_with_token(session, role="manager")
            app = create_app(settings, db=db)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                responses = await asyncio.gather(*(
                    client.post("/api/v1/inventory/reserve", headers=bearer(token),
                                json={"sku": "FLASH-1", "location_id": loc, "quantity": 1,
                                      "reference": f"buyer:{i}"})
                    for i in range(64)))
        finally:
            await db.dispose()
        return responses

    responses = asyncio.run(scenario())
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 10 and codes.count(409) == 54, codes
    for r in responses:
        if r.status_code == 409:
            body = r.json()
            assert body["sku"] == "FLASH-1" and body["available"] == 0 and body["requested"] == 1
    assert asyncio.run(_check(pg_url)) == (10, 10, 10)


def test_flash_sale_across_processes(pg_url):
    asyncio.run(_stock(pg_url, ["FLASH-2"], units=10))
    loc = asyncio.run(_location_ids(pg_url))[0]
    start_at = time.time() + 2.0  # every process is connected before the doors open
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(inventory_workers.buy, [(pg_url, "FLASH-2", loc, 16, start_at)] * 4)
    outcomes = [o for batch in results for o in batch]
    assert len(outcomes) == 64
    assert sum(1 for o, _ in outcomes if o == "ok") == 10
    assert all(available == 0 for o, available in outcomes if o == "insufficient")
    assert asyncio.run(_check(pg_url)) == (10, 10, 10)


def test_random_concurrent_operations_keep_the_invariants(pg_url):
    skus = ["HOT-1", "HOT-2", "HOT-3"]
    asyncio.run(_stock(pg_url, skus, units=6, locations=2))
    locations = asyncio.run(_location_ids(pg_url))
    start_at = time.time() + 2.0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(
            inventory_workers.churn, [(pg_url, skus, locations, 8, 4.0, seed, start_at) for seed in range(4)])
    totals: dict[str, int] = {}
    for counts in results:
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    errors = {k: v for k, v in totals.items() if k.startswith("error")}
    assert not errors, errors  # no deadlock, no lock timeout, no constraint violation
    assert totals.get("ok", 0) > 200 and totals.get("insufficient", 0) > 0, totals
    asyncio.run(_check(pg_url))


async def _location_ids(url: str) -> list[int]:
    db = create_database(url, pool_size=1)
    try:
        async with unit_of_work(db, readonly=True) as session:
            return list((await session.execute(text("SELECT id FROM location ORDER BY id"))).scalars())
    finally:
        await db.dispose()
