"""Orders that reached the customer (shipped and delivered, or handed over in store), ready to come back."""

from __future__ import annotations

from tests.factories import create_location
from tests.integration.orders.helpers import API, order_body, pickup_code, ship_to

STORE_CAPS = {"ships_orders": True, "offers_pickup": True, "sells_pos": True, "accepts_returns": True}


async def place(client, shop, lines, *, headers=None, status=201, **kw) -> dict:
    r = await client.post(f"{API}/orders", headers=headers or shop.auth, json=order_body(shop, lines, **kw))
    assert r.status_code == status, r.text
    return r.json()


async def act(client, auth, path: str, json=None, status=200) -> dict:
    r = await client.post(f"{API}{path}", headers=auth, json=json)
    assert r.status_code == status, r.text
    return r.json()


async def delivered_online_order(client, shop, lines, **kw) -> dict:
    """Bought online, shipped from the warehouse (Poznań) and delivered: the order is completed."""
    order = await place(client, shop, lines, delivery=ship_to(52.40, 16.92), **kw)
    [fo] = order["fulfilment_orders"]
    assert fo["location_id"] == shop.warehouse
    for move in ("pick", "picked"):
        await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/{move}")
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/ship", {"carrier": "DPD", "tracking_number": "T1"})
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/deliver")
    return await get_order(client, shop, order["id"])


async def collected_order(client, session, shop, lines, store: int, **kw) -> dict:
    """Bought online, picked up at ``store`` (handed over with the code): the order is completed."""
    order = await place(client, shop, lines, delivery={"method": "pickup", "pickup_location_id": store}, **kw)
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked", "ready"):
        await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/{move}")
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/hand-over",
              {"pickup_code": await pickup_code(session, order["id"])})
    return await get_order(client, shop, order["id"])


async def get_order(client, shop, order_id: int) -> dict:
    r = await client.get(f"{API}/orders/{order_id}", headers=shop.auth)
    assert r.status_code == 200, r.text
    return r.json()


async def store_c(session) -> int:
    """A store that accepts returns but is no source of the shop's channel (it sold nothing online)."""
    return await create_location(session, capabilities=STORE_CAPS, name="Store C", latitude=51.1, longitude=17.03)


async def returns_centre(session) -> int:
    """A warehouse that takes returns by post."""
    return await create_location(session, kind="warehouse", capabilities={"accepts_returns": True},
                                 name="Returns centre", latitude=52.41, longitude=16.93)


def line_of(order: dict, sku: str) -> int:
    return next(ln["id"] for ln in order["lines"] if ln["sku"] == sku)


async def inspected_return(client, shop, order, *, location_id: int, condition: str = "new",
                           disposition: str = "restock", reason: str = "defective") -> dict:
    """The order's first line, one unit, taken back at ``location_id``: authorised, received and inspected."""
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": location_id, "authorise": True,
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": reason}]}, status=201)
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    return await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": condition, "disposition": disposition}]})
