"""Register shifts and sales at the till, through the API: open with a float, sell for cash and card, pay in
and out, close with a count and keep the difference; one open shift per till; associates of the store only."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.factories import create_channel, create_price_list, problem, set_test_price
from tests.integration.orders.helpers import API, associate, create_shop, level

POS = f"{API}/pos"


async def _till(session):
    """The orders test shop plus a POS channel for store A, priced like the webshop (100.00, 19.99, 5.00).
    Store A holds 3 × SKU0 and 5 × SKU2, store B 2 × SKU1, the warehouse 10 of each."""
    shop = await create_shop(session, stock={"warehouse": {"0": 10, "1": 10, "2": 10}, "store_a": {"0": 3, "2": 5},
                                             "store_b": {"1": 2}})
    pos = await create_channel(session, kind="pos", location_ids=[shop.store_a])
    price_list = await create_price_list(session, channel_id=pos)
    for sku, price in shop.prices.items():
        await set_test_price(session, price_list, sku, price)
    return shop, pos


def _sale(shop, lines, *, method="cash", sale_id=None, **extra) -> dict:
    return {"location_id": shop.store_a, "sale_id": sale_id or uuid.uuid4().hex, "payment_method": method,
            "lines": [{"sku": shop.skus[i], "quantity": q} for i, q in lines], **extra}


async def _open(client, shop, auth, float_="200.00"):
    response = await client.post(f"{POS}/shifts", headers=auth, json={"location_id": shop.store_a,
                                                                       "opening_float": float_})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_shift_from_float_to_count_keeps_the_difference(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth)
    assert shift["state"] == "open" and shift["currency"] == "PLN" and shift["expected_cash"] == "200.00"

    cash = await client.post(f"{POS}/sales", headers=shop.auth,
                             json=_sale(shop, [(0, 1), (2, 2)], tendered="150.00"))  # 100 + 2 × 5
    assert cash.status_code == 201, cash.text
    assert cash.json()["total"] == "110.00" and cash.json()["change"] == "40.00"
    card = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 1)], method="card"))
    assert card.status_code == 201 and card.json()["change"] is None
    for kind, amount in (("paid_in", "50.00"), ("paid_out", "20.00"), ("refund", "5.00")):
        moved = await client.post(f"{POS}/shifts/{shift['id']}/cash-movements", headers=shop.auth,
                                  json={"kind": kind, "amount": amount, "reason": "test"})
        assert moved.status_code == 201, moved.text
    current = await client.get(f"{POS}/shifts/current", headers=shop.auth, params={"location_id": shop.store_a})
    assert current.json()["expected_cash"] == "335.00"  # 200 + 110 + 50 − 20 − 5; the card sale is not cash

    bad = await client.post(f"{POS}/shifts/{shift['id']}/close", headers=shop.auth,
                            json={"denominations": {"3.33": 1}})
    assert bad.status_code == 422 and problem(bad)["field"] == "denominations.3.33"
    closed = await client.post(f"{POS}/shifts/{shift['id']}/close", headers=shop.auth,
                               json={"denominations": {"200": 1, "100": 1, "20": 1, "10": 1, "0.50": 2}})
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["state"], body["counted_cash"], body["expected_cash"], body["difference"]) == \
        ("closed", "331.00", "335.00", "-4.00")
    assert body["count_detail"] == {"denominations": {"200": 1, "100": 1, "20": 1, "10": 1, "0.50": 2}}

    report = (await client.get(f"{POS}/shifts/{shift['id']}/report", headers=shop.auth)).json()
    assert report["cash_sales"] == "110.00" and report["paid_out"] == "20.00" and report["cash_refunds"] == "5.00"
    assert {p["method"]: (p["sales"], p["total"]) for p in report["payments"]} == \
        {"cash": (1, "110.00"), "card": (1, "100.00")}
    again = await client.post(f"{POS}/shifts/{shift['id']}/close", headers=shop.auth, json={"counted_cash": "1"})
    assert again.status_code == 409 and problem(again)["type"].endswith("shift-not-open")
    after = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(2, 1)]))
    assert after.status_code == 409 and problem(after)["type"].endswith("shift-not-open")
    none = await client.get(f"{POS}/shifts/current", headers=shop.auth, params={"location_id": shop.store_a})
    assert none.status_code == 204


async def test_one_open_shift_per_till(client, session):
    shop, _pos = await _till(session)
    first = await _open(client, shop, shop.auth)
    second = await client.post(f"{POS}/shifts", headers=shop.auth,
                               json={"location_id": shop.store_a, "opening_float": "10"})
    assert second.status_code == 409 and problem(second)["shift_id"] == first["id"]
    other_till = await client.post(f"{POS}/shifts", headers=shop.auth, json={
        "location_id": shop.store_a, "opening_float": "0", "register_code": "2"})
    assert other_till.status_code == 201 and other_till.json()["register_code"] == "2"
    no_pos = await client.post(f"{POS}/shifts", headers=shop.auth,
                               json={"location_id": shop.store_b, "opening_float": "0"})
    assert no_pos.status_code == 422 and problem(no_pos)["field"] == "location_id"


async def test_a_counter_sale_is_a_completed_pos_order_with_stock_taken_here(client, session):
    shop, pos = await _till(session)
    await _open(client, shop, shop.auth)
    assert await level(session, shop.skus[0], shop.store_a) == (3, 0)
    body = _sale(shop, [(0, 2)], tendered="250")
    sold = await client.post(f"{POS}/sales", headers=shop.auth, json=body)
    assert sold.status_code == 201, sold.text
    order = (await client.get(f"{API}/orders/{sold.json()['order_id']}", headers=shop.auth)).json()
    assert order["channel_id"] == pos and order["delivery_method"] == "counter" and order["state"] == "completed"
    assert order["origin_location_id"] == shop.store_a and order["payment_status"] == "paid"
    assert [f["state"] for f in order["fulfilment_orders"]] == ["handed_over"]
    assert await level(session, shop.skus[0], shop.store_a) == (1, 0)

    again = await client.post(f"{POS}/sales", headers=shop.auth, json=body)  # the till retries the same sale
    assert again.status_code == 200 and again.json()["order_id"] == sold.json()["order_id"]
    assert await level(session, shop.skus[0], shop.store_a) == (1, 0)
    movements = (await session.execute(text("SELECT COUNT(*) FROM pos_cash_movement WHERE order_id = :o"),
                                       {"o": sold.json()["order_id"]})).scalar_one()
    assert movements == 1

    short = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 5)]))
    assert short.status_code == 409 and problem(short)["type"].endswith("order-unfillable")
    too_little = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 1)], tendered="10"))
    assert too_little.status_code == 422 and problem(too_little)["field"] == "tendered"
    card_cash = await client.post(f"{POS}/sales", headers=shop.auth,
                                  json=_sale(shop, [(0, 1)], method="card", tendered="100"))
    assert card_cash.status_code == 422 and problem(card_cash)["field"] == "tendered"


async def test_home_delivery_is_routed_to_another_location_and_paid_at_the_till(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth, float_="0")
    body = _sale(shop, [(1, 3)], customer={"name": "Jan Kowalski", "email": "jan@example.com"},
                 address={"name": "Jan Kowalski", "street": "Długa 1", "postal_code": "80-001", "city": "Gdańsk",
                          "country": "PL"})
    sold = await client.post(f"{POS}/home-deliveries", headers=shop.auth, json=body)
    assert sold.status_code == 201, sold.text
    assert sold.json()["kind"] == "endless_aisle"
    order = (await client.get(f"{API}/orders/{sold.json()['order_id']}", headers=shop.auth)).json()
    assert order["channel_id"] == shop.channel_id and order["delivery_method"] == "ship"
    assert order["origin_location_id"] == shop.store_a and order["state"] == "confirmed"
    assert [f["location_id"] for f in order["fulfilment_orders"]] == [shop.warehouse]  # store A has none of it
    current = (await client.get(f"{POS}/shifts/{shift['id']}", headers=shop.auth)).json()
    assert current["expected_cash"] == order["total"]


async def test_associates_use_the_till_of_their_own_store_only(client, session):
    shop, _pos = await _till(session)
    here = await associate(session, shop.store_a)
    elsewhere = await associate(session, shop.store_b)
    refused = await client.post(f"{POS}/shifts", headers=elsewhere,
                                json={"location_id": shop.store_a, "opening_float": "0"})
    assert refused.status_code == 404
    shift = await _open(client, shop, here)
    assert (await client.get(f"{POS}/shifts/{shift['id']}/report", headers=elsewhere)).status_code == 404
    sale = await client.post(f"{POS}/sales", headers=elsewhere, json=_sale(shop, [(0, 1)]))
    assert sale.status_code == 404
    mine = await client.post(f"{POS}/sales", headers=here, json=_sale(shop, [(0, 1)], method="card"))
    assert mine.status_code == 201, mine.text
    assert (await client.get(f"{POS}/sales/{mine.json()['order_id']}", headers=elsewhere)).status_code == 404
    closed = await client.post(f"{POS}/shifts/{shift['id']}/close", headers=elsewhere, json={"counted_cash": "0"})
    assert closed.status_code == 404


async def test_a_counter_sale_may_take_the_safety_stock_a_promise_leaves_alone(client, session):
    """Safety stock holds units back from what the channels promise; the customer at the counter holds the item,
    so the sale goes through as long as the units are not promised to someone else."""
    shop, _pos = await _till(session)
    await _open(client, shop, shop.auth)
    kept = await client.patch(f"{API}/inventory/levels", headers=shop.auth,
                              json={"sku": shop.skus[0], "location_id": shop.store_a, "safety_stock": 3})
    assert kept.status_code == 200 and kept.json()["available"] == 0, kept.text

    sold = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 2)], method="card"))
    assert sold.status_code == 201, sold.text
    assert await level(session, shop.skus[0], shop.store_a) == (1, 0)

    short = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 2)], method="card"))
    assert short.status_code == 409 and problem(short)["type"].endswith("order-unfillable"), short.text
    # the one unit left on the shelf, not the 0 a channel may promise
    assert problem(short)["lines"] == [{"sku": shop.skus[0], "requested": 2, "available": 1}]
    assert await level(session, shop.skus[0], shop.store_a) == (1, 0)

    # a pickup order at the same store is a promise: the last unit stays for the counter, the warehouse serves it
    pickup = await client.post(f"{API}/orders", headers=shop.auth, json={
        "channel_id": shop.channel_id, "payment_status": "paid", "lines": [{"sku": shop.skus[0], "quantity": 1}],
        "customer": {"name": "Ewa", "email": "ewa@example.com"},
        "delivery": {"method": "ship", "address": {"street": "Długa 1", "postal_code": "80-001", "city": "Gdańsk",
                                                   "country": "PL"}}})
    assert pickup.status_code == 201, pickup.text
    assert [f["location_id"] for f in pickup.json()["fulfilment_orders"]] == [shop.warehouse]

    last = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 1)], method="card"))
    assert last.status_code == 201, last.text
    assert await level(session, shop.skus[0], shop.store_a) == (0, 0)
