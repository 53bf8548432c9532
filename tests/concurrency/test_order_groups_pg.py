"""Orders placed at once are written in groups (orders/placement_batch.py), on PostgreSQL with real
connections: every order is written exactly once with its own rows, a group that cannot be written as one
(stock taken, a new buyer's identity made twice) is written order by order, and stock is never oversold."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text

from omniretail.orders import placement_batch
from omniretail.platform import ttl_cache
from omniretail.platform.db import unit_of_work
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, create_shop, level, order_body

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _cached_tokens():
    """As a server runs: the token and the channel are read from the 5-second cache, so nothing begins the
    request's transaction before its order is written (a begun transaction keeps the write in it, alone)."""
    ttl_cache.set_enabled(True)
    yield
    ttl_cache.set_enabled(False)


async def _at_once(client, shop, bodies: list[dict]) -> list:
    """The first body posted alone (which puts the token and the channel in their caches), then the others at
    once; the responses in the bodies' order."""
    first = await client.post(f"{API}/orders", headers=shop.auth, json=bodies[0])
    gate = asyncio.Event()

    async def place(body):
        await gate.wait()
        return await client.post(f"{API}/orders", headers=shop.auth, json=body)

    tasks = [asyncio.create_task(place(b)) for b in bodies[1:]]
    await asyncio.sleep(0.05)
    gate.set()
    return [first, *await asyncio.gather(*tasks)]


async def test_orders_placed_at_once_are_written_in_groups_each_with_its_own_rows(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, stock={"warehouse": {"0": 500, "1": 500, "2": 500}})
    writer = placement_batch.writer_for(db.engine)
    before = writer.grouped_orders
    bodies = [order_body(shop, [(i % 3, 1 + i % 2), ((i + 1) % 3, 1)],
                         customer={"name": f"Buyer {i}", "email": f"buyer{i % 24}@example.com"})
              for i in range(60)]
    responses = await _at_once(client, shop, bodies)
    assert [r.status_code for r in responses] == [201] * 60, [r.text for r in responses if r.status_code != 201]
    assert writer.grouped_orders > before, "no two orders went in one statement"
    metrics = (await client.get("/metrics")).text  # what an operator sees
    written = [x for x in metrics.splitlines() if x.startswith('omniretail_order_write_groups_total{outcome="written"}')]
    assert written and float(written[0].split()[-1]) >= 1
    placed = {r.json()["id"]: r.json() for r in responses}
    assert len(placed) == 60
    asked = Counter()
    for body in bodies:
        for line in body["lines"]:
            asked[line["sku"]] += line["quantity"]
    async with unit_of_work(db, readonly=True) as session:
        for sku in shop.skus:
            assert await level(session, sku, shop.warehouse) == (500, asked[sku])
        rows = (await session.execute(text(
            "SELECT o.id, o.contact->>'email', (SELECT COUNT(*) FROM order_line l WHERE l.order_id = o.id), "
            "(SELECT COALESCE(SUM(r.quantity), 0) FROM reservation r JOIN order_line l "
            "   ON r.reference = 'order:' || o.id || '/line:' || l.id WHERE l.order_id = o.id), "
            "(SELECT COUNT(*) FROM fulfilment_order f WHERE f.order_id = o.id), "
            "(SELECT COUNT(*) FROM audit_event a WHERE a.action = 'place' AND a.entity_id = o.id::text) "
            "FROM sales_order o"))).all()
        assert len(rows) == 60
        for order_id, email, lines, reserved, fulfilment, audited in rows:
            body = bodies[[r.json()["id"] for r in responses].index(order_id)]
            assert email == body["customer"]["email"]
            assert (lines, reserved, fulfilment, audited) == (
                2, sum(x["quantity"] for x in body["lines"]), 1, 1)
        profiles = (await session.execute(text("SELECT COUNT(*) FROM customer"))).scalar_one()
        assert profiles == 24  # repeat buyers were matched, in a group or not
        await assert_invariants(session)


async def test_scarce_stock_taken_by_a_crowd_is_never_oversold(world):
    """30 buyers at once for 7 units at one place: groups that find the stock gone are written order by order,
    which routes each again; exactly 7 are placed."""
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, stock={"warehouse": {"0": 7}})
    bodies = [order_body(shop, [(0, 1)], customer=None) for _ in range(30)]  # guests: written in groups
    writer = placement_batch.writer_for(db.engine)
    undone = writer.undone
    responses = await _at_once(client, shop, bodies)
    assert writer.undone > undone, "no group found its stock gone"
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 7, 409: 23}, [r.text for r in responses if r.status_code not in (201, 409)]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {p["type"] for p in refused} == {"urn:omniretail:problem:order-unfillable"}
    async with unit_of_work(db, readonly=True) as session:
        assert await level(session, shop.skus[0], shop.warehouse) == (7, 7)
        orders = (await session.execute(text("SELECT COUNT(*) FROM sales_order"))).scalar_one()
        assert orders == 7
        await assert_invariants(session)


async def test_one_new_buyer_twice_in_a_group_gets_one_profile(world):
    """Two first orders of one new buyer in one group would make two identities: the group is undone and
    each order is written alone, the second on the profile the first made."""
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, stock={"warehouse": {"0": 100, "1": 100, "2": 100}})
    bodies = [order_body(shop, [(i % 3, 1)], customer={"name": "Same Person", "email": "same@example.com"})
              for i in range(12)]
    bodies += [order_body(shop, [(i % 3, 1)], customer={"email": f"other{i}@example.com"}) for i in range(12)]
    responses = await _at_once(client, shop, bodies)
    assert [r.status_code for r in responses] == [201] * 24, [r.text for r in responses if r.status_code != 201]
    async with unit_of_work(db, readonly=True) as session:
        same = (await session.execute(text(
            "SELECT COUNT(DISTINCT customer_id), COUNT(*) FROM sales_order WHERE contact->>'email' = "
            "'same@example.com'"))).one()
        assert tuple(same) == (1, 12)
        profiles = (await session.execute(text(
            "SELECT COUNT(*) FROM customer WHERE email = 'same@example.com'"))).scalar_one()
        assert profiles == 1
        assert (await session.execute(text("SELECT COUNT(*) FROM sales_order"))).scalar_one() == 24
        await assert_invariants(session)
