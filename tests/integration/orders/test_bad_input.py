"""Bad order input is refused with a 422 naming the field — never a 500, never another buyer's order."""

from __future__ import annotations

from sqlalchemy import func, select

from omniretail.orders.models import Order
from tests.factories import problem
from tests.integration.orders.helpers import API, create_shop, integration, order_body

TOO_BIG = 2**70


def _fields(response) -> list[list]:
    return [e["location"] for e in problem(response)["errors"]]


async def test_a_blank_external_id_is_refused_not_taken_for_another_order(client, session):
    shop = await create_shop(session)
    for blank in ("", "   "):
        placed = await client.post(f"{API}/orders", headers=shop.auth,
                                   json=order_body(shop, [(0, 1)], external_id=blank))
        assert placed.status_code == 422, placed.text
        assert ["body", "external_id"] in _fields(placed)
    count = (await session.execute(select(func.count()).select_from(Order).where(
        Order.channel_id == shop.channel_id))).scalar_one()
    assert count == 0


async def test_an_e_mail_or_phone_that_cannot_be_one_is_refused_on_a_native_order(client, session):
    shop = await create_shop(session)
    for customer, field in (({"email": "not-an-email"}, "email"), ({"phone": "abc"}, "phone"),
                            ({"phone": "12"}, "phone"), ({"email": "a@b"}, "email")):
        placed = await client.post(f"{API}/orders", headers=shop.auth,
                                   json=order_body(shop, [(0, 1)], customer=customer))
        assert placed.status_code == 422, placed.text
        assert ["body", "customer", field] in _fields(placed)
    fine = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], customer={"email": "Ola@Example.com", "phone": "+90 532 123 45 67"}))
    assert fine.status_code == 201, fine.text


def _import(shop, **changes) -> dict:
    body = {"channel_id": shop.channel_id, "external_id": "M-1", "revision": 1,
            "buyer": {"name": "Jan", "email": "jan@example.com"},
            "delivery": {"method": "ship", "address": {"street": "Długa 5", "postal_code": "61-001",
                                                        "city": "Poznań", "country": "PL"}},
            "lines": [{"sku": shop.skus[0], "quantity": 1, "unit_price": "10.00"}]}
    return {**body, **changes}


