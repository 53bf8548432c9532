"""Omnichannel journeys end to end through the API: BOPIS, curbside, ship-from-store / endless aisle with
partial shipments, cancellation, uncollected pickups, and the 409 for an illegal move."""

from __future__ import annotations

from datetime import datetime, timedelta

from omniretail.orders import pickup_deadline, tasks
from omniretail.platform import clock
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import (
    API,
    associate,
    create_shop,
    level,
    order_body,
    outbox,
    pickup_code,
    ship_to,
)


async def _place(client, shop, lines, **kw):
    r = await client.post(f"{API}/orders", headers=kw.pop("headers", shop.auth), json=order_body(shop, lines, **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def _act(client, auth, fo_id, move, json=None, status=200):
    r = await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=auth, json=json)
    assert r.status_code == status, r.text
    return r.json()


async def test_bopis_reserved_at_the_store_picked_ready_and_handed_over_with_the_code(client, session):
    shop = await create_shop(session)
    sku = shop.skus[0]
    order = await _place(client, shop, [(0, 2)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
                         payment_status="pay_on_pickup")
    assert order["state"] == "confirmed" and order["shipping"] == "0.00"
    [fo] = order["fulfilment_orders"]
    assert (fo["location_id"], fo["state"], fo["delivery_method"]) == (shop.store_a, "new", "pickup")
    assert await level(session, sku, shop.store_a) == (3, 2)
    staff = await associate(session, shop.store_a)
    queue = (await client.get(f"{API}/orders", headers=staff, params={"location_id": shop.store_a})).json()
    assert [o["id"] for o in queue["items"]] == [order["id"]]
    assert (await _act(client, staff, fo["id"], "pick"))["state"] == "picking"
    assert (await _act(client, staff, fo["id"], "picked"))["state"] == "picked"
    ready = await _act(client, staff, fo["id"], "ready")
    assert ready["state"] == "ready_for_pickup" and ready["has_pickup_code"] and "pickup_code" not in ready
    code = await pickup_code(session, order["id"])
    wrong = await _act(client, staff, fo["id"], "hand-over", {"pickup_code": "000000" if code != "000000" else "1"},
                       status=422)
    assert wrong["type"].endswith(":pickup-code-mismatch")
    done = await _act(client, staff, fo["id"], "hand-over", {"pickup_code": code})
    assert done["state"] == "handed_over"
    assert await level(session, sku, shop.store_a) == (1, 0)
    final = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert final["state"] == "completed"
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds[:2] == ["order.placed", "fulfilment_order.assigned"]
    assert {"fulfilment_order.picking", "order.in_fulfilment", "fulfilment_order.ready_for_pickup",
            "fulfilment_order.handed_over", "order.fulfilled", "order.completed"} <= set(kinds)
    templates = [e["template"] for e in await outbox(session, "orders.customer_message", order_id=order["id"])]
    assert templates == ["order_confirmed", "ready_for_pickup", "order_collected"]
    changes = await outbox(session, "orders.status_changed", order_id=order["id"])
    assert [c["to_state"] for c in changes if c["entity"] == "order"][-1] == "completed"
    await assert_invariants(session)


async def test_curbside_check_in_alerts_the_store(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, [(1, 1)], delivery={"method": "curbside", "pickup_location_id": shop.store_b})
    [fo] = order["fulfilment_orders"]
    assert fo["location_id"] == shop.store_b
    staff = await associate(session, shop.store_b)
    for move in ("pick", "picked", "ready"):
        await _act(client, staff, fo["id"], move)
    here = await _act(client, shop.auth, fo["id"], "check-in", {"bay": "3", "car": "red Skoda WA 12345"})
    assert here["check_in"]["bay"] == "3" and here["checked_in_at"]
    [alert] = await outbox(session, "orders.store_alert", kind="curbside_arrival")
    assert (alert["location_id"], alert["bay"], alert["car"]) == (shop.store_b, "3", "red Skoda WA 12345")
    await _act(client, staff, fo["id"], "hand-over", {"pickup_code": await pickup_code(session, order["id"])})
    assert (await client.get(f"{API}/orders/{order['id']}", headers=staff)).json()["state"] == "completed"
    ship = await _place(client, shop, [(2, 1)])
    refused = await _act(client, shop.auth, ship["fulfilment_orders"][0]["id"], "check-in", {"bay": "1"}, status=422)
    assert refused["field"] == "delivery_method"
    no_curbside = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(1, 1)], delivery={"method": "curbside", "pickup_location_id": shop.warehouse}))
    assert no_curbside.status_code == 422


