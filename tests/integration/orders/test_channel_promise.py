"""A native order takes no more of a variant than its channel shows: the stock policy (buffer, cap, keep last,
steps) that shapes availability also bounds placement. A marketplace import is already sold and is filled from
whatever stock there is; a counter sale is not a promise at all."""

from __future__ import annotations

import json

from sqlalchemy import text

from tests.factories import problem
from tests.integration.orders.helpers import API, create_shop, level, order_body
from tests.integration.orders.test_holds_preorders import _import


async def test_a_native_order_asking_more_than_the_channel_shows_is_refused_with_what_it_shows(client, session):
    # SKU0: 10 in the warehouse, 3 at store A; the channel shows 13 − 2 held back = 11
    shop = await _shop(session, {"buffer": 2})
    shown = await client.get(f"{API}/inventory/availability/{shop.skus[0]}", headers=shop.auth,
                             params={"channel": await _code(session, shop.channel_id)})
    assert shown.status_code == 200 and shown.json()["promised"] == 11, shown.text

    refused = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 12)]))
    assert refused.status_code == 409 and problem(refused)["type"].endswith("order-unfillable"), refused.text
    assert problem(refused)["lines"] == [{"sku": shop.skus[0], "requested": 12, "available": 11}]
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 0)  # nothing held

    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 11)]))
    assert placed.status_code == 201, placed.text
    assert sum(ln["quantity"] for fo in placed.json()["fulfilment_orders"] for ln in fo["lines"]) == 11


async def test_the_cap_bounds_each_order_and_a_backorder_channel_backorders_the_rest(client, session):
    shop = await _shop(session, {"cap": 4}, settings={"unfillable": "backorder"})
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 6)]))
    assert placed.status_code == 201, placed.text
    [line] = placed.json()["lines"]
    assert line["quantity_backordered"] == 2
    assert sum(ln["quantity"] for fo in placed.json()["fulfilment_orders"] for ln in fo["lines"]) == 4


async def test_a_marketplace_import_is_filled_from_the_stock_there_is(client, session):
    shop = await _shop(session, {"cap": 4}, kind="marketplace_allegro")
    imported = await client.post(f"{API}/orders/import", headers=shop.auth,
                                 json=_import(shop, "MP-1", [(0, 6)], payment_status="paid"))
    assert imported.status_code == 201, imported.text
    order = imported.json()["order"]
    assert order["lines"][0]["quantity_backordered"] == 0
    assert sum(ln["quantity"] for fo in order["fulfilment_orders"] for ln in fo["lines"]) == 6


async def _shop(session, policy: dict, **kw):
    shop = await create_shop(session, **kw)
    await session.execute(text("UPDATE channel SET stock_policy = :p WHERE id = :c"),
                          {"p": json.dumps(policy), "c": shop.channel_id})
    await session.commit()
    return shop


async def _code(session, channel_id: int) -> str:
    return (await session.execute(text("SELECT code FROM channel WHERE id = :c"), {"c": channel_id})).scalar_one()
