"""The till under real concurrency on PostgreSQL (own connections, a fresh database): one open shift however
many associates open it at once, and no cash slips into a shift while it is being closed."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from tests.integration.orders.helpers import API
from tests.integration.pos.test_shifts import _sale, _till

pytestmark = pytest.mark.postgres
POS = f"{API}/pos"


async def test_eight_associates_opening_the_same_till_at_once_open_one_shift(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop, _pos = await _till(session)
    gate = asyncio.Event()

    async def opener():
        await gate.wait()
        return await client.post(f"{POS}/shifts", headers=shop.auth,
                                 json={"location_id": shop.store_a, "opening_float": "100"})

    tasks = [asyncio.create_task(opener()) for _ in range(8)]
    await asyncio.sleep(0.05)
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.text for r in responses]
    async with unit_of_work(db, readonly=True) as session:
        assert (await session.execute(text("SELECT COUNT(*) FROM pos_register_shift WHERE state = 'open'"))
                ).scalar_one() == 1


async def test_cash_sales_racing_the_close_are_counted_or_refused(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop, _pos = await _till(session)
    shift = (await client.post(f"{POS}/shifts", headers=shop.auth,
                               json={"location_id": shop.store_a, "opening_float": "100"})).json()
    gate = asyncio.Event()

    async def sell():
        await gate.wait()
        return await client.post(f"{POS}/sales", headers=shop.auth,
                                 json=_sale(shop, [(2, 1)], sale_id=uuid.uuid4().hex))

    async def close():
        await gate.wait()
        await asyncio.sleep(0.01)
        return await client.post(f"{POS}/shifts/{shift['id']}/close", headers=shop.auth,
                                 json={"counted_cash": "100"})

    sales = [asyncio.create_task(sell()) for _ in range(5)]
    closing = asyncio.create_task(close())
    await asyncio.sleep(0.05)
    gate.set()
    sold = await asyncio.gather(*sales)
    closed = await closing
    assert closed.status_code == 200, closed.text
    assert all(r.status_code in (201, 409) for r in sold), [r.text for r in sold]
    made = sum(r.status_code == 201 for r in sold)
    body = closed.json()
    assert body["expected_cash"] == f"{100 + 5 * made}.00"  # every sale that went through is in the count
    async with unit_of_work(db, readonly=True) as session:
        after = (await session.execute(text(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM pos_cash_movement WHERE shift_id = :s"),
            {"s": shift["id"]})).scalar_one()
    assert after == 500 * made