async def test_a_marketplace_buyer_with_an_unusable_contact_is_still_imported(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    imported = await client.post(f"{API}/orders/import", headers=bot, json=_import(
        shop, buyer={"name": "Jan", "email": "jan(at)example", "phone": "call me"}))
    assert imported.status_code == 201, imported.text
    assert imported.json()["order"]["customer_id"] is None


async def test_numbers_beyond_what_is_stored_are_a_422(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    cases = [
        (_import(shop, revision=TOO_BIG), ["body", "revision"]),
        (_import(shop, lines=[{"sku": shop.skus[0], "quantity": 10_000, "unit_price": "9999999999999.99"}]),
         ["body", "lines", 0]),
        (_import(shop, lines=[{"sku": shop.skus[0], "quantity": 1, "unit_price": "10.00", "discount": "50.00"}]),
         ["body", "lines", 0]),
        (_import(shop, lines=[{"sku": shop.skus[0], "quantity": 1, "unit_price": "1e3"}]),
         ["body", "lines", 0, "unit_price"]),
    ]
    for body, location in cases:
        answer = await client.post(f"{API}/orders/import", headers=bot, json=body)
        assert answer.status_code == 422, answer.text
        assert location in _fields(answer), answer.text
    for body in (order_body(shop, [(0, 1)], channel_id=TOO_BIG),
                 order_body(shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": TOO_BIG})):
        answer = await client.post(f"{API}/orders", headers=shop.auth, json=body)
        assert answer.status_code == 422, answer.text
    for path in (f"{API}/orders/{TOO_BIG}", f"{API}/fulfilment-orders/{TOO_BIG}"):
        answer = await client.get(path, headers=shop.auth)
        assert answer.status_code == 422, answer.text
        assert problem(answer)["type"].endswith(":value-out-of-range"), answer.text


async def test_a_local_phone_number_is_read_in_the_delivery_country(client, session):
    """A buyer in Turkey typing "0532 …" gets a profile with +90…: matched next time and reachable by SMS."""
    shop = await create_shop(session)
    body = order_body(shop, [(0, 1)], customer={"name": "Ayşe", "phone": "0532 123 45 67"})
    body["delivery"]["address"]["country"] = "tr"
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["shipping_address"]["country"] == "TR"
    customer = await client.get(f"{API}/customers/{order['customer_id']}", headers=shop.auth)
    assert customer.json()["phone"] == "+905321234567", customer.text


async def test_payment_status_moves_only_forward(client, session):
    shop = await create_shop(session)
    order = (await client.post(f"{API}/orders", headers=shop.auth,
                               json=order_body(shop, [(0, 1)], payment_status="pending"))).json()
    pay = f"{API}/orders/{order['id']}/payment"
    for status in ("authorized", "paid", "paid"):  # the same report twice changes nothing
        answer = await client.post(pay, headers=shop.auth, json={"payment_status": status})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["payment_status"], answer.json()["state"]) == (status, "confirmed")
    back = await client.post(pay, headers=shop.auth, json={"payment_status": "pending"})
    assert back.status_code == 409, back.text
    body = problem(back)
    assert (body["current_state"], body["requested_state"], body["allowed"]) == ("paid", "pending", ["refunded"])
    events = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["timeline"]
    assert [e["data"].get("payment_status") for e in events if e["kind"] == "payment"] == ["paid"]


async def test_the_listed_moves_are_the_ones_that_work(client, session):
    shop = await create_shop(session)
    order = (await client.post(f"{API}/orders", headers=shop.auth,
                               json=order_body(shop, [(0, 1)], payment_status="pending"))).json()
    [fo] = order["fulfilment_orders"]
    assert fo["allowed_moves"] == ["cancelled"]  # not picked while the payment is pending
    assert (await client.get(f"{API}/fulfilment-orders/{fo['id']}", headers=shop.auth)).json()["allowed_moves"] \
        == ["cancelled"]
    assert (await client.post(f"{API}/fulfilment-orders/{fo['id']}/pick", headers=shop.auth)).status_code == 409
    paid = await client.post(f"{API}/orders/{order['id']}/payment", headers=shop.auth,
                             json={"payment_status": "paid"})
    assert paid.json()["fulfilment_orders"][0]["allowed_moves"] == ["picking", "cancelled"]


async def test_a_short_line_reports_the_stock_there_is_not_what_the_plan_took(client, session):
    shop = await create_shop(session, settings={"allow_split": False})  # SKU0: 10 in the warehouse, 3 in store A
    refused = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 12)]))
    assert refused.status_code == 409, refused.text
    assert problem(refused)["lines"] == [{"sku": shop.skus[0], "requested": 12, "available": 13}]


async def test_a_marketing_answer_given_again_updates_the_profile(client, session):
    shop = await create_shop(session)
    buyer = {"name": "Ola", "email": "ola.consent@example.com"}
    first = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], customer={**buyer, "marketing_consent": True}))).json()
    profile = f"{API}/customers/{first['customer_id']}"
    assert (await client.get(profile, headers=shop.auth)).json()["marketing_consent"] is True
    await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(1, 1)], customer=buyer))
    assert (await client.get(profile, headers=shop.auth)).json()["marketing_consent"] is True  # not asked: kept
    withdrawn = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(1, 1)], customer={**buyer, "marketing_consent": False}))
    assert withdrawn.json()["customer_id"] == first["customer_id"]
    assert (await client.get(profile, headers=shop.auth)).json()["marketing_consent"] is False
    # staff record the customer's answer given in the store
    patched = await client.patch(profile, headers=shop.auth, json={"marketing_consent": True, "locale": "tr"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["marketing_consent"], patched.json()["locale"]) == (True, "tr")
    refused = await client.patch(profile, headers=shop.auth, json={"email": "other@example.com"})
    assert refused.status_code == 422  # the e-mail follows the orders: it matches them
