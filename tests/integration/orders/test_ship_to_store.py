"""Ship-to-store through the API: a pickup order at a store without the item is picked at the warehouse, moved
with a transfer linked to the order, received at the store (partly, then the rest), made ready for pickup
(message queued) and handed over with the code."""

from __future__ import annotations

from omniretail.orders import ship_to_store_tasks
from omniretail.platform import clock
from omniretail.platform.jobs import Event
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, order_body, outbox


async def _post(client, auth, path, json=None, status=200):
    r = await client.post(f"{API}{path}", headers=auth, json=json)
    assert r.status_code == status, r.text
    return r.json()


async def _order(client, auth, order_id):
    r = await client.get(f"{API}/orders/{order_id}", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def _code(messages, fo_id):
    return [m for m in messages if m["fulfilment_order_id"] == fo_id][-1]["data"]["pickup_code"]


async def test_ship_to_store_journey(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 10, "1": 10}, "store_a": {"1": 5}})
    sku0, sku1 = shop.skus[0], shop.skus[1]
    order = await _post(client, shop.auth, "/orders", order_body(
        shop, [(0, 3), (1, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}), status=201)
    by_method = {fo["delivery_method"]: fo for fo in order["fulfilment_orders"]}
    leg, own = by_method["ship_to_store"], next(fo for fo in order["fulfilment_orders"] if fo["state"] == "new"
                                           and fo["delivery_method"] == "pickup")
    waiting = next(fo for fo in order["fulfilment_orders"] if fo["state"] == "awaiting_transfer")
    assert (leg["location_id"], leg["state"]) == (shop.warehouse, "new")
    assert (own["location_id"], [ln["sku"] for ln in own["lines"]]) == (shop.store_a, [sku1])
    assert (waiting["location_id"], waiting["delivery_method"]) == (shop.store_a, "pickup")
    assert [(ln["sku"], ln["quantity"], ln["received"]) for ln in waiting["lines"]] == [(sku0, 3, 0)]
    assert leg["transfer_id"] == waiting["transfer_id"] is not None
    assert waiting["promised_by"] > leg["promised_by"]
    routed = order["routing"]["ship_to_store"]
    assert routed["store_id"] == shop.store_a and routed["sources"] == [shop.warehouse]
    assert "lacks stock" in routed["reason"] and routed["lines"] == [
        {"line": 1, "location_id": shop.warehouse, "quantity": 3}]
    assert await level(session, sku0, shop.warehouse) == (10, 3)  # held at the source
    transfer_id = leg["transfer_id"]
    transfer = (await client.get(f"{API}/inventory/transfers/{transfer_id}", headers=shop.auth)).json()
    assert (transfer["state"], transfer["order_reference"]) == ("requested", f"order:{order['id']}")
    assert (transfer["source_location_id"], transfer["destination_location_id"]) == (shop.warehouse, shop.store_a)

    # the store sees it coming; the warehouse picks and ships the transfer
    staff = await associate(session, shop.store_a)
    refused = await _post(client, shop.auth, f"/inventory/transfers/{transfer_id}/ship", status=409)
    assert refused["current_state"] == "new"  # not picked yet
    await _post(client, shop.auth, f"/fulfilment-orders/{leg['id']}/pick")
    picked = await _post(client, shop.auth, f"/fulfilment-orders/{leg['id']}/picked")
    assert picked["allowed_moves"] == ["cancelled"]  # it ships with its transfer, not on its own
    not_so = await _post(client, shop.auth, f"/fulfilment-orders/{leg['id']}/ship",
                         {"carrier": "own", "tracking_number": "T1"}, status=409)
    assert not_so["transfer_id"] == transfer_id
    partial = await client.post(f"{API}/inventory/transfers/{transfer_id}/ship", headers=shop.auth,
                                json={"lines": [{"sku": sku0, "quantity": 2}]})
    assert partial.status_code == 422, partial.text
    shipped = await _post(client, shop.auth, f"/inventory/transfers/{transfer_id}/ship")
    assert shipped["state"] == "in_transit"
    assert await level(session, sku0, shop.warehouse) == (7, 0)  # left the warehouse, nothing held there
    seen = await _order(client, staff, order["id"])
    assert {fo["id"]: fo["state"] for fo in seen["fulfilment_orders"]}[leg["id"]] == "shipped"
    assert seen["state"] == "in_fulfilment"  # the leg to the store is not the customer's delivery

    # a partial receipt: the two units are the order's at once, the third stays in transit
    early = await _post(client, staff, f"/fulfilment-orders/{waiting['id']}/ready", status=409)
    assert early["transfer_id"] == transfer_id
    got = await _post(client, staff, f"/inventory/transfers/{transfer_id}/receive",
                      {"lines": [{"sku": sku0, "quantity": 2}]})
    assert got["state"] == "in_transit" and got["lines"][0]["quantity_in_transit"] == 1
    assert await level(session, sku0, shop.store_a) == (2, 2)
    seen = await _order(client, staff, order["id"])
    fo = {f["id"]: f for f in seen["fulfilment_orders"]}[waiting["id"]]
    assert fo["state"] == "awaiting_transfer" and fo["lines"][0]["received"] == 2
    [receipt] = [e for e in seen["timeline"] if e["kind"] == "transfer.received"]
    assert receipt["data"]["in_transit"] == {sku0: 1} and receipt["data"]["complete"] is False
    assert not await outbox(session, "orders.customer_message", template="ready_for_pickup",
                            fulfilment_order_id=waiting["id"])

    # the rest arrives: ready for pickup, the customer gets the code
    done = await _post(client, staff, f"/inventory/transfers/{transfer_id}/receive")
    assert done["state"] == "received"
    assert await level(session, sku0, shop.store_a) == (3, 3)
    fo = (await client.get(f"{API}/fulfilment-orders/{waiting['id']}", headers=staff)).json()
    assert fo["state"] == "ready_for_pickup" and fo["has_pickup_code"]
    messages = await outbox(session, "orders.customer_message", template="ready_for_pickup", order_id=order["id"])
    assert [m["fulfilment_order_id"] for m in messages] == [waiting["id"]]
    handed = await _post(client, staff, f"/fulfilment-orders/{waiting['id']}/hand-over",
                         {"pickup_code": _code(messages, waiting["id"])})
    assert handed["state"] == "handed_over"
    assert await level(session, sku0, shop.store_a) == (0, 0)

    # the store's own line, then the order is complete
    for move in ("pick", "picked", "ready"):
        await _post(client, staff, f"/fulfilment-orders/{own['id']}/{move}")
    messages = await outbox(session, "orders.customer_message", template="ready_for_pickup", order_id=order["id"])
    await _post(client, staff, f"/fulfilment-orders/{own['id']}/hand-over", {"pickup_code": _code(messages, own["id"])})
    final = await _order(client, shop.auth, order["id"])
    assert final["state"] == "completed"
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds.index("transfer.shipped") < kinds.index("transfer.received") < kinds.index(
        "fulfilment_order.ready_for_pickup")
    assert await level(session, sku1, shop.store_a) == (4, 0)
    await assert_invariants(session)


async def test_ship_to_store_can_be_switched_off_and_a_linked_transfer_is_not_cancelled_under_an_order(
        client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 10}}, settings={"ship_to_store": False})
    refused = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert refused.status_code == 409 and problem(refused)["type"].endswith(":order-unfillable")

    shop = await create_shop(session, stock={"warehouse": {"0": 10}})
    order = await _post(client, shop.auth, "/orders", order_body(
        shop, [(0, 1)], delivery={"method": "curbside", "pickup_location_id": shop.store_b}), status=201)
    leg = next(fo for fo in order["fulfilment_orders"] if fo["delivery_method"] == "ship_to_store")
    blocked = await _post(client, shop.auth, f"/inventory/transfers/{leg['transfer_id']}/cancel", status=409)
    assert set(blocked["fulfilment_order_ids"]) == {fo["id"] for fo in order["fulfilment_orders"]}
    await _post(client, shop.auth, f"/orders/{order['id']}/cancel", {"reason": "changed my mind"})
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 0)
    # the order's cancellation events: the transfer nobody needs is cancelled (once, however often delivered)
    changes = await outbox(session, "orders.status_changed", order_id=order["id"], to_state="cancelled")
    for _twice in range(2):
        for payload in changes:
            await ship_to_store_tasks.cancel_unneeded_transfer(session, Event(
                id=0, topic="orders.status_changed", payload=payload, coalesce_key=None, created_at=clock.now(),
                attempts=1, context=None))
    transfer = (await client.get(f"{API}/inventory/transfers/{leg['transfer_id']}", headers=shop.auth)).json()
    assert transfer["state"] == "cancelled"
    await assert_invariants(session)