async def test_endless_aisle_ships_from_another_store_with_partial_shipments(client, session):
    shop = await create_shop(session, stock={"warehouse": {"1": 5, "2": 5}, "store_a": {"0": 3}})
    clerk_b = await associate(session, shop.store_b)
    # store B has none of SKU0: the clerk orders it for home delivery in Warsaw, where store A has it
    order = await _place(client, shop, [(0, 1)], headers=clerk_b, delivery=ship_to(52.23, 21.01))
    assert order["origin_location_id"] == shop.store_b
    [fo] = order["fulfilment_orders"]
    assert fo["location_id"] == shop.store_a and order["routing"]["locations"] == [shop.store_a]
    seen = (await client.get(f"{API}/orders/{order['id']}", headers=clerk_b))
    assert seen.status_code == 200  # the clerk follows the order they entered …
    assert (await client.post(f"{API}/fulfilment-orders/{fo['id']}/pick", headers=clerk_b)).status_code == 404
    store_a = await associate(session, shop.store_a)  # … store A ships it
    for move in ("pick", "picked"):
        await _act(client, store_a, fo["id"], move)
    shipped = await _act(client, store_a, fo["id"], "ship", {"carrier": "InPost", "tracking_number": "IP1"})
    assert shipped["state"] == "shipped" and shipped["shipments"][0]["tracking_number"] == "IP1"
    assert await level(session, shop.skus[0], shop.store_a) == (2, 0)

    # a warehouse order in two parcels
    two = await _place(client, shop, [(1, 2), (2, 1)], delivery=ship_to(52.40, 16.92))
    [wfo] = two["fulfilment_orders"]
    assert wfo["location_id"] == shop.warehouse
    for move in ("pick", "picked"):
        await _act(client, shop.auth, wfo["id"], move)
    first_line = two["lines"][0]["id"]
    part = await _act(client, shop.auth, wfo["id"], "ship", {"carrier": "DPD", "tracking_number": "D-1",
                                                            "order_line_ids": [first_line],
                                                            "parcels": [{"weight_g": 900}]})
    assert part["state"] == "picked" and [ln["shipped"] for ln in part["lines"]] == [2, 0]
    mid = (await client.get(f"{API}/orders/{two['id']}", headers=shop.auth)).json()
    assert mid["state"] == "partially_fulfilled"
    again = await _act(client, shop.auth, wfo["id"], "ship", {"carrier": "DPD", "tracking_number": "D-9",
                                                             "order_line_ids": [first_line]}, status=422)
    assert again["field"] == "order_line_ids"
    rest = await _act(client, shop.auth, wfo["id"], "ship", {"carrier": "DPD", "tracking_number": "D-2"})
    assert rest["state"] == "shipped" and len(rest["shipments"]) == 2
    tracking = await outbox(session, "orders.tracking", order_id=two["id"])
    assert [(t["tracking_number"], t["complete"]) for t in tracking] == [("D-1", False), ("D-2", True)]
    assert tracking[0]["channel_id"] == shop.channel_id and tracking[0]["lines"][0]["quantity"] == 2
    assert (await client.get(f"{API}/orders/{two['id']}", headers=shop.auth)).json()["state"] == "fulfilled"
    one = await _act(client, shop.auth, wfo["id"], "deliver?shipment_id=" + str(rest["shipments"][0]["id"]))
    assert one["state"] == "shipped"
    delivered = await _act(client, shop.auth, wfo["id"], "deliver")
    assert delivered["state"] == "delivered" and all(s["delivered_at"] for s in delivered["shipments"])
    assert (await client.get(f"{API}/orders/{two['id']}", headers=shop.auth)).json()["state"] == "completed"
    await assert_invariants(session)


