"""Exchanges: a returned line swapped for another variant through the usual order path — for the difference or
at no charge — linked both ways, once per line, and the credit taken off what the return may still refund."""

from __future__ import annotations

from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, outbox
from tests.integration.orders.returns_helpers import act, collected_order, line_of


async def test_exchange_places_the_replacement_order_and_credits_the_returned_value(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 5, "1": 5, "2": 5},
                                             "store_a": {"0": 3, "1": 3, "2": 3}})
    sku0, sku1, sku2 = shop.skus  # 100.00, 19.99, 5.00
    order = await collected_order(client, session, shop, [(0, 1), (2, 1)], shop.store_a, payment_status="paid")
    assert order["state"] == "completed"
    clerk = await associate(session, shop.store_a)
    ret = await act(client, clerk, f"/orders/{order['id']}/returns", {"authorise": True, "lines": [
        {"order_line_id": line_of(order, sku0), "quantity": 1, "reason": "wrong_size"},
        {"order_line_id": line_of(order, sku2), "quantity": 1, "reason": "wrong_item"}]}, status=201)
    big, small = ret["lines"]
    assert ret["amount"] == "105.00"

    # the 100.00 item for a 19.99 one: nothing to pay, 80.01 stays refundable on the return
    cheaper = await act(client, clerk, f"/returns/{ret['id']}/exchange",
                        {"lines": [{"return_line_id": big["id"], "sku": sku1}]}, status=201)
    swap = cheaper["order"]
    assert (swap["state"], swap["payment_status"], swap["total"]) == ("confirmed", "paid", "0.00")
    assert swap["lines"][0]["discount"] == "19.99" and swap["origin_location_id"] == shop.store_a
    assert swap["fulfilment_orders"][0]["location_id"] == shop.store_a  # picked up where it was returned
    assert ret["number"] in swap["note"] and swap["customer_id"] == order["customer_id"]
    linked = cheaper["return"]["lines"][0]
    assert (linked["exchange_order_id"], linked["exchange_order_line_id"], linked["exchange_credit"]) == (
        swap["id"], swap["lines"][0]["id"], "19.99")
    assert cheaper["return"]["amount"] == "85.01"
    assert await level(session, sku1, shop.store_a) == (3, 1)  # the replacement is reserved at the store

    twice = await client.post(f"{API}/returns/{ret['id']}/exchange", headers=clerk,
                              json={"lines": [{"return_line_id": big["id"], "sku": sku2}]})
    assert twice.status_code == 409 and problem(twice)["return_line_ids"] == [big["id"]]

    # the 5.00 item for a 100.00 one, customer pays the difference: the replacement waits for 95.00
    dearer = await act(client, clerk, f"/returns/{ret['id']}/exchange",
                       {"lines": [{"return_line_id": small["id"], "sku": sku0}]}, status=201)
    assert (dearer["order"]["state"], dearer["order"]["total"]) == ("pending_payment", "95.00")
    assert dearer["return"]["amount"] == "80.01"

    await act(client, clerk, f"/returns/{ret['id']}/receive", {})
    await act(client, clerk, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": big["id"], "condition": "new", "disposition": "restock"},
        {"return_line_id": small["id"], "condition": "new", "disposition": "restock"}]})
    over = await client.post(f"{API}/returns/{ret['id']}/refund", headers=clerk, json={"amount": "80.02"})
    assert over.status_code == 409 and problem(over)["refundable"] == "80.01"
    paid = await act(client, clerk, f"/returns/{ret['id']}/refund", {"method": "store_credit"}, status=201)
    assert (paid["state"], paid["refunded"]) == ("refunded", "80.01")
    assert paid["refunds"][0]["reference"].startswith("V-")  # the voucher the customer takes home
    [told] = await outbox(session, "orders.customer_message", template="refunded", order_id=order["id"])
    assert told["data"]["refund"]["reference"] == paid["refunds"][0]["reference"]  # the message gives the code
    late = await client.post(f"{API}/returns/{ret['id']}/exchange", headers=clerk,
                             json={"lines": [{"return_line_id": big["id"], "sku": sku2}]})
    assert late.status_code == 409 and problem(late)["current_state"] == "refunded"
    timeline = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["timeline"]
    exchanged = [e for e in timeline if e["kind"] == "return.exchanged"]
    assert [e["data"]["exchange_order_id"] for e in exchanged] == [swap["id"], dearer["order"]["id"]]
    await assert_invariants(session)


