"""The shipping charge carries VAT like the goods it delivers: at their rate, split over several rates by the
lines' taxable bases; inside the shipping on a channel whose prices include tax, on top of it on a net channel.
Placed, read back, charged less when a line is dropped, refunded with its tax."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

from omniretail.inventory import service as inventory_service
from tests.factories import (
    bearer,
    create_channel,
    create_location,
    create_price_list,
    create_sku,
    create_user_with_token,
    set_test_price,
)
from tests.integration.orders.helpers import API, order_body, ship_to

WAREHOUSE_CAPS = {"ships_orders": True, "accepts_returns": True}
STORE_CAPS = {"ships_orders": True, "offers_pickup": True, "accepts_returns": True}


@dataclass
class Shop:
    channel_id: int
    warehouse: int
    store: int
    skus: list[str]
    auth: dict[str, str]


async def _shop(session, *, gross: bool, settings: dict | None = None) -> Shop:
    """SKU0 at 100.00 and 23 % VAT in the warehouse, SKU1 at 50.00 and 8 % in the store; prices gross or net."""
    warehouse = await create_location(session, kind="warehouse", capabilities=WAREHOUSE_CAPS, name="Warehouse",
                                      latitude=52.40, longitude=16.92)
    store = await create_location(session, capabilities=STORE_CAPS, name="Store", latitude=52.2297,
                                  longitude=21.0122)
    channel_id = await create_channel(session, location_ids=[warehouse, store], prices_include_tax=gross,
                                      settings=settings or {})
    price_list = await create_price_list(session, channel_id=channel_id)
    skus = []
    for price, rate in (("100.00", "0.23"), ("50.00", "0.08")):
        _variant_id, sku = await create_sku(session)
        await session.execute(text("UPDATE product SET vat_rate = :rate WHERE id = "
                                   "(SELECT product_id FROM variant WHERE sku = :sku)"), {"rate": rate, "sku": sku})
        await set_test_price(session, price_list, sku, price)
        skus.append(sku)
    await inventory_service.receive_stock(session, location_id=warehouse, lines=[(skus[0], 10)], actor="tests")
    await inventory_service.receive_stock(session, location_id=store, lines=[(skus[1], 10)], actor="tests")
    await session.commit()
    _uid, token = await create_user_with_token(session, role="owner")
    return Shop(channel_id, warehouse, store, skus, bearer(token))


async def _place(client, shop: Shop, lines, **extra) -> dict:
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, lines, delivery=extra.pop("delivery", ship_to(52.40, 16.92)), **extra))
    assert r.status_code == 201, r.text
    order = r.json()
    again = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    figures = ("subtotal", "discount", "tax", "shipping", "shipping_tax", "total")
    assert {k: again[k] for k in figures} == {k: order[k] for k in figures}  # as placed, as read back
    return order


def _figures(order: dict) -> tuple:
    return order["subtotal"], order["shipping"], order["shipping_tax"], order["tax"], order["total"]


async def _act(client, auth, path: str, json=None, status=200) -> dict:
    r = await client.post(f"{API}{path}", headers=auth, json=json)
    assert r.status_code == status, r.text
    return r.json()


async def test_gross_channel_shipping_carries_its_tax_inside(client, session):
    shop = await _shop(session, gross=True)
    one = await _place(client, shop, [(0, 1)], shipping_amount="10.00")
    # 100.00 carries 18.70 of VAT, 10.00 of shipping 1.87 (10.00 − 10.00 / 1.23); the total stays 110.00
    assert _figures(one) == ("100.00", "10.00", "1.87", "20.57", "110.00")
    assert one["lines"][0]["tax"] == "18.70" and one["prices_include_tax"] is True

    two = await _place(client, shop, [(0, 1), (1, 1)], shipping_amount="9.99")
    # taxable bases 81.30 (23 %) and 46.30 (8 %): 9.99 splits 6.37 + 3.62, taxed 1.19 + 0.27
    assert [ln["tax"] for ln in two["lines"]] == ["18.70", "3.70"]
    assert _figures(two) == ("150.00", "9.99", "1.46", "23.86", "159.99")

    collected = await _place(client, shop, [(1, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store})
    assert _figures(collected) == ("50.00", "0.00", "0.00", "3.70", "50.00")  # no shipping, no tax on it


async def test_net_channel_shipping_gets_its_tax_on_top(client, session):
    shop = await _shop(session, gross=False, settings={"shipping_fee": "10.00"})
    one = await _place(client, shop, [(0, 1)])  # the channel's shipping fee
    # 100.00 + 23.00 VAT, shipping 10.00 + 2.30 VAT: 135.30
    assert _figures(one) == ("100.00", "10.00", "2.30", "25.30", "135.30")
    assert one["lines"][0]["total"] == "123.00" and one["prices_include_tax"] is False

    two = await _place(client, shop, [(0, 1), (1, 1)], shipping_amount="9.99")
    # bases 100.00 and 50.00: 9.99 splits 6.66 + 3.33, taxed 1.53 + 0.27
    assert [ln["tax"] for ln in two["lines"]] == ["23.00", "4.00"]
    assert _figures(two) == ("150.00", "9.99", "1.80", "28.80", "188.79")
    assert sum(map(Decimal, (two["subtotal"], two["shipping"], two["tax"]))) == Decimal(two["total"])

    free = await _place(client, shop, [(0, 1)], shipping_amount="0")
    assert _figures(free) == ("100.00", "0.00", "0.00", "23.00", "123.00")


async def test_a_dropped_line_moves_the_shipping_to_the_rates_left(client, session):
    """Not paid yet: the rest of a partly shipped order is cancelled and the order charged less — the shipping's
    tax is shared out again over the line that stays."""
    shop = await _shop(session, gross=False)
    order = await _place(client, shop, [(0, 1), (1, 1)], shipping_amount="9.99",
                         payment_status="cash_on_delivery")
    assert _figures(order) == ("150.00", "9.99", "1.80", "28.80", "188.79")
    by_location = {f["location_id"]: f for f in order["fulfilment_orders"]}
    fo = by_location[shop.warehouse]["id"]
    for move in ("pick", "picked"):
        await _act(client, shop.auth, f"/fulfilment-orders/{fo}/{move}")
    await _act(client, shop.auth, f"/fulfilment-orders/{fo}/ship", {"carrier": "DPD", "tracking_number": "T-1"})
    after = await _act(client, shop.auth, f"/orders/{order['id']}/cancel", {"reason": "the rest is not wanted"})
    assert after["lines"][1]["total"] == "0.00"
    # all of the 9.99 at 23 % now: 2.30 (2.2977)
    assert _figures(after) == ("100.00", "9.99", "2.30", "25.30", "135.29")


async def test_a_refund_with_the_shipping_gives_back_its_tax(client, session):
    shop = await _shop(session, gross=False)
    order = await _place(client, shop, [(0, 1)], shipping_amount="10.00")
    assert order["total"] == "135.30"
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked"):
        await _act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/{move}")
    await _act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/ship", {"carrier": "DPD", "tracking_number": "T"})
    await _act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/deliver")
    ret = await _act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": shop.warehouse, "authorise": True,
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": "changed_mind"}]}, status=201)
    assert ret["amount"] == "123.00"
    await _act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await _act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"}]})
    done = await _act(client, shop.auth, f"/returns/{ret['id']}/refund", {"include_shipping": True}, status=201)
    # the shipping as paid: 10.00 and its 2.30 of VAT — everything paid for the order comes back
    assert (done["state"], done["refunded"], done["shipping_refunded"]) == ("refunded", "135.30", "12.30")
    assert [(f["amount"], f["shipping"]) for f in done["refunds"]] == [("135.30", "12.30")]
    read = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    [entry] = [e for e in read["timeline"] if e["kind"] == "refund.created"]
    assert (entry["data"]["shipping"], entry["data"]["shipping_tax"]) == ("12.30", "2.30")
    assert read["payment_status"] == "refunded"
