"""The generic webhook channel: signed listing batches, per-item refusals, relayed order events, retries."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from omniretail.channels.connectors.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    verify,
)
from omniretail.channels.sync.models import ChannelDelivery
from omniretail.platform.db import unit_of_work
from omniretail.platform.outbox import append_event


async def test_listing_state_goes_out_signed_and_the_signature_is_verifiable(webhook_world, receiver):
    world = webhook_world
    await world.sync()
    assert receiver.bad_signatures == 0
    topics = sorted({d["topic"] for d in receiver.deliveries})
    assert topics == ["listing.content", "listing.inventory", "listing.price"]
    assert {sku: s["quantity"] for sku, s in receiver.state.items() if "quantity" in s} == dict(
        zip(world.skus, [5, 7, 0], strict=True))
    delivery = receiver.deliveries[0]
    header = delivery["headers"][SIGNATURE_HEADER.lower()]
    timestamp = int(delivery["headers"][TIMESTAMP_HEADER.lower()])
    assert header.startswith(f"t={timestamp},v1=")
    # a receiver recomputes HMAC-SHA256(secret, "<t>." + raw body): same body, same signature; any change, none
    assert verify(receiver.secret, body=b"{}", header=f"t={timestamp},v1={signature(receiver.secret, timestamp, b'{}')}",
                  now=timestamp)
    assert not verify(receiver.secret, body=b"{} ", header=f"t={timestamp},v1={signature(receiver.secret, timestamp, b'{}')}",
                      now=timestamp)
    assert not verify(receiver.secret, body=b"{}", header=f"t={timestamp},v1={signature(receiver.secret, timestamp, b'{}')}",
                      now=timestamp + 301)  # too old: replayed


async def test_an_item_the_receiver_refuses_fails_alone(webhook_world, receiver):
    world = webhook_world
    receiver.refuse_listings.add(world.listings[world.skus[2]])
    await world.sync()
    good, bad = await world.listing(world.skus[0]), await world.listing(world.skus[2])
    assert good.acked_version == good.desired_version
    assert bad.acked_version < bad.desired_version and "unknown product" in bad.last_error


async def test_a_5xx_is_retried_and_the_redelivery_carries_the_same_delivery_id(webhook_world, receiver):
    world = webhook_world
    receiver.behaviour.force_500 = 1  # the first batch (stock) meets a 503
    await world.sync()
    first = await world.listing(world.skus[0])
    assert first.attempts == 1 and "503" in first.last_error
    await asyncio.sleep(0.06)
    await world.engine.run_once()
    settled = await world.listing(world.skus[0])
    assert settled.acked_version == settled.desired_version and receiver.state[world.skus[0]]["quantity"] == 5


async def test_order_events_are_relayed_to_subscribers_once_with_retries(webhook_world, receiver):
    world = webhook_world
    payload = {"order_id": 1, "number": "N1", "channel_id": world.channel_id, "external_id": None,
               "entity": "order", "from_state": "confirmed", "to_state": "in_fulfilment", "kind": "order.x",
               "at": "2026-11-20T10:00:00+00:00", "data": {}}
    async with unit_of_work(world.db) as session:
        await append_event(session, "orders.status_changed", payload)
    receiver.behaviour.force_500 = 1
    await world.dispatch()  # queued in the event's transaction; the first attempt right after commit meets a 503
    table = ChannelDelivery.__table__
    async with unit_of_work(world.db, readonly=True) as session:
        [row] = (await session.execute(select(table).where(table.c.channel_id == world.channel_id))).all()
    assert row.state == "pending" and row.attempts == 1 and row.last_status == 503
    async with unit_of_work(world.db) as session:  # the back-off is over
        await session.execute(table.update().values(next_attempt_at=row.created_at))
    from omniretail.channels.sync import deliveries

    assert await deliveries.deliver(world.db, world.engine.connections, worker="w") == 1
    [delivery] = [d for d in receiver.deliveries if d["topic"] == "orders.status_changed"]
    assert delivery["id"] == row.dedup_key and delivery["data"]["to_state"] == "in_fulfilment"
    await world.dispatch()  # nothing new: the event was published
    assert len([d for d in receiver.deliveries if d["topic"] == "orders.status_changed"]) == 1


async def test_a_catalogue_change_reaches_the_listing_content(webhook_world, receiver, session):
    from omniretail.catalog import service as catalog_service
    from omniretail.catalog.schemas import VariantUpdate

    world = webhook_world
    await world.sync()
    assert receiver.state[world.skus[0]]["published"] is True
    await catalog_service.update_variant(session, world.variant_ids[0], data=VariantUpdate(is_active=False))
    await session.commit()
    await world.sync()  # catalog.variant.changed → the product's variants recomputed → listing.content
    assert receiver.state[world.skus[0]]["published"] is False
    assert receiver.state[world.skus[1]]["published"] is True
    listing = await world.listing(world.skus[0])
    assert listing.acked_published is False and listing.acked_version == listing.desired_version


async def test_a_refund_is_relayed_to_a_subscriber_of_orders_refunded(webhook_world, receiver):
    """An ERP subscribed to ``orders.refunded`` gets each refund the hub records (``orders.refunds``)."""
    from omniretail.channels.models import Channel

    world = webhook_world
    async with unit_of_work(world.db) as session:
        channel = await session.get(Channel, world.channel_id)
        channel.settings = {**channel.settings, "topics": [*channel.settings["topics"], "orders.refunded"]}
    payload = {"refund_id": 7, "order_id": 1, "number": "N1", "channel_id": 99, "external_id": None,
               "return_id": 3, "amount": "19.99", "shipping": "0.00", "currency": "PLN", "method": "card",
               "reference": None, "location_id": None, "reason": "", "at": "2026-12-06T10:00:00+00:00"}
    async with unit_of_work(world.db) as session:
        await append_event(session, "orders.refunded", payload)
    await world.dispatch()
    [delivery] = [d for d in receiver.deliveries if d["topic"] == "orders.refunded"]
    assert delivery["data"] == payload


def test_the_worker_relays_refunds():
    from omniretail.handlers import load

    assert any(c.prefix == "orders.refunded" for c in load().consumers)