async def test_cancellation_releases_the_stock_and_tells_the_customer_why(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, [(0, 2), (1, 3)], delivery=ship_to(52.40, 16.92))
    sku0, sku1 = shop.skus[0], shop.skus[1]
    assert await level(session, sku0, shop.warehouse) == (10, 2)
    no_reason = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth, json={})
    assert no_reason.status_code == 422
    r = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                          json={"reason": "customer called"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "cancelled" and body["cancel_reason"] == "customer called"
    assert [f["state"] for f in body["fulfilment_orders"]] == ["cancelled"]
    assert {ln["state"] for ln in body["lines"]} == {"cancelled"}
    assert await level(session, sku0, shop.warehouse) == (10, 0)
    assert await level(session, sku1, shop.warehouse) == (10, 0)
    [told] = await outbox(session, "orders.customer_message", template="order_cancelled", order_id=order["id"])
    assert told["data"]["reason"] == "customer called" and told["contact"]["email"] == "anna@example.com"
    twice = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth, json={"reason": "again"})
    assert twice.status_code == 409 and problem(twice)["allowed"] == []
    await assert_invariants(session)


async def test_uncollected_pickups_are_cancelled_and_restocked(client, session, db):
    shop = await create_shop(session, settings={"pickup_expiry_days": 3})
    order = await _place(client, shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    fo_id = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        await _act(client, shop.auth, fo_id, move)
    assert await level(session, shop.skus[0], shop.store_a) == (3, 1)
    assert await tasks.expire_uncollected_job(db) == 0  # not yet
    ready_at = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=shop.auth)).json()["ready_at"]
    # the store has no opening hours: the end of its (Warsaw) day three days later, as the customer was told
    deadline = pickup_deadline.collect_by(datetime.fromisoformat(ready_at), days=3, opening_hours={},
                                          timezone="Europe/Warsaw")
    told = (await outbox(session, "orders.customer_message", template="ready_for_pickup",
                         order_id=order["id"]))[-1]["data"]["collect_by"]
    assert datetime.fromisoformat(told) == deadline
    clock.freeze(deadline - timedelta(minutes=1))
    try:
        assert await tasks.expire_uncollected_job(db) == 0  # three days on, but the store's day is not over
    finally:
        clock.freeze(None)
    clock.freeze(deadline + timedelta(minutes=1))
    try:
        assert await tasks.expire_uncollected_job(db) == 1
        assert await tasks.expire_uncollected_job(db) == 0  # idempotent
    finally:
        clock.freeze(None)
    final = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert final["state"] == "cancelled" and final["fulfilment_orders"][0]["state"] == "cancelled"
    assert "not collected within 3 days" in final["cancel_reason"]
    assert await level(session, shop.skus[0], shop.store_a) == (3, 0)
    templates = [e["template"] for e in await outbox(session, "orders.customer_message", order_id=order["id"])]
    assert templates[-3:] == ["pickup_expired", "order_cancelled", "refunded"]  # it was paid: the money goes back
    assert final["payment_status"] == "refunded"


