"""Allegro orders in (event journal → checkout forms → idempotent import) and fulfilment out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from omniretail.channels.sync import deliveries, orders_in
from omniretail.orders.models import Order
from omniretail.platform.db import unit_of_work
from tests.channel_servers.allegro import checkout_form


async def _orders(world) -> list:
    table = Order.__table__
    async with unit_of_work(world.db, readonly=True) as session:
        return list((await session.execute(select(table).where(table.c.channel_id == world.channel_id))).all())


async def _import(world):
    handle = await world.engine.connections.get(world.channel_id)
    return await orders_in.import_orders(world.db, handle)


async def test_repeated_and_out_of_order_events_give_one_order_with_the_latest_revision(allegro_world, allegro):
    world = allegro_world
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    bought = checkout_form("CF-1", offer_id="OF0", quantity=2, price="19.99", status="BOUGHT", updated_at=t0)
    first = allegro.add_order_event(bought, "BOUGHT")
    paid = {**bought, "status": "READY_FOR_PROCESSING", "updatedAt": (t0 + timedelta(minutes=1)).isoformat()}
    allegro.add_order_event(paid, "READY_FOR_PROCESSING")
    allegro.journal("CF-1", "READY_FOR_PROCESSING")  # READY_FOR_PROCESSING can arrive twice
    allegro.journal("CF-1", "BOUGHT")  # and an old event can come again, late

    report = await _import(world)
    assert report.created == 1 and report.failed == 0
    [order] = await _orders(world)
    assert order.external_id == "CF-1" and order.payment_status == "paid"
    assert order.shipping_address["city"] == "Poznań"
    revision = order.channel_revision

    moved = {**paid, "updatedAt": (t0 + timedelta(minutes=3)).isoformat(),
             "delivery": {**paid["delivery"], "address": {**paid["delivery"]["address"], "city": "Gniezno"}}}
    allegro.add_order_event(moved, "BUYER_MODIFIED")
    await _import(world)
    [order] = await _orders(world)
    assert order.shipping_address["city"] == "Gniezno"
    assert order.channel_revision > revision

    allegro.journal("CF-1", "FILLED_IN")  # an old event again, and the read that follows it hits a replica
    allegro.stale["CF-1"] = [paid]        # that has not seen the change yet: an older snapshot
    again = await _import(world)
    assert again.unchanged == 1
    [order] = await _orders(world)
    assert order.shipping_address["city"] == "Gniezno"  # never back to an older revision
    async with unit_of_work(world.db, readonly=True) as session:
        cursor = await orders_in.read_cursor(session, world.channel_id, "orders")
    assert cursor == allegro.order_events[-1]["id"]
    again = await _import(world)  # nothing new: the cursor resumes after the last event
    assert again.fetched == 0 and first != cursor
    assert len(await _orders(world)) == 1


async def test_an_order_for_an_unknown_offer_is_reported_and_the_others_go_in(allegro_world, allegro):
    world = allegro_world
    allegro.add_order_event(checkout_form("CF-X", offer_id="NOPE", status="READY_FOR_PROCESSING"), "BOUGHT")
    allegro.add_order_event(checkout_form("CF-2", offer_id="OF1", status="READY_FOR_PROCESSING"), "BOUGHT")
    report = await _import(world)
    assert report.created == 1 and report.failed == 1
    assert report.errors[0]["external_id"] == "CF-X"
    [entry] = await world.log(operation="order")
    assert entry.status == "error" and entry.sent == {"external_id": "CF-X"}


async def test_fulfilment_status_retries_an_outdated_revision_and_tracking_goes_out(allegro_world, allegro):
    world = allegro_world
    allegro.add_order_event(checkout_form("CF-3", offer_id="OF0", status="READY_FOR_PROCESSING"), "BOUGHT")
    await _import(world)
    [order] = await _orders(world)
    async with unit_of_work(world.db) as session:
        status = await deliveries.queue(session, channel_id=world.channel_id, kind="fulfilment",
                                        topic="orders.status_changed", dedup_key="k-status",
                                        payload={"external_id": "CF-3", "kind": "status", "status": "in_fulfilment"})
        tracking = await deliveries.queue(session, channel_id=world.channel_id, kind="tracking",
                                          topic="orders.tracking", dedup_key="k-track",
                                          payload={"external_id": "CF-3", "kind": "tracking", "carrier": "InPost",
                                                   "tracking_number": "TRACK123", "tracking_url": None,
                                                   "lines": []})
        again = await deliveries.queue(session, channel_id=world.channel_id, kind="tracking",
                                       topic="orders.tracking", dedup_key="k-track", payload={})
    assert again is None  # owed once
    allegro.race_after_read.add("CF-3")  # the form changes between our read and our PUT: 409, read, retry
    delivered = await deliveries.deliver(world.db, world.engine.connections, worker="w", ids=[status, tracking])
    assert delivered == 2
    assert allegro.fulfilment["CF-3"] == ["PROCESSING"]
    puts = [path for method, path in allegro.behaviour.requests if method == "PUT" and path.endswith("/fulfillment")]
    assert len(puts) == 2  # the first answered 409 "Provided revision is outdated"
    [shipment] = allegro.shipments["CF-3"]
    assert shipment["carrierId"] == "INPOST" and shipment["waybill"] == "TRACK123"
    assert shipment["lineItems"] == [{"id": "CF-3-li1"}]
    assert order.external_id == "CF-3"


async def test_an_older_paid_snapshot_read_after_the_cancellation_changes_nothing(allegro_world, allegro):
    """Bought (unpaid), then cancelled by the buyer; a lagging replica then answers with the snapshot from in
    between, which said paid: it is older than the order's revision, so it records no payment either."""
    world = allegro_world
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    bought = checkout_form("CF-9", offer_id="OF0", status="BOUGHT", updated_at=t0)
    allegro.add_order_event(bought, "BOUGHT")
    paid = {**bought, "status": "READY_FOR_PROCESSING", "updatedAt": (t0 + timedelta(minutes=1)).isoformat()}
    cancelled = {**bought, "status": "CANCELLED", "updatedAt": (t0 + timedelta(minutes=2)).isoformat()}
    await _import(world)
    allegro.add_order_event(cancelled, "BUYER_CANCELLED")
    await _import(world)
    [order] = await _orders(world)
    assert (order.state, order.payment_status) == ("cancelled", "pending")
    revision = order.channel_revision

    allegro.journal("CF-9", "READY_FOR_PROCESSING")  # the event of the payment, late
    allegro.stale["CF-9"] = [paid]                   # read from a replica behind the cancellation
    report = await _import(world)
    assert (report.unchanged, report.updated, report.failed) == (1, 0, 0)
    [order] = await _orders(world)
    assert (order.state, order.payment_status, order.channel_revision) == ("cancelled", "pending", revision)
