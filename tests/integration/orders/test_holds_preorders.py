"""Unpaid marketplace orders hold stock as the channel's stock policy says; a short line whose goods are on
order becomes a pre-order within the variant's cap; payment and cancellation settle both."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.models import UTCDateTime
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, create_shop, integration, level, order_body, outbox


def _import(shop, external_id: str, lines, *, payment_status="pending"):
    return {"channel_id": shop.channel_id, "external_id": external_id, "payment_status": payment_status,
            "buyer": {"name": "Jan Kowalski", "email": "jan@example.com"},
            "delivery": {"method": "ship", "address": {"name": "Jan", "street": "Długa 5", "postal_code": "61-001",
                                                        "city": "Poznań", "country": "PL", "latitude": 52.40,
                                                        "longitude": 16.92}},
            "lines": [{"sku": shop.skus[i], "quantity": q, "unit_price": "10.00"} for i, q in lines]}


async def _import_order(client, shop, external_id, lines, **kw) -> dict:
    r = await client.post(f"{API}/orders/import", headers=shop.auth, json=_import(shop, external_id, lines, **kw))
    assert r.status_code == 201, r.text
    return r.json()["order"]


async def _reservations(session, order_id: int) -> list:
    return (await session.execute(text(
        "SELECT id, state, expires_at, location_id, quantity FROM reservation WHERE reference LIKE :ref "
        "ORDER BY id").columns(expires_at=UTCDateTime()), {"ref": f"order:{order_id}/%"})).all()


async def _pay(client, shop, order_id: int) -> dict:
    r = await client.post(f"{API}/orders/{order_id}/payment", headers=shop.auth, json={"payment_status": "paid"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_unpaid_order_holds_stock_for_the_channels_minutes_and_keeps_it_once_paid(client, session):
    shop = await create_shop(session, settings={"unpaid_hold_minutes": 30})
    before = clock.now()
    order = await _import_order(client, shop, "U-1", [(0, 2)])
    assert order["state"] == "pending_payment"
    [held] = await _reservations(session, order["id"])
    assert held.state == "open" and held.expires_at is not None
    assert timedelta(minutes=29) < held.expires_at - before < timedelta(minutes=31)
    paid = await _pay(client, shop, order["id"])
    assert paid["state"] == "confirmed"
    [kept] = await _reservations(session, order["id"])
    assert (kept.id, kept.state, kept.expires_at) == (held.id, "open", None)
    await assert_invariants(session)


async def test_a_paid_order_with_stock_gets_no_expiry(client, session):
    shop = await create_shop(session, settings={"unpaid_hold_minutes": 30})
    order = await _import_order(client, shop, "P-1", [(0, 1)], payment_status="paid")
    [held] = await _reservations(session, order["id"])
    assert held.expires_at is None and order["lines"][0]["state"] == "allocated"


async def test_a_channel_that_does_not_hold_unpaid_orders_routes_them_when_paid(client, session):
    shop = await create_shop(session, settings={"hold_unpaid": False})
    order = await _import_order(client, shop, "U-2", [(0, 2), (1, 1)])
    assert order["state"] == "pending_payment" and order["fulfilment_orders"] == []
    assert [(x["state"], x["quantity_backordered"]) for x in order["lines"]] == [("awaiting_payment", 2),
                                                                               ("awaiting_payment", 1)]
    assert await _reservations(session, order["id"]) == []
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 0)
    assert await outbox(session, "orders.customer_message", order_id=order["id"], template="line_backordered") == []
    paid = await _pay(client, shop, order["id"])
    assert paid["state"] == "confirmed"
    assert [(x["state"], x["quantity_backordered"]) for x in paid["lines"]] == [("allocated", 0), ("allocated", 0)]
    assert sum(ln["quantity"] for fo in paid["fulfilment_orders"] for ln in fo["lines"]) == 3
    assert [r.state for r in await _reservations(session, order["id"])] == ["open", "open"]
    assert any(e["kind"] == "wave.routed" for e in paid["timeline"])
    await assert_invariants(session)


async def test_a_hold_that_expired_before_the_payment_is_routed_again(client, session):
    shop = await create_shop(session, settings={"unpaid_hold_minutes": 30})
    order = await _import_order(client, shop, "U-3", [(0, 2)])
    [old_fo] = order["fulfilment_orders"]
    assert await inventory_service.expire_holds(session, now=clock.now() + timedelta(minutes=31)) == 1
    assert await level(session, shop.skus[0], old_fo["location_id"]) == (10, 0)
    paid = await _pay(client, shop, order["id"])
    states = {fo["id"]: fo["state"] for fo in paid["fulfilment_orders"]}
    assert states.pop(old_fo["id"]) == "cancelled"
    assert list(states.values()) == ["new"]
    assert paid["lines"][0]["state"] == "allocated" and paid["lines"][0]["quantity_backordered"] == 0
    assert [r.state for r in await _reservations(session, order["id"])] == ["expired", "open"]
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 2)
    await assert_invariants(session)


async def _goods_on_order(session, shop, *, quantity=5, cap=3):
    await inventory_service.add_incoming_stock(session, sku=shop.skus[2], location_id=shop.warehouse,
                                               quantity=quantity, expected_date=date.today() + timedelta(days=7),
                                               actor="tests", reference="PO-1")
    await inventory_service.set_preorder_cap(session, sku=shop.skus[2], cap=cap)
    await session.commit()


async def test_a_short_line_with_goods_on_order_becomes_a_preorder_within_the_cap(client, session):
    shop = await create_shop(session, settings={"promise_incoming": True, "unfillable": "reject"},
                             stock={"warehouse": {"0": 5}})
    await _goods_on_order(session, shop)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 1), (2, 2)]))
    assert r.status_code == 201, r.text
    order = r.json()
    line = order["lines"][1]
    assert (line["state"], line["quantity_backordered"], line["quantity_cancelled"]) == ("preordered", 2, 0)
    assert order["total"] != "0.00" and (await inventory_service.preorder_cap(session, sku=shop.skus[2])).preordered == 2
    [intent] = await outbox(session, "orders.customer_message", order_id=order["id"], template="line_backordered")
    assert intent["data"]["quantity"] == 2
    # the cap (3) leaves 1: two more units are not a pre-order, and this channel rejects what it cannot fill
    refused = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(2, 2)]))
    assert refused.status_code == 409 and problem(refused)["type"].endswith(":order-unfillable")
    assert (await inventory_service.preorder_cap(session, sku=shop.skus[2])).preordered == 2


async def test_a_cancelled_preorder_gives_its_units_back_to_the_cap(client, session):
    shop = await create_shop(session, settings={"promise_incoming": True}, stock={})
    await _goods_on_order(session, shop)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(2, 3)]))
    order = r.json()
    assert order["lines"][0]["state"] == "preordered"
    assert (await inventory_service.preorder_cap(session, sku=shop.skus[2])).preordered == 3
    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                                  json={"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert (await inventory_service.preorder_cap(session, sku=shop.skus[2])).preordered == 0


async def test_without_promise_incoming_a_short_line_is_a_backorder(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={})
    await _goods_on_order(session, shop)
    order = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(2, 1)]))).json()
    assert order["lines"][0]["state"] == "backordered"
    assert (await inventory_service.preorder_cap(session, sku=shop.skus[2])).preordered == 0


async def test_integration_accounts_import_unpaid_orders_too(client, session):
    shop = await create_shop(session, settings={"unpaid_hold_minutes": 10})
    bot = await integration(session, shop.channel_id)
    r = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "U-9", [(1, 1)]))
    assert r.status_code == 201, r.text
    [held] = await _reservations(session, r.json()["order"]["id"])
    assert held.expires_at is not None
