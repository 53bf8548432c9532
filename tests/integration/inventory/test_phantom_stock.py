"""Phantom stock: rejected picks counted per store and SKU, a caution buffer after K of them that channel
availability holds back (and explains), decaying with clean picks; the report for the back office."""

from __future__ import annotations

from sqlalchemy import text

from omniretail.inventory import phantom
from omniretail.inventory.phantom import PhantomRule, PhantomState, after_clean_pick, after_rejection
from tests.integration.orders.helpers import API, associate, create_shop, order_body, outbox


def test_the_rule_buffers_from_the_kth_strike_and_decays_one_unit_per_n_clean_picks():
    rule = PhantomRule(threshold=2, buffer_step=1, clean_picks_per_unit=3)
    one = after_rejection(PhantomState(), 2, rule)
    assert (one.rejections, one.units, one.strikes, one.buffer) == (1, 2, 1, 0)
    two = after_rejection(one, 1, rule)
    assert (two.rejections, two.units, two.strikes, two.buffer) == (2, 3, 2, 1)
    three = after_rejection(two, 1, rule)
    assert three.buffer == 2
    state = three
    for _ in range(3):
        state = after_clean_pick(state, rule)
    assert (state.buffer, state.clean_picks_since) == (1, 0)
    for _ in range(3):
        state = after_clean_pick(state, rule)
    assert (state.buffer, state.strikes, state.rejections) == (0, 0, 3)  # trusted again; the history stays
    capped = PhantomState(buffer=20, strikes=30)
    assert after_rejection(capped, 1, rule).buffer == phantom.MAX_BUFFER


async def _channel_code(session, channel_id: int) -> str:
    return (await session.execute(text("SELECT code FROM channel WHERE id = :id"), {"id": channel_id})).scalar_one()


async def _pickup_and_reject(client, shop, staff):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert r.status_code == 201, r.text
    order = r.json()
    r = await client.post(f"{API}/fulfilment-orders/{order['fulfilment_orders'][0]['id']}/reject-lines",
                          headers=staff, json={"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1,
                                                          "reason": "not_found"}]})
    assert r.status_code == 200, r.text
    return r.json()


async def _clean_pick(client, shop, staff):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a}))
    assert r.status_code == 201, r.text
    fo_id = r.json()["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked"):
        assert (await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=staff)).status_code == 200


async def _explain(client, shop, code):
    r = await client.get(f"{API}/inventory/availability/{shop.skus[0]}", headers=shop.auth,
                         params={"channel": code, "explain": "true"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_two_rejections_buffer_the_store_in_availability_and_clean_picks_lift_it(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 10}, "store_a": {"0": 10}})
    code = await _channel_code(session, shop.channel_id)
    staff = await associate(session, shop.store_a)
    await _pickup_and_reject(client, shop, staff)
    first = await _explain(client, shop, code)
    assert "phantom_stock_buffer" not in first["explanation"]  # one strike: not yet
    out = await _pickup_and_reject(client, shop, staff)
    assert out["phantom_stock"] == [{"sku": shop.skus[0], "location_id": shop.store_a, "rejections": 2, "buffer": 1}]

    answer = await _explain(client, shop, code)
    # store A: 8 on hand (two units counted away), nothing reserved (both re-routed), 1 held back
    store = next(x for x in answer["explanation"]["locations"] if x["location_id"] == shop.store_a)
    assert (store["on_hand"], store["reserved"], store["available"]) == (8, 0, 7)
    assert store["phantom_stock_buffer"]["units"] == 1 and store["phantom_stock_buffer"]["rejections"] == 2
    assert "phantom-stock buffer" in store["note"]
    [line] = answer["explanation"]["phantom_stock_buffer"]
    assert (line["location_id"], line["units"], line["rejections"]) == (shop.store_a, 1, 2)
    assert "2 rejected pick(s)" in line["reason"]
    warehouse_available = next(x["available"] for x in answer["explanation"]["locations"]
                               if x["location_id"] == shop.warehouse)
    assert answer["available"] == warehouse_available + 7
    bulk = (await client.post(f"{API}/inventory/availability/bulk", headers=shop.auth,
                              json={"skus": [shop.skus[0]], "channel": code})).json()
    assert bulk["items"][0]["available"] == answer["available"]  # the bulk query holds it back too
    plain = (await client.get(f"{API}/inventory/availability/{shop.skus[0]}", headers=shop.auth)).json()
    assert plain["available"] == answer["available"] + 1  # without a channel: the stock as it is

    report = (await client.get(f"{API}/inventory/phantom-stock", headers=shop.auth)).json()["items"]
    mine = [r for r in report if r["location_id"] == shop.store_a]
    assert [(r["sku"], r["rejections"], r["units"], r["buffer"], r["last_reason"]) for r in mine] == [
        (shop.skus[0], 2, 2, 1, "not_found")]
    other = await associate(session, shop.store_b)
    assert (await client.get(f"{API}/inventory/phantom-stock", headers=other,
                             params={"location_id": shop.store_a})).status_code == 404

    for _ in range(3):  # three clean picks of the SKU at store A take the unit back off
        await _clean_pick(client, shop, staff)
    after = await _explain(client, shop, code)
    assert "phantom_stock_buffer" not in after["explanation"]
    store = next(x for x in after["explanation"]["locations"] if x["location_id"] == shop.store_a)
    assert (store["on_hand"], store["reserved"], store["available"]) == (8, 3, 5)
    rows = await phantom.phantom_stock_report(session, location_id=shop.store_a)
    assert [(r.rejections, r.buffer, r.strikes) for r in rows] == [(2, 0, 0)]
    changed = await outbox(session, "inventory.stock_changed", location_id=shop.store_a, cause="phantom_stock_buffer")
    assert len(changed) == 1  # channels learn that the store may promise more again


async def test_a_location_can_be_stricter(client, session):
    shop = await create_shop(session, stock={"warehouse": {"0": 10}, "store_a": {"0": 5}})
    url = f"{API}/inventory/phantom-stock/settings/{shop.store_a}"
    staff = await associate(session, shop.store_a)
    assert (await client.put(url, headers=staff, json={"threshold": 1})).status_code == 403
    bad = await client.put(url, headers=shop.auth, json={"threshold": 0})
    assert bad.status_code == 422
    ok = await client.put(url, headers=shop.auth, json={"threshold": 1, "buffer_step": 2, "clean_picks_per_unit": 1})
    assert ok.status_code == 204, ok.text
    out = await _pickup_and_reject(client, shop, staff)
    assert out["phantom_stock"][0]["buffer"] == 2
    await _clean_pick(client, shop, staff)
    [row] = await phantom.phantom_stock_report(session, location_id=shop.store_a)
    assert row.buffer == 1
