"""Gaps found exploring the order flows through the API: cancelling one fulfilment order of several, a pending
order's only fulfilment order, a ship-to-store order's pickup, a marketplace revision that reports the payment,
and the value of a return after part of a paid line was cancelled and refunded."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.orders.helpers import API, create_shop, integration, level, outbox, ship_to
from tests.integration.orders.returns_helpers import act, get_order, place


async def _refunds(session, order_id: int) -> list[int]:
    return list((await session.execute(text("SELECT amount_minor FROM refund WHERE order_id = :o ORDER BY id"),
                                       {"o": order_id})).scalars().all())


async def test_cancelling_one_fulfilment_order_of_several_takes_its_units_off_and_refunds_them(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 1}, "store_a": {"1": 1}})
    order = await place(client, shop, [(0, 1), (1, 1)], delivery=ship_to(52.40, 16.92), payment_status="paid")
    by_location = {f["location_id"]: f for f in order["fulfilment_orders"]}
    gone = by_location[shop.store_a]
    after = await act(client, shop.auth, f"/fulfilment-orders/{gone['id']}/cancel", {"reason": "not found"})
    assert after["state"] == "cancelled"
    assert await level(session, shop.skus[1], shop.store_a) == (1, 0)  # released
    now = await get_order(client, shop, order["id"])
    assert now["state"] == "confirmed"  # the warehouse's part still comes
    kept, dropped = now["lines"]
    assert (kept["quantity_cancelled"], kept["state"]) == (0, "allocated")
    assert (dropped["quantity_cancelled"], dropped["state"]) == (1, "cancelled")
    assert await _refunds(session, order["id"]) == [1999]  # paid for and never coming
    told = [m["template"] for m in await outbox(session, "orders.customer_message", order_id=order["id"])]
    assert "order_cancelled" not in told  # the order is not cancelled: the customer is told of the line
    assert told.count("line_cancelled") == 1 and "refunded" in told


async def test_cancelling_the_last_open_fulfilment_order_cancels_the_order_and_its_lines(client, session):
    shop = await create_shop(session)
    order = await place(client, shop, [(0, 2)], delivery=ship_to(52.40, 16.92), payment_status="paid")
    [fo] = order["fulfilment_orders"]
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/cancel", {"reason": "no longer wanted"})
    now = await get_order(client, shop, order["id"])
    assert (now["state"], now["cancel_reason"]) == ("cancelled", "no longer wanted")
    assert [(ln["state"], ln["quantity_cancelled"]) for ln in now["lines"]] == [("cancelled", 2)]
    told = [m["template"] for m in await outbox(session, "orders.customer_message", order_id=order["id"])]
    assert "line_cancelled" not in told and "order_cancelled" in told and "refunded" in told
    assert await _refunds(session, order["id"]) == [20000] and now["payment_status"] == "refunded"


async def test_a_pending_order_whose_only_fulfilment_order_is_cancelled_is_cancelled(client, session):
    shop = await create_shop(session)
    order = await place(client, shop, [(0, 2)], delivery=ship_to(52.40, 16.92), payment_status="pending")
    assert order["state"] == "pending_payment"
    [fo] = order["fulfilment_orders"]
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/cancel", {"reason": "fraud check failed"})
    now = await get_order(client, shop, order["id"])
    assert now["state"] == "cancelled"
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 0)
    # a payment arriving afterwards does not bring an order with nothing to fulfil back to life
    late = await client.post(f"{API}/orders/{order['id']}/payment", headers=shop.auth,
                             json={"payment_status": "paid"})
    assert late.status_code == 200, late.text
    assert late.json()["state"] == "cancelled"


async def test_cancelling_a_ship_to_store_pickup_cancels_its_leg_and_releases_the_source(client, session):
    shop = await create_shop(session, stock={"warehouse": {"2": 5}})
    order = await place(client, shop, [(2, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    methods = {f["delivery_method"]: f for f in order["fulfilment_orders"]}
    assert set(methods) == {"ship_to_store", "pickup"}
    assert await level(session, shop.skus[2], shop.warehouse) == (5, 1)
    await act(client, shop.auth, f"/fulfilment-orders/{methods['pickup']['id']}/cancel", {"reason": "changed mind"})
    now = await get_order(client, shop, order["id"])
    assert now["state"] == "cancelled"
    assert {f["delivery_method"]: f["state"] for f in now["fulfilment_orders"]} == {
        "ship_to_store": "cancelled", "pickup": "cancelled"}
    assert await level(session, shop.skus[2], shop.warehouse) == (5, 0)  # nothing held for nobody


async def test_a_revision_reporting_the_payment_confirms_a_pending_import(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    body = {"channel_id": shop.channel_id, "external_id": "P-1", "revision": 1, "payment_status": "pending",
            "delivery": {"method": "ship", "address": {"name": "Jan", "street": "Długa 5", "postal_code": "61-001",
                                                        "city": "Poznań", "country": "PL"}},
            "buyer": {"name": "Jan Kowalski", "email": "jan@example.com"},
            "lines": [{"sku": shop.skus[0], "quantity": 1, "unit_price": "99.00"}]}
    first = await client.post(f"{API}/orders/import", headers=bot, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["order"]["state"] == "pending_payment"
    paid = await client.post(f"{API}/orders/import", headers=bot, json={**body, "revision": 2,
                                                                       "payment_status": "paid"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["revision_applied"] and paid.json()["not_applied"] == []
    order = paid.json()["order"]
    assert (order["state"], order["payment_status"]) == ("confirmed", "paid")
    again = await client.post(f"{API}/orders/import", headers=bot, json={**body, "revision": 2,
                                                                        "payment_status": "paid"})
    assert again.status_code == 200 and not again.json()["revision_applied"]
    confirmed = await outbox(session, "orders.customer_message", template="order_confirmed",
                             order_id=order["id"])
    assert len(confirmed) == 1
    # a payment status the order cannot take (paid → pending) is reported, not applied
    back = await client.post(f"{API}/orders/import", headers=bot, json={**body, "revision": 3,
                                                                       "payment_status": "pending"})
    assert back.status_code == 200, back.text
    assert back.json()["not_applied"] == ["payment"]
    assert back.json()["order"]["payment_status"] == "paid"


async def test_a_return_after_a_paid_partial_cancellation_is_worth_what_the_units_cost(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={"warehouse": {"0": 6}})
    order = await place(client, shop, [(0, 10)], delivery=ship_to(52.40, 16.92), payment_status="paid")
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked"):
        await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/{move}")
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/ship", {"carrier": "DPD", "tracking_number": "T"})
    await act(client, shop.auth, f"/orders/{order['id']}/cancel", {"reason": "gave up waiting"})
    assert await _refunds(session, order["id"]) == [40000]  # the 4 never sent
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/deliver")
    line_id = order["lines"][0]["id"]
    returnable = (await client.get(f"{API}/returns/orders", headers=shop.auth,
                                   params={"number": order["number"]})).json()
    [entry] = [x for x in returnable if x["order_id"] == order["id"]] if isinstance(returnable, list) else [
        x for x in returnable["items"] if x["order_id"] == order["id"]]
    assert entry["lines"][0]["value_per_unit"] == "100.00"
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns",
                    {"lines": [{"order_line_id": line_id, "quantity": 3, "reason": "changed_mind"}]}, status=201)
    assert ret["amount"] == "300.00"
    rest = await act(client, shop.auth, f"/orders/{order['id']}/returns",
                     {"lines": [{"order_line_id": line_id, "quantity": 3, "reason": "changed_mind"}]}, status=201)
    assert rest["amount"] == "300.00"  # the six units sent were worth 600.00 together


async def test_a_paid_order_cancelled_before_anything_went_out_is_refunded_in_full(client, session):
    shop = await create_shop(session, settings={"shipping_fee": "15.00"},
                             stock={"warehouse": {"0": 5}, "store_b": {"1": 2}})
    order = await place(client, shop, [(0, 1), (1, 1)], delivery=ship_to(52.40, 16.92), payment_status="paid")
    assert order["total"] == "134.99"  # 100.00 + 19.99 + 15.00 shipping
    # store B's part cancelled first: its line's 19.99 back; then the whole order: the rest, shipping included
    by_location = {f["location_id"]: f for f in order["fulfilment_orders"]}
    await act(client, shop.auth, f"/fulfilment-orders/{by_location[shop.store_b]['id']}/cancel",
              {"reason": "not found"})
    assert await _refunds(session, order["id"]) == [1999]
    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                                  json={"reason": "customer changed their mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["payment_status"]) == ("cancelled", "refunded")
    assert await _refunds(session, order["id"]) == [1999, 11500]
    told = [m["template"] for m in await outbox(session, "orders.customer_message", order_id=order["id"])]
    assert "order_cancelled" in told and "refunded" in told
    again = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth, json={"reason": "again"})
    assert again.status_code == 409
    assert sum(await _refunds(session, order["id"])) == 13499  # nothing paid back twice


async def test_an_unpaid_order_cancelled_is_not_refunded(client, session):
    shop = await create_shop(session)
    order = await place(client, shop, [(0, 1)], delivery=ship_to(52.40, 16.92), payment_status="pending")
    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth, json={"reason": "x"})
    assert cancelled.status_code == 200 and cancelled.json()["payment_status"] == "pending"
    assert await _refunds(session, order["id"]) == []


async def test_an_order_is_found_by_the_email_it_came_with_when_its_buyer_was_matched_by_phone(client, session):
    shop = await create_shop(session)
    first = await place(client, shop, [(0, 1)], delivery=ship_to(52.40, 16.92),
                        customer={"name": "Ola", "email": "ola@example.com", "phone": "+48 600 100 200"})
    second = await place(client, shop, [(1, 1)], delivery=ship_to(52.40, 16.92),
                         customer={"name": "Ola", "email": "ola.work@example.com", "phone": "600 100 200"})
    assert first["customer_id"] == second["customer_id"]  # the same phone: one profile, its e-mail kept
    found = await client.get(f"{API}/returns/orders", headers=shop.auth, params={"email": "Ola.Work@example.com"})
    assert found.status_code == 200 and second["id"] in [o["order_id"] for o in found.json()], found.text
    listed = await client.get(f"{API}/orders", headers=shop.auth, params={"email": "ola.work@example.com"})
    assert second["id"] in [o["id"] for o in listed.json()["items"]], listed.text
