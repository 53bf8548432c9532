"""Return anywhere (BORIS) end to end through the API: bought online, shipped from the warehouse, taken back in
store B — restock at B through the ledger, a damaged line not restocked, a partial refund then the rest, an
over-refund refused, no double receive or refund, the order following its returns, the refunded notification."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from omniretail.inventory import service as inventory_service
from omniretail.notifications.schemas import TOPIC as NOTIFY_TOPIC
from omniretail.notifications.schemas import NotifyPayload
from omniretail.orders import messages
from omniretail.orders.timeline import NOTIFY as INTENT
from omniretail.platform.jobs import Event
from omniretail.platform.outbox import OutboxEvent
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, outbox
from tests.integration.orders.returns_helpers import (
    act,
    delivered_online_order,
    line_of,
    place,
    returns_centre,
)


async def _intent_event(session, template: str, order_id: int) -> Event:
    """The last customer-message intent of ``template`` for the order, as the worker hands it over."""
    t = OutboxEvent.__table__
    rows = (await session.execute(select(t).where(t.c.topic == INTENT).order_by(t.c.id))).all()
    row = [r for r in rows if r.payload["template"] == template and r.payload["order_id"] == order_id][-1]
    return Event(id=row.id, topic=row.topic, payload=row.payload, coalesce_key=row.coalesce_key,
                 created_at=row.created_at, attempts=1, context=None)


async def test_online_order_returned_in_store_b_restocks_b_and_refunds_in_two_parts(client, session):
    shop = await create_shop(session)
    sku0, sku1, sku2 = shop.skus
    order = await delivered_online_order(client, shop, [(0, 2), (1, 1), (2, 1)], shipping_amount="9.99")
    assert order["state"] == "completed" and order["total"] == "234.98"
    assert await level(session, sku0, shop.warehouse) == (8, 0)
    before_b = {sku: await level(session, sku, shop.store_b) for sku in shop.skus}
    clerk_b = await associate(session, shop.store_b)

    body = {"order_number": order["number"], "authorise": True, "lines": [
        {"order_line_id": line_of(order, sku0), "quantity": 1, "reason": "wrong_size"},
        {"order_line_id": line_of(order, sku0), "quantity": 1, "reason": "damaged", "note": "arrived broken"},
        {"order_line_id": line_of(order, sku1), "quantity": 1, "reason": "changed_mind"}]}
    ret = await act(client, clerk_b, f"/orders/{order['id']}/returns", body, status=201)
    assert (ret["state"], ret["location_id"], ret["order_number"]) == ("authorised", shop.store_b, order["number"])
    assert ret["amount"] == "219.99" and ret["refundable"] == "219.99" and ret["allowed_moves"] == [
        "received", "cancelled"]
    assert [ln["value"] for ln in ret["lines"]] == ["100.00", "100.00", "19.99"]
    rid = ret["id"]
    [authorised] = await outbox(session, INTENT, template="return_authorised", order_id=order["id"])
    assert authorised["data"]["return_number"] == ret["number"] and authorised["data"]["location_id"] == shop.store_b

    received = await act(client, clerk_b, f"/returns/{rid}/receive", {})
    assert received["state"] == "received" and received["received_at"]
    again = await client.post(f"{API}/returns/{rid}/receive", headers=clerk_b, json={})
    assert again.status_code == 409 and problem(again)["current_state"] == "received"
    assert (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["state"] == "partially_returned"
    [told] = await outbox(session, INTENT, template="return_received", order_id=order["id"])
    assert told["data"]["location_id"] == shop.store_b

    incomplete = await client.post(f"{API}/returns/{rid}/inspect", headers=clerk_b, json={"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"}]})
    assert incomplete.status_code == 422 and problem(incomplete)["field"] == "lines"
    inspected = await act(client, clerk_b, f"/returns/{rid}/inspect", {"lines": [
        {"return_line_id": ret["lines"][0]["id"], "condition": "new", "disposition": "restock"},
        {"return_line_id": ret["lines"][1]["id"], "condition": "damaged", "disposition": "damaged",
         "note": "screen cracked"},
        {"return_line_id": ret["lines"][2]["id"], "condition": "opened", "disposition": "restock"}]})
    assert inspected["state"] == "inspected"
    restocked, damaged, second = inspected["lines"]
    assert restocked["disposition"] == "restock" and restocked["movement_id"]
    assert (damaged["disposition"], damaged["condition"], damaged["movement_id"]) == ("damaged", "damaged", None)
    # store B's stock grew by the restocked units only; the warehouse that shipped them is untouched
    assert await level(session, sku0, shop.store_b) == (before_b[sku0][0] + 1, 0)
    assert await level(session, sku1, shop.store_b) == (before_b[sku1][0] + 1, 0)
    assert await level(session, sku0, shop.warehouse) == (8, 0)
    moves, _ = await inventory_service.list_movements(session, reference_type="return", reference_id=ret["number"])
    assert sorted((m.sku, m.kind, m.location_id, m.quantity) for m in moves) == sorted([
        (sku0, "return_restock", shop.store_b, 1), (sku1, "return_restock", shop.store_b, 1)])
    assert {m.id for m in moves} == {restocked["movement_id"], second["movement_id"]}

    part = await act(client, clerk_b, f"/returns/{rid}/refund", {"amount": "50.00", "method": "card"}, status=201)
    assert (part["state"], part["refunded"], part["refundable"]) == ("inspected", "50.00", "169.99")
    over = await client.post(f"{API}/returns/{rid}/refund", headers=clerk_b, json={"amount": "170.00"})
    assert over.status_code == 409 and problem(over)["type"].endswith(":over-refund")
    assert problem(over)["refundable"] == "169.99"
    too_precise = await client.post(f"{API}/returns/{rid}/refund", headers=clerk_b, json={"amount": "1.001"})
    assert too_precise.status_code == 422
    rest = await act(client, clerk_b, f"/returns/{rid}/refund", {"include_shipping": True}, status=201)
    assert (rest["state"], rest["refunded"], rest["shipping_refunded"], rest["refundable"]) == (
        "refunded", "229.98", "9.99", "0.00")
    assert [(f["amount"], f["shipping"], f["method"], f["location_id"]) for f in rest["refunds"]] == [
        ("50.00", "0.00", "card", shop.store_b), ("179.98", "9.99", "original_payment", shop.store_b)]
    twice = await client.post(f"{API}/returns/{rid}/refund", headers=clerk_b, json={})
    assert twice.status_code == 409 and problem(twice)["current_state"] == "refunded"
    assert problem(twice)["allowed"] == []

    refunded = await outbox(session, INTENT, template="refunded", order_id=order["id"])
    assert [(e["data"]["amount"], e["data"]["method"]) for e in refunded] == [("50.00", "card"),
                                                                             ("179.98", "original_payment")]
    # each refund announced to integrations (an ERP's credit note, a payment provider's payout)
    announced = await outbox(session, "orders.refunded", order_id=order["id"])
    assert [(e["refund_id"], e["return_id"], e["amount"], e["shipping"], e["currency"], e["method"],
             e["location_id"], e["number"]) for e in announced] == [
        (f["id"], rid, f["amount"], f["shipping"], "PLN", f["method"], shop.store_b, order["number"])
        for f in rest["refunds"]]
    assert refunded[-1]["data"]["refund"] == {"amount": "179.98", "method": "original_payment", "reason": None}
    # the customer-message consumer turns the intent into the notification the notifications package sends
    await messages.compose_customer_message(session, await _intent_event(session, "refunded", order["id"]))
    [sent] = await outbox(session, NOTIFY_TOPIC, template="refunded", order_id=order["id"])
    payload = NotifyPayload.model_validate(sent)
    assert payload.data.refund.amount == Decimal("179.98") and payload.data.refund.method == "original_payment"
    assert payload.data.order_number == order["number"] and payload.data.customer.email == "anna@example.com"
    changes = [c for c in await outbox(session, "orders.status_changed", order_id=order["id"])
               if c["entity"] == "return"]
    assert [c["to_state"] for c in changes] == ["requested", "authorised", "received", "inspected", "refunded"]
    assert all(c["data"]["return_id"] == rid for c in changes)
    final = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    kinds = [e["kind"] for e in final["timeline"]]
    assert {"return.requested", "return.authorised", "return.received", "order.partially_returned",
            "return.inspected", "refund.created", "return.refunded"} <= set(kinds)
    assert final["payment_status"] == "paid"  # 229.98 of 234.98 paid back: the last item is still theirs

    # the last unit comes back by post to the returns centre: the order is returned, all it cost is paid back
    centre = await returns_centre(session)
    no_returns = await client.post(f"{API}/orders/{order['id']}/returns", headers=shop.auth, json={
        "location_id": shop.warehouse, "lines": [
            {"order_line_id": line_of(order, sku2), "quantity": 1, "reason": "not_as_described"}]})
    assert no_returns.status_code == 422 and problem(no_returns)["field"] == "location_id"
    last = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": centre, "lines": [
            {"order_line_id": line_of(order, sku2), "quantity": 1, "reason": "not_as_described"}]}, status=201)
    assert last["state"] == "requested"
    too_many = await client.post(f"{API}/orders/{order['id']}/returns", headers=shop.auth, json={"lines": [
        {"order_line_id": line_of(order, sku2), "quantity": 1, "reason": "other"}]})
    assert too_many.status_code == 422 and problem(too_many)["returnable"] == 0
    for move, body in (("authorise", None), ("receive", {}), ("inspect", {"lines": [
            {"return_line_id": last["lines"][0]["id"], "condition": "used", "disposition": "return_to_vendor"}]})):
        await act(client, shop.auth, f"/returns/{last['id']}/{move}", body)
    assert (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["state"] == "returned"
    assert await level(session, sku2, centre) == (0, 0)  # kept for the vendor, not restocked
    done = await act(client, shop.auth, f"/returns/{last['id']}/refund", {"include_shipping": True}, status=201)
    assert done["refunds"][0]["amount"] == "5.00" and done["refunds"][0]["shipping"] == "0.00"  # shipping: once
    paid_back = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert paid_back["payment_status"] == "refunded"
    await assert_invariants(session)


async def test_a_return_is_only_for_delivered_units_and_can_be_rejected_cancelled_or_closed(client, session):
    shop = await create_shop(session)
    waiting = await place(client, shop, [(1, 1)])
    early = await client.post(f"{API}/orders/{waiting['id']}/returns", headers=shop.auth, json={
        "location_id": shop.store_a, "lines": [{"order_line_id": waiting["lines"][0]["id"], "quantity": 1,
                                                 "reason": "changed_mind"}]})
    assert early.status_code == 422 and problem(early)["returnable"] == 0

    order = await delivered_online_order(client, shop, [(1, 2)])
    line = order["lines"][0]["id"]
    body = {"location_id": shop.store_a, "lines": [{"order_line_id": line, "quantity": 2, "reason": "wrong_item"}]}
    first = await act(client, shop.auth, f"/orders/{order['id']}/returns", body, status=201)
    blocked = await client.post(f"{API}/orders/{order['id']}/returns", headers=shop.auth, json=body)
    assert blocked.status_code == 422
    rejected = await act(client, shop.auth, f"/returns/{first['id']}/reject", {"reason": "outside 30 days"})
    assert (rejected["state"], rejected["outcome"]) == ("rejected", "outside 30 days")
    refused = await client.post(f"{API}/returns/{first['id']}/authorise", headers=shop.auth)
    assert refused.status_code == 409 and problem(refused)["allowed"] == []
    # a rejected return gives its units back to what may be returned
    second = await act(client, shop.auth, f"/orders/{order['id']}/returns", body, status=201)
    await act(client, shop.auth, f"/returns/{second['id']}/authorise")
    cancelled = await act(client, shop.auth, f"/returns/{second['id']}/cancel", {"reason": "customer kept it"})
    assert cancelled["state"] == "cancelled"
    third = await act(client, shop.auth, f"/orders/{order['id']}/returns", {**body, "authorise": True}, status=201)
    not_yet = await client.post(f"{API}/returns/{third['id']}/refund", headers=shop.auth, json={})
    assert not_yet.status_code == 409 and problem(not_yet)["current_state"] == "authorised"
    bad_place = await client.post(f"{API}/returns/{third['id']}/receive", headers=shop.auth,
                                  json={"location_id": shop.warehouse + 10_000})
    assert bad_place.status_code == 404
    await act(client, shop.auth, f"/returns/{third['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{third['id']}/inspect", {"lines": [
        {"return_line_id": third["lines"][0]["id"], "condition": "used", "disposition": "restock"}]})
    closed = await act(client, shop.auth, f"/returns/{third['id']}/close", {"reason": "worn: no refund"})
    assert (closed["state"], closed["refunded"], closed["closed_at"] is not None) == ("closed", "0.00", True)
    assert await level(session, shop.skus[1], shop.store_a) == (2, 0)
    listed = (await client.get(f"{API}/returns", headers=shop.auth, params={"order_number": order["number"]})).json()
    assert [r["state"] for r in listed["items"]] == ["closed", "cancelled", "rejected"]
    only = (await client.get(f"{API}/returns", headers=shop.auth, params={
        "order_number": order["number"], "state": "rejected"})).json()["items"]
    assert [r["id"] for r in only] == [first["id"]]
    by_email = (await client.get(f"{API}/returns", headers=shop.auth, params={
        "email": "ANNA@example.com", "location_id": shop.store_a, "limit": 2})).json()
    assert len(by_email["items"]) == 2 and by_email["next_cursor"]
    await assert_invariants(session)


async def test_discounted_marketplace_order_refunds_what_was_paid(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    imported = await client.post(f"{API}/orders/import", headers=shop.auth, json={
        "channel_id": shop.channel_id, "external_id": "ALG-RET-1", "revision": 1,
        "buyer": {"name": "Jan Kowalski", "email": "jan@example.com", "phone": "+48 600 100 200"},
        "delivery": {"method": "ship", "address": {"city": "Poznań", "latitude": 52.4, "longitude": 16.9}},
        "lines": [{"sku": shop.skus[2], "quantity": 3, "unit_price": "33.34", "discount": "10.00"}],
        "shipping_amount": "12.00"})
    assert imported.status_code == 201, imported.text
    order = imported.json()["order"]
    fo = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked"):
        await act(client, shop.auth, f"/fulfilment-orders/{fo}/{move}")
    await act(client, shop.auth, f"/fulfilment-orders/{fo}/ship", {"carrier": "InPost", "tracking_number": "X"})
    await act(client, shop.auth, f"/fulfilment-orders/{fo}/deliver")
    # found by the marketplace's own id, or the buyer's phone
    by_external = (await client.get(f"{API}/returns/orders", headers=shop.auth, params={
        "channel_id": shop.channel_id, "external_id": "ALG-RET-1"})).json()
    by_phone = (await client.get(f"{API}/returns/orders", headers=shop.auth, params={"phone": "600100200"})).json()
    assert [o["order_id"] for o in by_external] == [o["order_id"] for o in by_phone] == [order["id"]]
    [line] = by_external[0]["lines"]
    assert (line["delivered"], line["returnable"], line["value_per_unit"]) == (3, 3, "30.01")
    # 3 × 33.34 − 10.00 = 90.02 paid: 30.01 + 30.00 + 30.01 back, unit by unit — exactly what was paid
    values = []
    for _ in range(3):
        ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
            "location_id": shop.store_a, "authorise": True,
            "lines": [{"order_line_id": line["order_line_id"], "quantity": 1, "reason": "defective"}]}, status=201)
        values.append(ret["amount"])
    assert values == ["30.01", "30.00", "30.01"] and sum(Decimal(v) for v in values) == Decimal("90.02")
    nothing_left = (await client.get(f"{API}/returns/orders", headers=shop.auth, params={
        "number": order["number"].lower()})).json()
    assert nothing_left[0]["lines"][0]["returnable"] == 0 and nothing_left[0]["lines"][0]["returned"] == 3