async def test_exchange_at_no_charge(client, session):
    shop = await create_shop(session, stock={"store_a": {"0": 3, "1": 3, "2": 3}})
    sku0, _sku1, sku2 = shop.skus
    order = await collected_order(client, session, shop, [(2, 2)], shop.store_a)
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "authorise": True, "lines": [{"order_line_id": line_of(order, sku2), "quantity": 2,
                                                  "reason": "defective"}]}, status=201)
    unknown = await client.post(f"{API}/returns/{ret['id']}/exchange", headers=shop.auth,
                                json={"lines": [{"return_line_id": ret["lines"][0]["id"] + 999, "sku": sku0}]})
    assert unknown.status_code == 422
    goodwill = await act(client, shop.auth, f"/returns/{ret['id']}/exchange", {
        "charge": "none", "lines": [{"return_line_id": ret["lines"][0]["id"], "sku": sku0, "quantity": 1}]},
        status=201)
    assert (goodwill["order"]["total"], goodwill["order"]["state"]) == ("0.00", "confirmed")
    assert goodwill["return"]["amount"] == "0.00"  # the returned 10.00 is all used up by the exchange
    assert goodwill["return"]["lines"][0]["exchange_credit"] == "100.00"
    keep = await client.post(f"{API}/returns/{ret['id']}/cancel", headers=shop.auth, json={"reason": "oops"})
    assert keep.status_code == 409 and problem(keep)["exchange_order_ids"] == [goodwill["order"]["id"]]
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "damaged", "disposition": "return_to_vendor"}]})
    nothing = await client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth, json={})
    assert nothing.status_code == 409 and problem(nothing)["type"].endswith(":nothing-to-refund")
    closed = await act(client, shop.auth, f"/returns/{ret['id']}/close", {"reason": "exchanged"})
    assert closed["state"] == "closed"


async def _both_items_back(client, session):
    """A paid pickup order of SKU0 (100.00) and SKU2 (5.00), both taken back at the store (authorised)."""
    shop = await create_shop(session, stock={"store_a": {"0": 3, "1": 3, "2": 3}})
    order = await collected_order(client, session, shop, [(0, 1), (2, 1)], shop.store_a, payment_status="paid")
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "authorise": True, "lines": [
                        {"order_line_id": line_of(order, shop.skus[0]), "quantity": 1, "reason": "wrong_size"},
                        {"order_line_id": line_of(order, shop.skus[2]), "quantity": 1, "reason": "wrong_item"}]},
                    status=201)
    return shop, order, ret


