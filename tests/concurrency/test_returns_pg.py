"""Returns under real concurrency on PostgreSQL (own connections, a fresh migrated database, no outer
transaction): of refunds of one return made at once exactly one pays; of receipts at once exactly one restocks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level
from tests.integration.orders.returns_helpers import act, delivered_online_order, inspected_return

pytestmark = pytest.mark.postgres


async def _at_once(n: int, call):
    gate = asyncio.Event()

    async def one(i):
        await gate.wait()
        return await call(i)

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(0.05)
    gate.set()
    return await asyncio.gather(*tasks)


async def test_refunds_of_one_return_at_once_pay_exactly_once(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
        clerks = [await associate(session, shop.store_b) for _ in range(2)]
    order = await delivered_online_order(client, shop, [(0, 1), (1, 1)])
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": shop.store_b, "authorise": True,
        "lines": [{"order_line_id": ln["id"], "quantity": 1, "reason": "changed_mind"} for ln in order["lines"]]},
        status=201)
    rid = ret["id"]

    receipts = await _at_once(2, lambda i: client.post(f"{API}/returns/{rid}/receive", headers=clerks[i], json={}))
    assert sorted(r.status_code for r in receipts) == [200, 409], [r.text for r in receipts]
    inspections = await _at_once(2, lambda i: client.post(f"{API}/returns/{rid}/inspect", headers=clerks[i], json={
        "lines": [{"return_line_id": ln["id"], "condition": "new", "disposition": "restock"}
                  for ln in ret["lines"]]}))
    assert sorted(r.status_code for r in inspections) == [200, 409], [r.text for r in inspections]

    refunds = await _at_once(8, lambda i: client.post(f"{API}/returns/{rid}/refund", headers=clerks[i % 2],
                                                      json={"method": "card"}))
    assert sorted(r.status_code for r in refunds) == [201] + [409] * 7, [r.text for r in refunds]
    winner = next(r for r in refunds if r.status_code == 201).json()
    assert (winner["state"], winner["refunded"]) == ("refunded", "119.99")
    async with unit_of_work(db, readonly=True) as session:
        paid = (await session.execute(text(
            "SELECT COUNT(*), SUM(amount_minor) FROM refund WHERE return_id = :id"), {"id": rid})).one()
        assert tuple(paid) == (1, 11999)
        restocks = (await session.execute(text(
            "SELECT COUNT(*) FROM stock_movement WHERE kind = 'return_restock' AND reference_id = :n"),
            {"n": ret["number"]})).scalar_one()
        assert restocks == 2  # one per line, once
        assert await level(session, shop.skus[0], shop.store_b) == (1, 0)
        events = (await session.execute(text(
            "SELECT COUNT(*) FROM order_event WHERE kind = 'refund.created' AND order_id = :id"),
            {"id": order["id"]})).scalar_one()
        assert events == 1
        await assert_invariants(session)


async def test_partial_refunds_at_once_never_pay_more_than_is_owed(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
    order = await delivered_online_order(client, shop, [(0, 1)])
    ret = await inspected_return(client, shop, order, location_id=shop.store_a, condition="damaged",
                                 disposition="damaged")
    # 6 × 30.00 against 100.00 owed: whatever the interleaving, 3 succeed and never more than 100.00 is paid
    responses = await _at_once(6, lambda i: client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth,
                                                        json={"amount": "30.00"}))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 3, [r.text for r in responses]
    async with unit_of_work(db, readonly=True) as session:
        total = (await session.execute(text("SELECT COALESCE(SUM(amount_minor), 0) FROM refund WHERE return_id = :id"),
                                       {"id": ret["id"]})).scalar_one()
        refunded = (await session.execute(text("SELECT refunded_minor FROM sales_return WHERE id = :id"),
                                          {"id": ret["id"]})).scalar_one()
    assert total == refunded <= 10000
    assert total == 3000 * sum(r.status_code == 201 for r in responses)


async def test_refunds_at_once_of_a_cancelled_replacements_credit_on_a_settled_return_pay_it_once(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, stock={"warehouse": {"0": 5, "1": 5, "2": 5}})
    order = await delivered_online_order(client, shop, [(0, 1), (2, 1)])
    sku0, sku1, sku2 = shop.skus  # 100.00, 19.99, 5.00
    lines = {ln["sku"]: ln["id"] for ln in order["lines"]}
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": shop.store_a, "authorise": True,
        "lines": [{"order_line_id": lines[sku0], "quantity": 1, "reason": "changed_mind"},
                  {"order_line_id": lines[sku2], "quantity": 1, "reason": "wrong_item"}]}, status=201)
    big, small = ret["lines"]
    swap = (await act(client, shop.auth, f"/returns/{ret['id']}/exchange",
                      {"lines": [{"return_line_id": small["id"], "sku": sku1}]}, status=201))["order"]
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    await act(client, shop.auth, f"/returns/{ret['id']}/inspect", {"lines": [
        {"return_line_id": x["id"], "condition": "new", "disposition": "restock"} for x in (big, small)]})
    assert (await act(client, shop.auth, f"/returns/{ret['id']}/refund", {}, status=201))["state"] == "refunded"
    await act(client, shop.auth, f"/orders/{swap['id']}/cancel", {"reason": "out of stock"})

    responses = await _at_once(6, lambda i: client.post(f"{API}/returns/{ret['id']}/refund", headers=shop.auth,
                                                        json={"method": "card"}))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [r.text for r in responses]
    async with unit_of_work(db, readonly=True) as session:
        paid = (await session.execute(text(
            "SELECT COUNT(*), SUM(amount_minor) FROM refund WHERE return_id = :id"), {"id": ret["id"]})).one()
        assert tuple(paid) == (2, 10500)  # the refunded return, then the credit (5.00) once
        given_back = (await session.execute(text(
            "SELECT COUNT(*) FROM order_event WHERE kind = 'return.exchange_cancelled' AND order_id = :id"),
            {"id": order["id"]})).scalar_one()
        assert given_back == 1
        await assert_invariants(session)
