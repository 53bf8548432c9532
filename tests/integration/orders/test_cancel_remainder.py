"""Cancelling the rest of an order that has partly gone out: what shipped stays, the rest is cancelled,
released, refunded and told to the customer."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import problem
from tests.integration.orders.helpers import API, create_shop, level, order_body, outbox, ship_to
from tests.integration.web.conftest import HTML, csrf_from, sign_in


async def _ship(client, auth, fo_id: int) -> None:
    for move in ("pick", "picked"):
        assert (await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=auth)).status_code == 200
    shipped = await client.post(f"{API}/fulfilment-orders/{fo_id}/ship", headers=auth,
                                json={"carrier": "DPD", "tracking_number": "T-1"})
    assert shipped.status_code == 200, shipped.text


async def test_the_rest_of_a_partly_shipped_backordered_order_can_be_cancelled(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"},
                             stock={"warehouse": {"0": 6, "1": 5}})
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 10), (1, 2)], delivery=ship_to(52.40, 16.92), payment_status="paid"))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    backordered = order["lines"][0]
    assert backordered["quantity_backordered"] == 4
    [fo] = order["fulfilment_orders"]
    await _ship(client, shop.auth, fo["id"])
    assert (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["state"] \
        == "partially_fulfilled"

    cancel = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                               json={"reason": "customer gave up waiting"})
    assert cancel.status_code == 200, cancel.text
    after = cancel.json()
    assert after["state"] == "fulfilled"
    line = after["lines"][0]
    assert (line["quantity_cancelled"], line["quantity_backordered"]) == (4, 0)
    assert after["lines"][1]["quantity_cancelled"] == 0  # shipped in full: stays
    refunds = (await session.execute(text("SELECT amount_minor FROM refund WHERE order_id = :o"),
                                     {"o": order["id"]})).scalars().all()
    assert refunds == [40000]  # 4 × 100.00 paid and not delivered
    told = await outbox(session, "orders.customer_message", template="line_cancelled", order_id=order["id"])
    assert [m["data"]["quantity"] for m in told] == [4]
    assert await level(session, shop.skus[0], shop.warehouse) == (0, 0)  # the 6 shipped; nothing held

    again = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth, json={"reason": "again"})
    assert again.status_code == 409 and problem(again)["allowed"] == ["completed"]


async def test_open_fulfilment_orders_of_a_partly_shipped_order_are_cancelled_and_released(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 1}, "store_a": {"1": 1}})
    order = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1), (1, 1)], delivery=ship_to(52.40, 16.92), payment_status="cash_on_delivery"))).json()
    by_location = {f["location_id"]: f for f in order["fulfilment_orders"]}
    await _ship(client, shop.auth, by_location[shop.warehouse]["id"])
    assert await level(session, shop.skus[1], shop.store_a) == (1, 1)
    cancel = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                               json={"reason": "the rest is not wanted"})
    assert cancel.status_code == 200, cancel.text
    after = cancel.json()
    states = {f["location_id"]: f["state"] for f in after["fulfilment_orders"]}
    assert (after["state"], states[shop.warehouse], states[shop.store_a]) == ("fulfilled", "shipped", "cancelled")
    assert await level(session, shop.skus[1], shop.store_a) == (1, 0)  # released
    # not paid: the order is charged less instead of refunded
    assert (after["lines"][1]["total"], after["total"]) == ("0.00", "100.00")


async def test_the_back_office_offers_to_cancel_the_rest(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={"warehouse": {"0": 1}})
    order = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 3)], delivery=ship_to(52.40, 16.92), payment_status="paid"))).json()
    await _ship(client, shop.auth, order["fulfilment_orders"][0]["id"])
    await sign_in(client, session, role="manager")
    page = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
    assert "Cancel the rest of the order" in page.text
    done = await client.post(f"/backoffice/orders/{order['id']}/cancel", headers=HTML,
                             data={"csrf_token": csrf_from(page), "reason": "no longer needed"})
    assert done.status_code == 303, done.text
    after = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert (after["state"], after["lines"][0]["quantity_cancelled"]) == ("fulfilled", 2)