async def test_a_cancelled_replacement_gives_its_credit_back(client, session):
    """The customer never paid the difference (or changed their mind): the replacement order is cancelled. The
    returned goods' value is owed again, the line may be exchanged again, and the return may be cancelled."""
    shop, order, ret = await _both_items_back(client, session)
    sku0, sku1, sku2 = shop.skus  # 100.00, 19.99, 5.00
    big, small = ret["lines"]
    dearer = await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                       {"lines": [{"return_line_id": small["id"], "sku": sku0}]}, status=201)
    assert (dearer["order"]["total"], dearer["return"]["amount"]) == ("95.00", "100.00")
    await act(client, shop.auth, f"/orders/{dearer['order']['id']}/cancel", {"reason": "never paid"})

    shown = (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()
    assert shown["amount"] == "105.00" and shown["refundable"] == "105.00"
    listed = (await client.get(f"{API}/returns", headers=shop.auth,
                               params={"order_number": order["number"]})).json()["items"]
    assert [(x["id"], x["amount"]) for x in listed] == [(ret["id"], "105.00")]  # the list agrees with the page
    assert (shown["lines"][1]["exchange_order_id"], shown["lines"][1]["exchange_credit"]) == (None, "0.00")

    again = await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                      {"lines": [{"return_line_id": small["id"], "sku": sku1}]}, status=201)
    assert again["order"]["id"] != dearer["order"]["id"] and again["order"]["total"] == "14.99"
    assert again["order"]["external_id"].endswith(":2")
    assert again["return"]["amount"] == "100.00" and again["return"]["lines"][1]["exchange_credit"] == "5.00"
    timeline = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["timeline"]
    [given_back] = [e for e in timeline if e["kind"] == "return.exchange_cancelled"]
    assert (given_back["data"]["exchange_order_id"], given_back["data"]["credit"]) == (dearer["order"]["id"], "5.00")

    await act(client, shop.auth, f"/orders/{again['order']['id']}/cancel", {"reason": "changed their mind"})
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": big["id"], "condition": "new", "disposition": "restock"},
        {"return_line_id": small["id"], "condition": "new", "disposition": "restock"}]})
    paid = await act(client, shop.auth, f"/returns/{ret['id']}/refund", {}, status=201)
    assert (paid["state"], paid["refunded"], paid["amount"]) == ("refunded", "105.00", "105.00")
    await assert_invariants(session)


async def test_a_return_whose_replacement_was_cancelled_may_be_cancelled(client, session):
    shop = await create_shop(session, stock={"store_a": {"0": 3, "1": 3, "2": 3}})
    sku0, sku1, _sku2 = shop.skus
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "authorise": True, "lines": [
                        {"order_line_id": line_of(order, sku0), "quantity": 1, "reason": "wrong_size"}]},
                    status=201)
    swap = await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                     {"lines": [{"return_line_id": ret["lines"][0]["id"], "sku": sku1}]}, status=201)
    kept = await client.post(f"{API}/returns/{ret['id']}/cancel", headers=shop.auth, json={"reason": "no"})
    assert kept.status_code == 409 and problem(kept)["exchange_order_ids"] == [swap["order"]["id"]]
    await act(client, shop.auth, f"/orders/{swap['order']['id']}/cancel", {"reason": "kept the first pair"})
    cancelled = await act(client, shop.auth, f"/returns/{ret['id']}/cancel", {"reason": "kept the first pair"})
    assert (cancelled["state"], cancelled["amount"]) == ("cancelled", "100.00")
    assert cancelled["lines"][0]["exchange_order_id"] is None


