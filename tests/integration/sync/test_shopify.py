"""The engine against a local Shopify: compare-and-set quantities, idempotency keys, prices, orders, fulfilment."""

from __future__ import annotations

from sqlalchemy import select

from omniretail.channels.sync import deliveries, orders_in
from omniretail.orders.models import Order
from omniretail.platform.db import unit_of_work


async def test_stock_and_prices_reach_shopify_and_a_stale_compare_and_set_is_read_back_and_retried(
        shopify_world, shopify):
    world = shopify_world
    await world.sync()
    items = [e["inventory_item_id"] for e in world.externals]
    assert [shopify.quantity(i) for i in items] == [5, 7, 0]
    assert shopify.variants[world.externals[0]["variant_id"]]["price"] == "19.99"

    shopify.levels[(items[1], "gid://shopify/Location/1")] = 6  # a sale on Shopify the hub has not heard of
    await world.set_stock(world.skus[1], 4)
    await world.sync()

    assert shopify.stale_answers == 1  # changeFromQuantity 7 did not match 6 …
    assert shopify.quantity(items[1]) == 4  # … so it was read back and set over it
    listing = await world.listing(world.skus[1])
    assert listing.acked_quantity == 4 and listing.acked_version == listing.desired_version


async def test_a_repeated_request_with_the_same_idempotency_key_is_not_applied_twice(shopify_world, shopify):
    from omniretail.channels.connectors.base import InventoryUpdate, ListingRef

    world = shopify_world
    await world.sync()
    handle = await world.engine.connections.get(world.channel_id)
    ref = ListingRef(world.listings[world.skus[0]], world.variant_ids[0], world.skus[0], world.externals[0])
    update = InventoryUpdate(ref, quantity=9, version=5, previous=5)
    first = await handle.connector.push_inventory([update])
    shopify.levels[(world.externals[0]["inventory_item_id"], "gid://shopify/Location/1")] = 2  # moved meanwhile
    again = await handle.connector.push_inventory([update])  # the retry of a request whose answer was lost
    assert first[0].ok and again[0].ok
    assert first[0].answer["idempotency_key"] == again[0].answer["idempotency_key"]
    assert shopify.quantity(world.externals[0]["inventory_item_id"]) == 2  # the first result, not applied again


async def test_a_later_write_with_the_same_values_as_an_earlier_one_is_applied(shopify_world, shopify):
    """5 → 7, back to 5, then 5 → 7 again: the third mutation has the first one's variables, but it is a new write
    (newer listing versions), so it gets a new idempotency key and Shopify applies it."""
    world = shopify_world
    await world.sync()
    item = world.externals[0]["inventory_item_id"]
    assert shopify.quantity(item) == 5
    keys = []
    for counted in (7, 5, 7):
        await world.set_stock(world.skus[0], counted)
        await world.sync()
        assert shopify.quantity(item) == counted
        keys.append((await world.log(world.skus[0], "inventory"))[-1].answer["idempotency_key"])
    assert len(set(keys)) == 3


async def test_unknown_prices_are_read_first_and_a_long_price_batch_hands_back_what_it_did(shopify_world, shopify):
    """A listing taken over from a stopped worker has no acknowledged price: Shopify's is read (1 point a variant)
    and not sent again when it is already right, instead of a 10-point mutation per product. A batch that would
    outlast ``price_push_s`` stops after a product and hands back what it did (the rest is claimed again)."""
    import pytest

    from omniretail.channels.connectors.base import ListingRef, PriceUpdate
    from omniretail.channels.sync.ratelimit import Throttled

    world = shopify_world
    await world.sync()
    connector = (await world.engine.connections.get(world.channel_id)).connector
    refs = [ListingRef(world.listings[sku], vid, sku, ext)
            for sku, vid, ext in zip(world.skus, world.variant_ids, world.externals, strict=True)]
    shopify.behaviour.requests.clear()
    same = await connector.push_prices([PriceUpdate(r, p, "PLN", 9) for r, p in zip(refs, (1999, 500, 1250),
                                                                                    strict=True)])
    assert all(r.ok and r.answer == {"already": p} for r, p in zip(same, (1999, 500, 1250), strict=True))
    assert len(shopify.behaviour.requests) == 1  # one read, no mutation

    connector.channel.settings["price_push_s"] = 0
    shopify.behaviour.requests.clear()
    with pytest.raises(Throttled) as stopped:
        await connector.push_prices([PriceUpdate(r, 100 + n, "PLN", 10) for n, r in enumerate(refs)])
    assert [(r.listing_id, r.ok) for r in stopped.value.partial] == [(refs[0].listing_id, True)]
    assert len(shopify.behaviour.requests) == 2  # the read and the first product's mutation
    assert shopify.variants[world.externals[0]["variant_id"]]["price"] == "1.00"
    assert shopify.variants[world.externals[1]["variant_id"]]["price"] == "5.00"


async def test_shopify_orders_come_in_by_updated_at_and_fulfilments_go_out_with_tracking(shopify_world, shopify):
    world = shopify_world
    shopify.add_order(1, sku=world.skus[0], quantity=1, financial="PENDING", updated_at="2026-11-20T10:00:00Z")
    shopify.add_order(2, sku=world.skus[1], quantity=2, updated_at="2026-11-20T10:05:00Z")
    handle = await world.engine.connections.get(world.channel_id)
    report = await orders_in.import_orders(world.db, handle)
    assert report.created == 2
    shopify.add_order(1, sku=world.skus[0], quantity=1, financial="PAID", updated_at="2026-11-20T11:00:00Z")
    report = await orders_in.import_orders(world.db, handle)
    assert report.updated == 1  # the payment came through
    table = Order.__table__
    async with unit_of_work(world.db, readonly=True) as session:
        rows = (await session.execute(select(table.c.external_id, table.c.payment_status).where(
            table.c.channel_id == world.channel_id).order_by(table.c.external_id))).all()
    assert [tuple(r) for r in rows] == [("gid://shopify/Order/1", "paid"), ("gid://shopify/Order/2", "paid")]

    async with unit_of_work(world.db) as session:
        owed = await deliveries.queue(session, channel_id=world.channel_id, kind="tracking", topic="orders.tracking",
                                      dedup_key="t1", payload={"external_id": "gid://shopify/Order/2",
                                                               "kind": "tracking", "carrier": "DHL",
                                                               "tracking_number": "JD0001",
                                                               "tracking_url": "https://dhl.example/JD0001"})
    assert await deliveries.deliver(world.db, world.engine.connections, worker="w", ids=[owed]) == 1
    [fulfillment] = shopify.fulfillments
    assert fulfillment["trackingInfo"] == {"company": "DHL", "number": "JD0001", "url": "https://dhl.example/JD0001"}
    assert shopify.fulfillment_orders["gid://shopify/Order/2"][0]["status"] == "CLOSED"
