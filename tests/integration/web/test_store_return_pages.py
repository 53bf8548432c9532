"""Returns at the store counter: find an order sold elsewhere by its number, take units back at this store with
a disposition and a refund in one submission, see the return's state and refund; errors next to the field."""

from __future__ import annotations

from tests.integration.orders.helpers import associate, create_shop, level
from tests.integration.orders.returns_helpers import collected_order, store_c

from .conftest import HTML, csrf_from, sign_in


async def test_take_back_an_order_collected_in_another_store_with_a_cash_refund(client, session):
    shop = await create_shop(session)
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)  # bought online, collected in A
    c = await store_c(session)
    await associate(session, c)
    await sign_in(client, session, role="associate", location_ids=[c])

    start = await client.get("/store/returns", headers=HTML)
    assert start.status_code == 200 and 'id="f-number"' in start.text and "Orders found" not in start.text
    assert (await client.get("/store/returns", params={"location_id": shop.store_a}, headers=HTML)
            ).status_code == 404
    no_channel = await client.get("/store/returns", params={"external_id": "X-1"}, headers=HTML)
    assert no_channel.status_code == 400 and 'id="f-channel_id-error"' in no_channel.text
    found = await client.get("/store/returns", params={"number": order["number"].lower()}, headers=HTML)
    assert found.status_code == 200 and order["number"] in found.text and "Anna Nowak" in found.text
    link = f"/store/returns/take-back?location_id={c}&amp;number={order['number']}"
    assert link in found.text

    bare = await client.get("/store/returns/take-back", params={"location_id": c}, headers=HTML)
    assert (bare.status_code, bare.headers["location"]) == (303, f"/store/returns?location_id={c}")  # find it first
    form = await client.get(link.replace("&amp;", "&"), headers=HTML)
    assert form.status_code == 200 and f"Units back: {shop.skus[0]}" in form.text
    token = csrf_from(form)
    base = {"csrf_token": token, "location_id": str(c), "number": order["number"], "reason-0": "wrong_size",
            "condition-0": "new", "disposition-0": "restock", "refund_method": "cash", "refund_amount": ""}
    too_many = await client.post("/store/returns/take-back", headers=HTML, data={**base, "quantity-0": "2"})
    assert too_many.status_code == 400 and 'id="f-quantity-0-error"' in too_many.text
    assert "At most 1 of" in too_many.text
    nothing = await client.post("/store/returns/take-back", headers=HTML, data={**base, "quantity-0": ""})
    assert nothing.status_code == 400 and 'id="f-lines-error"' in nothing.text
    bad_amount = await client.post("/store/returns/take-back", headers=HTML,
                                   data={**base, "quantity-0": "1", "refund_amount": "ten"})
    assert bad_amount.status_code == 400 and 'id="f-refund_amount-error"' in bad_amount.text
    over = await client.post("/store/returns/take-back", headers=HTML,
                             data={**base, "quantity-0": "1", "refund_amount": "500"})
    assert over.status_code == 409 and 'id="f-refund_amount-error"' in over.text
    assert await level(session, shop.skus[0], c) == (0, 0)  # the refused attempt left nothing behind

    before = await level(session, shop.skus[0], c)
    taken = await client.post("/store/returns/take-back", headers=HTML, data={**base, "quantity-0": "1"})
    assert taken.status_code == 303, taken.text
    result = await client.get(taken.headers["location"], headers=HTML)
    assert result.status_code == 200 and "The goods were taken back." in result.text
    assert "Refunded" in result.text and "Cash" in result.text and "Back on the shelf here" in result.text
    assert "100.00" in result.text
    assert await level(session, shop.skus[0], c) == (before[0] + 1, 0)  # restocked at store C
    again = await client.get("/store/returns", params={"number": order["number"]}, headers=HTML)
    assert "Nothing to take back" in again.text


async def test_partial_refund_leaves_the_return_owed_and_damaged_goods_are_not_restocked(client, session):
    shop = await create_shop(session)
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)
    await sign_in(client, session, role="manager")
    chooser = await client.get("/store/returns", headers=HTML)
    assert chooser.status_code == 200 and f"/store/returns?location_id={shop.store_b}" in chooser.text
    form = await client.get("/store/returns/take-back", params={"location_id": shop.store_b,
                                                                "number": order["number"]}, headers=HTML)
    taken = await client.post("/store/returns/take-back", headers=HTML, data={
        "csrf_token": csrf_from(form), "location_id": str(shop.store_b), "number": order["number"],
        "quantity-0": "1", "reason-0": "damaged", "condition-0": "damaged", "disposition-0": "damaged",
        "refund_method": "card", "refund_amount": "40,00"})
    assert taken.status_code == 303, taken.text
    result = await client.get(taken.headers["location"], headers=HTML)
    assert "Inspected, refund pending" in result.text and "Damaged: write off" in result.text
    assert "40.00" in result.text and "60.00" in result.text and "Card" in result.text
    assert (await level(session, shop.skus[0], shop.store_b))[0] == 0
