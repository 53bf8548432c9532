"""Store operations under real concurrency on PostgreSQL: escalation runs racing each other announce each level
once; two associates receiving the same ship-to-store transfer at once hold the goods and ready the order once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from omniretail.orders import promise_tasks
from omniretail.platform import clock
from omniretail.platform.db import unit_of_work
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, order_body, outbox

pytestmark = pytest.mark.postgres


async def _race(n, make):
    gate = asyncio.Event()

    async def one():
        await gate.wait()
        return await make()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0.05)
    gate.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_eight_escalation_runs_at_once_announce_each_late_order_once(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
    fo_ids = []
    for _ in range(3):
        r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
            shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
        assert r.status_code == 201, r.text
        fo_ids.append(r.json()["fulfilment_orders"][0]["id"])
    late = clock.now() + timedelta(hours=3)  # no opening hours: due two calendar hours after assignment
    results = await _race(8, lambda: promise_tasks.escalate_job(db, now=late))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(x for r in results for x in r) == sorted((fo_id, 2) for fo_id in fo_ids)
    async with unit_of_work(db, readonly=True) as session:
        alerts = [a for a in await outbox(session, "orders.store_alert") if a["kind"] == "late"]
        assert sorted(a["fulfilment_order_id"] for a in alerts) == sorted(fo_ids)
        levels = (await session.execute(text("SELECT DISTINCT escalation_level FROM fulfilment_order"))).scalars()
        assert list(levels) == [2]


async def test_two_associates_receiving_a_ship_to_store_transfer_at_once(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, stock={"warehouse": {"0": 10}})
        staff = [await associate(session, shop.store_a) for _ in range(2)]
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 3)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert r.status_code == 201, r.text
    order = r.json()
    leg = next(fo for fo in order["fulfilment_orders"] if fo["delivery_method"] == "ship_to_store")
    waiting = next(fo for fo in order["fulfilment_orders"] if fo["state"] == "awaiting_transfer")
    for move in ("pick", "picked"):
        assert (await client.post(f"{API}/fulfilment-orders/{leg['id']}/{move}", headers=shop.auth)).status_code == 200
    shipped = await client.post(f"{API}/inventory/transfers/{leg['transfer_id']}/ship", headers=shop.auth)
    assert shipped.status_code == 200, shipped.text

    responses = iter(range(2))
    results = await _race(2, lambda: client.post(f"{API}/inventory/transfers/{leg['transfer_id']}/receive",
                                                 headers=staff[next(responses)]))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    async with unit_of_work(db, readonly=True) as session:
        assert await level(session, shop.skus[0], shop.store_a) == (3, 3)
        ready = await outbox(session, "orders.customer_message", template="ready_for_pickup", order_id=order["id"])
        assert [m["fulfilment_order_id"] for m in ready] == [waiting["id"]]
        state = (await session.execute(text("SELECT state FROM fulfilment_order WHERE id = :id"),
                                       {"id": waiting["id"]})).scalar_one()
        assert state == "ready_for_pickup"
        await assert_invariants(session)
