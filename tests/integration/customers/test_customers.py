"""One profile per person across channels; staff merge and unmerge; search."""

from __future__ import annotations

from tests.factories import create_channel, create_price_list, problem, set_test_price
from tests.integration.orders.helpers import API, associate, create_shop, order_body


async def _order(client, shop, *, channel_id=None, customer, lines=((2, 1),)):
    body = {**order_body(shop, list(lines), customer=customer),
            **({"channel_id": channel_id} if channel_id else {})}
    r = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_store_purchase_and_a_webshop_order_land_on_one_profile(client, session):
    shop = await create_shop(session)
    pos = await create_channel(session, kind="pos", location_ids=[shop.store_a, shop.warehouse])
    pos_prices = await create_price_list(session, channel_id=pos)
    await set_test_price(session, pos_prices, shop.skus[2], "4.50")
    in_store = await _order(client, shop, channel_id=pos, customer={"name": "Ola", "phone": "+48 600-100-200"})
    online = await _order(client, shop, customer={"name": "Ola Nowak", "email": " OLA@Example.com",
                                                  "phone": "600100200"})
    again = await _order(client, shop, customer={"email": "ola@example.com"})
    assert in_store["customer_id"] == online["customer_id"] == again["customer_id"]
    assert online["lines"][0]["unit_price"] == "5.00" and in_store["lines"][0]["unit_price"] == "4.50"
    profile = (await client.get(f"{API}/customers/{online['customer_id']}", headers=shop.auth)).json()
    assert (profile["phone"], profile["email"]) == ("+48600100200", "ola@example.com")  # e-mail filled in
    assert profile["order_count"] == 3
    assert sorted(i["external_id"] for i in profile["identities"]) == ["email:ola@example.com",
                                                                       "phone:+48600100200"]
    found = (await client.get(f"{API}/customers", headers=shop.auth, params={"phone": "600 100 200"})).json()
    assert [c["id"] for c in found["items"]] == [online["customer_id"]]
    assert (await client.get(f"{API}/customers", headers=shop.auth, params={"phone": "x"})).status_code == 422
    clerk = await associate(session, shop.store_a)
    assert (await client.get(f"{API}/customers", headers=clerk, params={"q": "ola"})).status_code == 200


async def test_merge_moves_identities_and_orders_and_unmerge_restores_them(client, session):
    shop = await create_shop(session)
    kept = await _order(client, shop, customer={"name": "Piotr", "email": "piotr@example.com"})
    dup = await _order(client, shop, customer={"name": "P. Zieliński", "email": "pz@work.example",
                                               "phone": "+48 511 222 333"})
    target, source = kept["customer_id"], dup["customer_id"]
    assert target != source
    merged = await client.post(f"{API}/customers/{target}/merge", headers=shop.auth,
                               json={"source_customer_id": source, "reason": "same person"})
    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert merge["order_ids"] == [dup["id"]] and len(merge["identity_ids"]) == 1
    profile = (await client.get(f"{API}/customers/{target}", headers=shop.auth)).json()
    assert profile["order_count"] == 2 and profile["phone"] == "+48511222333" and len(profile["identities"]) == 2
    # the merged-away identity now leads to the surviving profile
    later = await _order(client, shop, customer={"email": "pz@work.example"})
    assert later["customer_id"] == target
    listed = (await client.get(f"{API}/customers", headers=shop.auth, params={"q": "zieli"})).json()["items"]
    assert listed == []  # the merged profile is hidden from search …
    assert (await client.get(f"{API}/customers", headers=shop.auth,
                             params={"q": "zieli", "include_merged": True})).json()["items"][0]["id"] == source
    twice = await client.post(f"{API}/customers/{target}/merge", headers=shop.auth,
                              json={"source_customer_id": source})
    assert twice.status_code == 409
    clerk = await associate(session, shop.store_a)
    assert (await client.post(f"{API}/customers/merges/{merge['id']}/unmerge", headers=clerk)).status_code == 403
    undone = await client.post(f"{API}/customers/merges/{merge['id']}/unmerge", headers=shop.auth)
    assert undone.status_code == 200 and undone.json()["unmerged_at"]
    back = (await client.get(f"{API}/customers/{source}", headers=shop.auth)).json()
    assert back["merged_into_id"] is None and back["order_count"] == 2  # its order and the one placed since
    restored = (await client.get(f"{API}/customers/{target}", headers=shop.auth)).json()
    assert restored["order_count"] == 1 and restored["phone"] is None and len(restored["identities"]) == 1
    again = await client.post(f"{API}/customers/merges/{merge['id']}/unmerge", headers=shop.auth)
    assert again.status_code == 409 and problem(again)["merge_id"] == merge["id"]
    history = (await client.get(f"{API}/customers/{source}/merges", headers=shop.auth)).json()
    assert [m["id"] for m in history] == [merge["id"]]
    self_merge = await client.post(f"{API}/customers/{target}/merge", headers=shop.auth,
                                   json={"source_customer_id": target})
    assert self_merge.status_code == 422
