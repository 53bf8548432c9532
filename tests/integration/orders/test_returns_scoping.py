"""Who may take what back where: a store associate returns an order from any channel or store at THEIR store —
reading that order's lines through an exact identifier, never browsing other stores' orders — and cannot
receive, refund or see returns at another store."""

from __future__ import annotations

from tests.factories import problem
from tests.integration.orders.helpers import API, associate, create_shop, integration, level
from tests.integration.orders.returns_helpers import act, delivered_online_order, line_of, store_c


async def test_an_associate_takes_back_an_order_sold_elsewhere_at_their_own_store(client, session):
    shop = await create_shop(session)
    order = await delivered_online_order(client, shop, [(0, 1), (1, 1)])  # bought online, shipped from the warehouse
    c = await store_c(session)
    clerk_c, clerk_b = await associate(session, c), await associate(session, shop.store_b)

    # store C cannot browse or open the order …
    assert (await client.get(f"{API}/orders", headers=clerk_c)).json()["items"] == []
    assert (await client.get(f"{API}/orders", headers=clerk_c, params={"number": order["number"]})).json()[
        "items"] == []
    assert (await client.get(f"{API}/orders/{order['id']}", headers=clerk_c)).status_code == 404
    browse = await client.get(f"{API}/returns/orders", headers=clerk_c)
    assert browse.status_code == 422
    # … but with the number from the customer's receipt (or their e-mail) sees what may come back, and no more
    [found] = (await client.get(f"{API}/returns/orders", headers=clerk_c, params={"number": order["number"]})).json()
    assert found["order_id"] == order["id"] and found["customer_name"] == "Anna Nowak"
    assert [(ln["sku"], ln["delivered"], ln["returnable"]) for ln in found["lines"]] == [
        (shop.skus[0], 1, 1), (shop.skus[1], 1, 1)]
    assert not {"contact", "shipping_address", "timeline", "payment_status"} & set(found)
    by_email = (await client.get(f"{API}/returns/orders", headers=clerk_c, params={"email": "anna@example.com"})).json()
    assert [o["order_id"] for o in by_email] == [order["id"]]

    lines = [{"order_line_id": line_of(order, shop.skus[0]), "quantity": 1, "reason": "wrong_size"}]
    for proof in ({}, {"order_number": "WRONG-1"}, {"order_number": order["number"], "location_id": shop.store_b}):
        denied = await client.post(f"{API}/orders/{order['id']}/returns", headers=clerk_c,
                                   json={"lines": lines, "authorise": True, **proof})
        assert denied.status_code == 404, proof
    ret = await act(client, clerk_c, f"/orders/{order['id']}/returns",
                    {"lines": lines, "authorise": True, "order_number": order["number"].lower()}, status=201)
    assert (ret["state"], ret["location_id"]) == ("authorised", c)
    rid = ret["id"]

    # store C's associate cannot receive it at store B …
    at_b = await client.post(f"{API}/returns/{rid}/receive", headers=clerk_c, json={"location_id": shop.store_b})
    assert at_b.status_code == 403 and problem(at_b)["field"] == "location_id"
    # … and store B's associate does not even see it, with or without a location
    assert (await client.get(f"{API}/returns/{rid}", headers=clerk_b)).status_code == 404
    for body in ({}, {"location_id": shop.store_b}, {"location_id": c, "order_number": order["number"]}):
        assert (await client.post(f"{API}/returns/{rid}/receive", headers=clerk_b, json=body)).status_code == 404
    assert (await client.get(f"{API}/returns", headers=clerk_b)).json()["items"] == []
    # the customer's receipt opens that order's returns to B (to receive it if they bring it there instead)
    opened = (await client.get(f"{API}/returns", headers=clerk_b, params={"order_number": order["number"]})).json()
    assert [r["id"] for r in opened["items"]] == [rid]

    received = await act(client, clerk_c, f"/returns/{rid}/receive", {})
    assert received["location_id"] == c
    await act(client, clerk_c, f"/returns/{rid}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"}]})
    assert await level(session, shop.skus[0], c) == (1, 0)  # the stock grows where it came back
    elsewhere = await client.post(f"{API}/returns/{rid}/refund", headers=clerk_c,
                                  json={"method": "cash", "location_id": shop.store_b})
    assert elsewhere.status_code == 403
    cash = await act(client, clerk_c, f"/returns/{rid}/refund", {"method": "cash"}, status=201)
    assert (cash["state"], cash["refunds"][0]["location_id"], cash["refunds"][0]["method"]) == ("refunded", c, "cash")
    assert [r["id"] for r in (await client.get(f"{API}/returns", headers=clerk_c)).json()["items"]] == [rid]
    # still no window into the order itself
    assert (await client.get(f"{API}/orders/{order['id']}", headers=clerk_c)).status_code == 404


async def test_a_walk_in_with_the_receipt_is_received_at_the_store_it_came_to(client, session):
    shop = await create_shop(session)
    order = await delivered_online_order(client, shop, [(1, 1)])
    # the customer asked online to send it back to store A, then brought it to store B
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a, "authorise": True,
                    "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": "changed_mind"}]},
                    status=201)
    clerk_b = await associate(session, shop.store_b)
    blind = await client.post(f"{API}/returns/{ret['id']}/receive", headers=clerk_b, json={})
    assert blind.status_code == 404
    received = await act(client, clerk_b, f"/returns/{ret['id']}/receive", {"order_number": order["number"]})
    assert (received["state"], received["location_id"]) == ("received", shop.store_b)
    assert (await client.get(f"{API}/returns/{ret['id']}", headers=clerk_b)).status_code == 200


async def test_integrations_see_only_their_channels_returns(client, session):
    shop = await create_shop(session)
    other = await create_shop(session)
    order = await delivered_online_order(client, shop, [(2, 1)])
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": "other"}]},
                    status=201)
    own, foreign = await integration(session, shop.channel_id), await integration(session, other.channel_id)
    assert (await client.get(f"{API}/returns/{ret['id']}", headers=own)).status_code == 200
    assert (await client.get(f"{API}/returns/{ret['id']}", headers=foreign)).status_code == 404
    assert (await client.get(f"{API}/returns/orders", headers=foreign, params={"number": order["number"]})).json() == []
    assert (await client.get(f"{API}/returns", headers=foreign)).json()["items"] == []
    assert (await client.post(f"{API}/returns/{ret['id']}/authorise", headers=foreign)).status_code == 404
    assert (await client.post(f"{API}/returns/{ret['id']}/authorise", headers=own)).status_code == 200
