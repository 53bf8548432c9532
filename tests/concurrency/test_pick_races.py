"""Pick exceptions under real concurrency on PostgreSQL (own connections, a fresh migrated database): associates
rejecting the same line at once correct the stock once; a pick racing a rejection leaves one of them; a
hand-over made twice at once happens once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, order_body, pickup_code

pytestmark = pytest.mark.postgres


async def _pickup(client, shop, units: int = 2) -> tuple[dict, int]:
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, units)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert placed.status_code == 201, placed.text
    return placed.json(), placed.json()["fulfilment_orders"][0]["id"]


async def _at_once(*calls):
    gate = asyncio.Event()

    async def run(call):
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(run(c)) for c in calls]
    await asyncio.sleep(0.05)
    gate.set()
    return await asyncio.gather(*tasks)


async def _count(session, sql: str, **params) -> int:
    return (await session.execute(text(sql), params)).scalar_one()


async def test_four_associates_rejecting_the_same_line_at_once_correct_the_stock_once(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
        clerks = [await associate(session, shop.store_a) for _ in range(4)]
    order, fo_id = await _pickup(client, shop)
    body = {"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 2, "reason": "not_found"}]}
    responses = await _at_once(*[
        lambda a=a: client.post(f"{API}/fulfilment-orders/{fo_id}/reject-lines", headers=a, json=body)
        for a in clerks])
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.text for r in responses]
    async with unit_of_work(db, readonly=True) as session:
        assert await level(session, shop.skus[0], shop.store_a) == (1, 0)  # 3 − 2, counted once
        assert await _count(session, "SELECT COUNT(*) FROM stock_movement WHERE kind = 'count' "
                                     "AND location_id = :loc", loc=shop.store_a) == 1
        assert await _count(session, "SELECT COUNT(*) FROM order_event WHERE kind = 'pick.rejected'") == 1
        assert await _count(session, "SELECT rejections FROM phantom_stock WHERE location_id = :loc",
                            loc=shop.store_a) == 1
        assert await _count(session, "SELECT COUNT(*) FROM fulfilment_order WHERE order_id = :o "
                                     "AND delivery_method = 'ship_to_store'", o=order["id"]) == 1
        assert await level(session, shop.skus[0], shop.warehouse) == (10, 2)  # re-routed once
        await assert_invariants(session)


async def test_a_pick_racing_a_rejection_leaves_exactly_one_of_them(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
        picker, rejecter = await associate(session, shop.store_a), await associate(session, shop.store_a)
    outcomes = set()
    for _round in range(3):
        order, fo_id = await _pickup(client, shop, units=1)
        assert (await client.post(f"{API}/fulfilment-orders/{fo_id}/pick", headers=picker)).status_code == 200
        body = {"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": "damaged"}]}
        picked, rejected = await _at_once(
            lambda fo_id=fo_id: client.post(f"{API}/fulfilment-orders/{fo_id}/picked", headers=picker),
            lambda fo_id=fo_id, body=body: client.post(f"{API}/fulfilment-orders/{fo_id}/reject-lines",
                                                       headers=rejecter, json=body))
        assert sorted((picked.status_code, rejected.status_code)) == [200, 409], (picked.text, rejected.text)
        outcomes.add("picked" if picked.status_code == 200 else "rejected")
        async with unit_of_work(db, readonly=True) as session:
            state = (await session.execute(text("SELECT state FROM fulfilment_order WHERE id = :id"),
                                           {"id": fo_id})).scalar_one()
            damaged = await _count(session, "SELECT COUNT(*) FROM stock_movement WHERE kind = 'damage' AND "
                                            "reference_id = :n", n=order["number"])
            assert (state, damaged) == (("picked", 0) if picked.status_code == 200 else ("cancelled", 1))
            await assert_invariants(session)
    assert outcomes  # which one wins is up to the database; each round has exactly one winner


async def test_two_associates_handing_over_at_once_one_wins_the_other_gets_409(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
        clerks = [await associate(session, shop.store_a) for _ in range(2)]
    order, fo_id = await _pickup(client, shop, units=1)
    for move in ("pick", "picked", "ready"):
        assert (await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=clerks[0])).status_code == 200
    async with unit_of_work(db, readonly=True) as session:
        code = await pickup_code(session, order["id"])
    responses = await _at_once(*[
        lambda a=a: client.post(f"{API}/fulfilment-orders/{fo_id}/hand-over", headers=a, json={"pickup_code": code})
        for a in clerks])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    async with unit_of_work(db, readonly=True) as session:
        assert await level(session, shop.skus[0], shop.store_a) == (2, 0)
        assert await _count(session, "SELECT COUNT(*) FROM order_event WHERE kind = "
                                     "'fulfilment_order.handed_over'") == 1
        await assert_invariants(session)