async def test_illegal_transition_is_a_409_listing_the_allowed_moves(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    fo_id = order["fulfilment_orders"][0]["id"]
    r = await client.post(f"{API}/fulfilment-orders/{fo_id}/hand-over", headers=shop.auth,
                          json={"pickup_code": "123456"})
    body = problem(r)
    assert r.status_code == 409 and body["type"].endswith(":illegal-transition")
    assert (body["current_state"], body["requested_state"], body["allowed"]) == ("new", "handed_over",
                                                                                 ["picking", "cancelled"])
    await _act(client, shop.auth, fo_id, "pick")
    await _act(client, shop.auth, fo_id, "picked")
    ship = await client.post(f"{API}/fulfilment-orders/{fo_id}/ship", headers=shop.auth,
                             json={"carrier": "DPD", "tracking_number": "X"})
    assert ship.status_code == 409 and problem(ship)["allowed"] == ["ready_for_pickup", "cancelled"]


async def test_an_unpaid_order_waits_for_its_payment(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, [(1, 1)], payment_status="pending")
    assert order["state"] == "pending_payment" and order["allowed_moves"] == ["confirmed", "cancelled"]
    fo_id = order["fulfilment_orders"][0]["id"]
    early = await client.post(f"{API}/fulfilment-orders/{fo_id}/pick", headers=shop.auth)
    assert early.status_code == 409 and problem(early)["order_state"] == "pending_payment"
    paid = await client.post(f"{API}/orders/{order['id']}/payment", headers=shop.auth,
                             json={"payment_status": "paid"})
    assert paid.json()["state"] == "confirmed" and paid.json()["payment_status"] == "paid"
    await _act(client, shop.auth, fo_id, "pick")


async def test_unfillable_lines_follow_the_channel_policy(client, session):
    rejecting = await create_shop(session)
    r = await client.post(f"{API}/orders", headers=rejecting.auth, json=order_body(rejecting, [(0, 50)]))
    assert r.status_code == 409 and problem(r)["type"].endswith(":order-unfillable")
    assert problem(r)["lines"] == [{"sku": rejecting.skus[0], "requested": 50, "available": 13}]

    backorders = await create_shop(session, settings={"unfillable": "backorder"})
    order = await _place(client, backorders, [(0, 15), (2, 1)], delivery=ship_to(52.40, 16.92))
    first = order["lines"][0]
    assert (first["state"], first["quantity_backordered"]) == ("backordered", 2)  # 10 + 3 split over two places
    assert sorted(f["location_id"] for f in order["fulfilment_orders"]) == sorted(
        [backorders.warehouse, backorders.store_a])
    told = await outbox(session, "orders.customer_message", template="line_backordered", order_id=order["id"])
    assert told and told[0]["data"]["sku"] == backorders.skus[0]

    cancelling = await create_shop(session, settings={"unfillable": "cancel_line", "allow_split": False})
    order = await _place(client, cancelling, [(0, 20), (1, 1)], delivery=ship_to(52.40, 16.92))
    cancelled, kept = order["lines"]
    assert (cancelled["state"], cancelled["quantity_cancelled"], cancelled["total"]) == ("cancelled", 20, "0.00")
    assert kept["state"] == "allocated" and order["total"] == "19.99"
    assert await outbox(session, "orders.customer_message", template="line_cancelled", order_id=order["id"])


async def test_the_pickup_code_is_stored_only_as_its_hash(client, session):
    from sqlalchemy import text

    from omniretail.orders.pickup_codes import code_hash
    from tests.factories import TEST_SECRET_KEY

    shop = await create_shop(session)
    order = await _place(client, shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked", "ready"):
        await _act(client, shop.auth, fo["id"], move)
    code = await pickup_code(session, order["id"])
    stored = (await session.execute(text("SELECT pickup_code FROM fulfilment_order WHERE id = :id"),
                                    {"id": fo["id"]})).scalar_one()
    assert len(code) == 6 and code not in stored and stored == code_hash(TEST_SECRET_KEY, code)
    wrong = await _act(client, shop.auth, fo["id"], "hand-over", {"pickup_code": stored[:12]}, status=422)
    assert wrong["type"].endswith(":pickup-code-mismatch")  # what the database holds does not open the locker
    assert (await _act(client, shop.auth, fo["id"], "hand-over", {"pickup_code": code}))["state"] == "handed_over"
