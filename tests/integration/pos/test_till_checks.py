"""The till's checks found by exploratory testing, through the API: a cash refund names an order it may pay
back (and is recorded as that order's refund), a retried sale or cash movement is the same one or refused,
amounts in exponent notation are refused."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.factories import problem
from tests.integration.orders.helpers import API

from .test_shifts import POS, _open, _sale, _till


async def _refund(client, auth, shift_id, amount, order_id=None, reference=None, kind="refund"):
    body = {"kind": kind, "amount": amount, "reason": "returned"}
    if order_id is not None:
        body["order_id"] = order_id
    if reference is not None:
        body["reference"] = reference
    return await client.post(f"{POS}/shifts/{shift_id}/cash-movements", headers=auth, json=body)


async def _refund_rows(session, order_id):
    return (await session.execute(text("SELECT amount_minor, method, reference FROM refund WHERE order_id = :o "
                                       "ORDER BY id"), {"o": order_id})).all()


async def test_a_cash_refund_pays_back_at_most_what_the_order_has_left(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth, float_="500.00")
    sold = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 1), (2, 2)]))  # 110.00
    assert sold.status_code == 201, sold.text
    order_id = sold.json()["order_id"]

    too_much = await _refund(client, shop.auth, shift["id"], "1000", order_id)
    assert too_much.status_code == 422, too_much.text
    body = problem(too_much)
    assert body["field"] == "amount" and body["refundable"] == "110.00" and body["order_id"] == order_id
    missing = await _refund(client, shop.auth, shift["id"], "10", 99999)
    assert missing.status_code == 404 and problem(missing)["field"] == "order_id"
    paid_in = await _refund(client, shop.auth, shift["id"], "10", order_id, kind="paid_in")
    assert paid_in.status_code == 422 and problem(paid_in)["field"] == "order_id"

    first = await _refund(client, shop.auth, shift["id"], "60.00", order_id, reference="r-1")
    assert first.status_code == 201, first.text
    moved = first.json()
    assert moved["amount"] == "-60.00" and moved["created"] is True and moved["order_payment"] == "cash"
    assert moved["notice"] is None and moved["refund_id"]
    assert await _refund_rows(session, order_id) == [(6000, "cash", f"pos-cash:{moved['id']}")]

    replay = await _refund(client, shop.auth, shift["id"], "60.00", order_id, reference="r-1")
    assert replay.status_code == 200, replay.text
    assert replay.json()["id"] == moved["id"] and replay.json()["created"] is False
    assert replay.json()["refund_id"] == moved["refund_id"]
    assert len(await _refund_rows(session, order_id)) == 1  # recorded once
    other = await _refund(client, shop.auth, shift["id"], "10.00", order_id, reference="r-1")
    assert other.status_code == 422 and problem(other)["type"].endswith("reference-reused")
    assert problem(other)["field"] == "reference"

    rest = await _refund(client, shop.auth, shift["id"], "50.01", order_id)
    assert rest.status_code == 422 and problem(rest)["refundable"] == "50.00"
    last = await _refund(client, shop.auth, shift["id"], "50.00", order_id)
    assert last.status_code == 201, last.text
    order = (await client.get(f"{API}/orders/{order_id}", headers=shop.auth)).json()
    assert order["payment_status"] == "refunded"
    nothing = await _refund(client, shop.auth, shift["id"], "0.01", order_id)
    assert nothing.status_code == 422 and problem(nothing)["refundable"] == "0.00"

    report = (await client.get(f"{POS}/shifts/{shift['id']}/report", headers=shop.auth)).json()
    assert report["cash_refunds"] == "110.00" and report["shift"]["expected_cash"] == "500.00"


async def test_a_card_sale_may_be_refunded_in_cash_and_the_response_says_so(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth, float_="300.00")
    sold = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(0, 1)], method="card"))
    order_id = sold.json()["order_id"]
    over = await _refund(client, shop.auth, shift["id"], "100.01", order_id)
    assert over.status_code == 422 and problem(over)["refundable"] == "100.00"
    refunded = await _refund(client, shop.auth, shift["id"], "100", order_id)
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["order_payment"] == "card" and "card" in refunded.json()["notice"]


async def test_a_movement_sent_again_is_the_first_one(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth)
    reference = uuid.uuid4().hex
    first = await _refund(client, shop.auth, shift["id"], "20", reference=reference, kind="paid_out")
    assert first.status_code == 201 and first.json()["created"] is True
    again = await _refund(client, shop.auth, shift["id"], "20", reference=reference, kind="paid_out")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["created"] is False
    current = (await client.get(f"{POS}/shifts/{shift['id']}", headers=shop.auth)).json()
    assert current["expected_cash"] == "180.00"


async def test_a_sale_id_sent_again_with_other_content_is_refused(client, session):
    shop, _pos = await _till(session)
    await _open(client, shop, shop.auth)
    body = _sale(shop, [(2, 1)], tendered="10")
    sold = await client.post(f"{POS}/sales", headers=shop.auth, json=body)
    assert sold.status_code == 201, sold.text
    same = await client.post(f"{POS}/sales", headers=shop.auth, json=body)
    assert same.status_code == 200 and same.json()["order_id"] == sold.json()["order_id"]
    for changed in ({"lines": [{"sku": shop.skus[2], "quantity": 2}]}, {"tendered": "20"},
                    {"payment_method": "card", "tendered": None}):
        refused = await client.post(f"{POS}/sales", headers=shop.auth, json={**body, **changed})
        assert refused.status_code == 422, (changed, refused.text)
        assert problem(refused)["type"].endswith("sale-id-reused") and problem(refused)["field"] == "sale_id"
    orders = (await session.execute(text("SELECT COUNT(*) FROM pos_sale"))).scalar_one()
    assert orders == 1


async def test_amounts_in_exponent_notation_are_refused(client, session):
    shop, _pos = await _till(session)
    shift = await _open(client, shop, shop.auth)
    tendered = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(2, 1)], tendered="1e4"))
    assert tendered.status_code == 422
    decimals = await client.post(f"{POS}/sales", headers=shop.auth, json=_sale(shop, [(2, 1)], tendered="5.005"))
    assert decimals.status_code == 422 and problem(decimals)["field"] == "tendered"
    assert problem(decimals)["decimal_places"] == 2
    count = await client.post(f"{POS}/shifts/{shift['id']}/close", headers=shop.auth,
                              json={"denominations": {"1e2": 2}})
    assert count.status_code == 422 and problem(count)["field"] == "denominations.1e2"
