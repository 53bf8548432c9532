"""Store associates see and act only on their stores' work; integrations only on their channels."""

from __future__ import annotations

from tests.integration.orders.helpers import API, associate, create_shop, integration, order_body


async def test_associates_see_and_act_only_on_their_stores(client, session):
    shop = await create_shop(session)
    at_a = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))).json()
    at_b = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(1, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_b}))).json()
    clerk_a = await associate(session, shop.store_a)
    listed = (await client.get(f"{API}/orders", headers=clerk_a)).json()["items"]
    assert [o["id"] for o in listed] == [at_a["id"]]
    assert (await client.get(f"{API}/orders/{at_b['id']}", headers=clerk_a)).status_code == 404
    fo_b = at_b["fulfilment_orders"][0]["id"]
    for path in ("", "/pick"):
        method = client.get if not path else client.post
        assert (await method(f"{API}/fulfilment-orders/{fo_b}{path}", headers=clerk_a)).status_code == 404
    assert (await client.post(f"{API}/orders/{at_b['id']}/cancel", headers=clerk_a,
                              json={"reason": "x"})).status_code == 404
    fo_a = at_a["fulfilment_orders"][0]["id"]
    assert (await client.post(f"{API}/fulfilment-orders/{fo_a}/pick", headers=clerk_a)).status_code == 200
    # a clerk places orders for their own store only
    elsewhere = await client.post(f"{API}/orders", headers=clerk_a, json=order_body(
        shop, [(2, 1)], origin_location_id=shop.store_b))
    assert elsewhere.status_code == 403
    analyst_like = await integration(session, shop.channel_id)
    assert len((await client.get(f"{API}/orders", headers=analyst_like)).json()["items"]) == 2
    search = (await client.get(f"{API}/orders", headers=shop.auth,
                               params={"number": at_b["number"]})).json()["items"]
    assert [o["id"] for o in search] == [at_b["id"]]
    by_email = (await client.get(f"{API}/orders", headers=shop.auth,
                                 params={"email": " ANNA@example.com", "state": "in_fulfilment"})).json()["items"]
    assert [o["id"] for o in by_email] == [at_a["id"]]
    page = (await client.get(f"{API}/orders", headers=shop.auth, params={"limit": 1})).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
