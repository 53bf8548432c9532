"""Orders under real concurrency on PostgreSQL (own connections, a fresh migrated database, no outer
transaction): one order however many importers race, and one hand-over however many associates try."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import (
    API,
    associate,
    create_shop,
    integration,
    level,
    order_body,
    pickup_code,
)

pytestmark = pytest.mark.postgres


async def test_the_same_external_order_imported_by_16_tasks_is_one_order(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, kind="marketplace_allegro")
        bot = await integration(session, shop.channel_id)
    body = {"channel_id": shop.channel_id, "external_id": "RACE-1", "revision": 1,
            "buyer": {"name": "New Buyer", "email": "race@example.com", "external_id": "buyer-race"},
            "delivery": {"method": "ship", "address": {"city": "Poznań", "latitude": 52.4, "longitude": 16.9}},
            "lines": [{"sku": shop.skus[1], "quantity": 2, "unit_price": "19.99"},
                      {"sku": shop.skus[2], "quantity": 1, "unit_price": "5.00"}]}
    gate = asyncio.Event()

    async def importer():
        await gate.wait()
        return await client.post(f"{API}/orders/import", headers=bot, json=body)

    tasks = [asyncio.create_task(importer()) for _ in range(16)]
    await asyncio.sleep(0.05)
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses if r.status_code > 201]
    assert sorted(r.status_code for r in responses) == [200] * 15 + [201]
    assert len({r.json()["order"]["id"] for r in responses}) == 1
    async with unit_of_work(db, readonly=True) as session:
        counts = (await session.execute(text(
            "SELECT (SELECT COUNT(*) FROM sales_order WHERE external_id = 'RACE-1'), "
            "(SELECT COUNT(*) FROM order_line), (SELECT COUNT(*) FROM fulfilment_order), "
            "(SELECT COUNT(*) FROM reservation WHERE state = 'open'), "
            "(SELECT COUNT(*) FROM customer WHERE email = 'race@example.com')"))).one()
        assert tuple(counts) == (1, 2, 1, 2, 1)
        assert await level(session, shop.skus[1], shop.warehouse) == (10, 2)
        await assert_invariants(session)


async def test_two_associates_handing_over_the_same_order_at_once_one_wins(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
        clerks = [await associate(session, shop.store_a) for _ in range(2)]
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert placed.status_code == 201, placed.text
    order_id, fo_id = placed.json()["id"], placed.json()["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        assert (await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=clerks[0])).status_code == 200
    async with unit_of_work(db, readonly=True) as session:
        code = await pickup_code(session, order_id)
    gate = asyncio.Event()

    async def hand_over(auth):
        await gate.wait()
        return await client.post(f"{API}/fulfilment-orders/{fo_id}/hand-over", headers=auth,
                                 json={"pickup_code": code})

    tasks = [asyncio.create_task(hand_over(a)) for a in clerks]
    await asyncio.sleep(0.05)
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["current_state"] == "handed_over" and loser["allowed"] == []
    async with unit_of_work(db, readonly=True) as session:
        assert await level(session, shop.skus[0], shop.store_a) == (2, 0)  # consumed once
        events = (await session.execute(text(
            "SELECT COUNT(*) FROM order_event WHERE kind = 'fulfilment_order.handed_over'"))).scalar_one()
        assert events == 1
        await assert_invariants(session)


async def test_a_new_buyer_ordering_16_times_at_once_gets_one_profile_and_every_order_one_audit_entry(world):
    """Placement writes a new buyer's identity and profile, and the request's audit entry, in its one statement;
    the orders that lose the race for the identity are placed on the profile that won."""
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
    gate = asyncio.Event()

    async def buyer(i: int):
        await gate.wait()
        body = order_body(shop, [(i % 3, 1)], customer={"name": "Nowa Klientka", "email": "Nowa@Example.com",
                                                         "phone": "+48 600 100 200"})
        return await client.post(f"{API}/orders", headers=shop.auth, json=body)

    tasks = [asyncio.create_task(buyer(i)) for i in range(16)]
    await asyncio.sleep(0.05)
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses if r.status_code != 201]
    order_ids = sorted(r.json()["id"] for r in responses)
    async with unit_of_work(db, readonly=True) as session:
        profiles = (await session.execute(text(
            "SELECT id FROM customer WHERE email = 'nowa@example.com'"))).scalars().all()
        assert len(profiles) == 1
        identities = (await session.execute(text(
            "SELECT customer_id FROM customer_identity WHERE channel_id = :c"), {"c": shop.channel_id})).all()
        assert [tuple(x) for x in identities] == [(profiles[0],)]
        owners = (await session.execute(text(
            "SELECT DISTINCT customer_id, customer_identity_id IS NOT NULL FROM sales_order"))).all()
        assert [tuple(x) for x in owners] == [(profiles[0], True)]
        audited = (await session.execute(text(
            "SELECT entity_id, data->>'status' FROM audit_event WHERE action = 'place' ORDER BY id"))).all()
        assert sorted(int(x[0]) for x in audited) == order_ids and {x[1] for x in audited} == {"201"}
        await assert_invariants(session)