async def test_a_refund_planned_before_an_exchange_took_the_value_pays_nothing(client, session, monkeypatch):
    """A refund that read what the return is owed before an exchange took part of it as credit (two people at
    once) is refused: its conditional update also checks the value it planned from."""
    from sqlalchemy import update

    from omniretail.orders import refunds

    shop = await create_shop(session, stock={"store_a": {"0": 3, "1": 3}})
    sku0, _sku1, _sku2 = shop.skus
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "authorise": True, "lines": [
                        {"order_line_id": line_of(order, sku0), "quantity": 1, "reason": "wrong_size"}]},
                    status=201)
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"}]})
    read = refunds.payment_so_far

    async def exchanged_meanwhile(s, order_row):
        so_far = await read(s, order_row)
        await s.execute(update(refunds.RETURNS).where(refunds.RETURNS.c.id == ret["id"])
                        .values(amount_minor=refunds.RETURNS.c.amount_minor - 1999))  # a 19.99 credit taken
        return so_far

    monkeypatch.setattr(refunds, "payment_so_far", exchanged_meanwhile)
    stale = await client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth, json={})
    monkeypatch.undo()
    assert stale.status_code == 409 and problem(stale)["return_id"] == ret["id"]
    after = (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()
    assert (after["refunded"], after["refunds"]) == ("0.00", [])


async def test_a_replacement_cancelled_after_the_return_was_settled_is_still_owed_and_refunded_once(client, session):
    """The customer brought two items back: one refunded, one exchanged, and the return settled. The replacement
    is then cancelled: the exchanged item's value is owed again — shown on the settled return and refunded on it,
    once, without reopening it. A return closed after an exchange alone works the same way."""
    shop, order, ret = await _both_items_back(client, session)
    sku0, sku1, sku2 = shop.skus  # 100.00, 19.99, 5.00
    big, small = ret["lines"]
    swap = (await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                      {"lines": [{"return_line_id": small["id"], "sku": sku1}]}, status=201))["order"]
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": big["id"], "condition": "new", "disposition": "restock"},
        {"return_line_id": small["id"], "condition": "new", "disposition": "restock"}]})
    settled = await act(client, shop.auth, f"/returns/{ret['id']}/refund", {}, status=201)
    assert (settled["state"], settled["refunded"], settled["refundable"]) == ("refunded", "100.00", "0.00")

    await act(client, shop.auth, f"/orders/{swap['id']}/cancel", {"reason": "out of stock after all"})
    shown = (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()
    assert (shown["state"], shown["amount"], shown["refundable"]) == ("refunded", "105.00", "5.00")
    listed = (await client.get(f"{API}/returns", headers=shop.auth,
                               params={"order_number": order["number"]})).json()["items"]
    assert [x["amount"] for x in listed] == ["105.00"]

    paid = await act(client, shop.auth, f"/returns/{ret['id']}/refund", {"method": "store_credit"}, status=201)
    assert (paid["state"], paid["refunded"], paid["refundable"]) == ("refunded", "105.00", "0.00")
    assert paid["refunds"][-1]["amount"] == "5.00" and paid["refunds"][-1]["reference"].startswith("V-")
    assert paid["lines"][1]["exchange_order_id"] is None
    again = await client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth, json={})
    assert again.status_code == 409, again.text
    timeline = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert timeline["payment_status"] == "refunded"
    kinds = [e["kind"] for e in timeline["timeline"]]
    assert kinds.count("return.exchange_cancelled") == 1 and kinds.count("refund.created") == 2
    await assert_invariants(session)


async def test_a_return_closed_after_its_exchange_owes_the_credit_of_a_cancelled_replacement(client, session):
    shop = await create_shop(session, stock={"store_a": {"0": 3, "1": 3, "2": 3}})
    sku0, sku1, _sku2 = shop.skus  # 100.00, 19.99, 5.00
    order = await collected_order(client, session, shop, [(1, 1)], shop.store_a, payment_status="paid")
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {"location_id": shop.store_a,
                    "authorise": True, "lines": [
                        {"order_line_id": line_of(order, sku1), "quantity": 1, "reason": "wrong_size"}]},
                    status=201)
    swap = (await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                      {"lines": [{"return_line_id": ret["lines"][0]["id"], "sku": sku0}]}, status=201))["order"]
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"}]})
    closed = await act(client, shop.auth, f"/returns/{ret['id']}/close", {"reason": "exchanged"})
    assert (closed["state"], closed["refundable"]) == ("closed", "0.00")
    nothing = await client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth, json={})
    assert nothing.status_code == 409, nothing.text  # settled: nothing owed while the replacement stands

    await act(client, shop.auth, f"/orders/{swap['id']}/cancel", {"reason": "the customer changed their mind"})
    assert (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()["refundable"] == "19.99"
    too_much = await client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth, json={"amount": "20.00"})
    assert too_much.status_code == 409 and problem(too_much)["refundable"] == "19.99", too_much.text
    paid = await act(client, shop.auth, f"/returns/{ret['id']}/refund", {}, status=201)
    assert (paid["state"], paid["refunded"], paid["refundable"]) == ("closed", "19.99", "0.00")
    await assert_invariants(session)
