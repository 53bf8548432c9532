from tests.integration.orders.helpers import API, create_shop, order_body


async def test_place_a_ship_order(client, session):
    shop = await create_shop(session)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 2), (1, 1)]))
    assert r.status_code == 201, r.text
    body = r.json()
    print(body)
    assert body["state"] == "confirmed"
