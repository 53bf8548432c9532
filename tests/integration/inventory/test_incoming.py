"""Goods on order, pre-order caps and unpaid-order holds (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from omniretail.inventory import service
from omniretail.inventory.incoming import PreorderRefused
from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, channel_id, create_channel, create_variant


@pytest.fixture
async def preorder_shop(session):
    """A warehouse with 3 on hand, 10 due in 5 days (PO-1) and 20 in 40 days (PO-2); a channel promising
    incoming goods up to 30 days ahead, and one that does not."""
    wh = await create_location(session, kind="warehouse")
    sku, vid = await create_variant(session)
    await service.receive_stock(session, location_id=wh, lines=[(sku, 3)], actor="t")
    today = clock.now().date()
    soon = await service.add_incoming_stock(session, sku=sku, location_id=wh, quantity=10,
                                            expected_date=today + timedelta(days=5), reference="PO-1", actor="buyer")
    await service.add_incoming_stock(session, sku=sku, location_id=wh, quantity=20,
                                     expected_date=today + timedelta(days=40), reference="PO-2", actor="buyer")
    preorders = await create_channel(session, location_ids=[wh],
                                     policy={"promise_incoming": True, "incoming_max_days": 30, "buffer": 1})
    plain = await create_channel(session, location_ids=[wh])
    return wh, sku, vid, soon, preorders, plain, today


async def test_incoming_goods_in_the_promise_with_the_expected_date(session, preorder_shop):
    _wh, sku, vid, _soon, preorders, plain, today = preorder_shop
    result = await service.availability(session, sku=sku, channel=preorders, explain=True)
    assert (result.available, result.promised, result.promised_incoming) == (3, 12, 10)
    assert result.expected_date == today + timedelta(days=5)
    steps = result.explanation["steps"]
    assert [(s["rule"], s["before"], s["after"]) for s in steps] == [("sum", 0, 3), ("buffer", 3, 2),
                                                                     ("incoming", 2, 12)]
    incoming = result.explanation["incoming"]
    assert (incoming["on_order"], incoming["expected_date"]) == (10, (today + timedelta(days=5)).isoformat())
    assert [(x["reference"], x["counted"]) for x in incoming["lines"]] == [("PO-1", True), ("PO-2", False)]
    assert (await service.availability(session, sku=sku, channel=plain)).promised == 3
    bulk = await service.bulk_availability(session, skus=[sku], channel=preorders)
    assert [(i.promised, i.promised_incoming) for i in bulk.items] == [(12, 10)]

    await service.set_preorder_cap(session, sku=sku, cap=6)
    assert await service.take_preorder(session, variant_id=vid, quantity=4) == 4
    capped = await service.availability(session, sku=sku, channel=preorders)
    assert (capped.promised_incoming, capped.expected_date) == (2, today + timedelta(days=5))
    with pytest.raises(PreorderRefused):
        await service.take_preorder(session, variant_id=vid, quantity=3)
    assert await service.settle_preorder(session, variant_id=vid, quantity=4) == 0
    with pytest.raises(Conflict):
        await service.settle_preorder(session, variant_id=vid, quantity=1)
    bulk = await service.bulk_availability(session, skus=[sku], channel=preorders)
    assert bulk.items[0].promised_incoming == 6


async def test_receiving_goods_on_order_and_cancelling(session, preorder_shop):
    wh, sku, vid, soon, preorders, _plain, _today = preorder_shop
    part = await service.receive_incoming_stock(session, soon.id, actor="dock", quantity=4)
    assert (part.state, part.outstanding) == ("open", 6)
    rest = await service.receive_incoming_stock(session, soon.id, actor="dock")
    assert (rest.state, rest.outstanding, rest.received_quantity) == ("received", 0, 10)
    with pytest.raises(Conflict):
        await service.receive_incoming_stock(session, soon.id, actor="dock", quantity=1)
    result = await service.availability(session, sku=sku, channel=preorders)
    assert (result.available, result.promised_incoming) == (13, 0)  # PO-2 is beyond the 30 days
    moves, _ = await service.list_movements(session, sku=sku, reference_type="purchase_order")
    assert [m.quantity for m in moves] == [6, 4]
    later, _ = await service.list_incoming_stock(session, sku=sku, state="open")
    await service.cancel_incoming_stock(session, later[0].id)
    with pytest.raises(Conflict):
        await service.cancel_incoming_stock(session, later[0].id)
    with pytest.raises(PreorderRefused):  # nothing is on order any more
        await service.take_preorder(session, variant_id=vid, quantity=1)
    with pytest.raises(InvalidInput):
        await service.add_incoming_stock(session, sku=sku, location_id=wh, quantity=0, expected_date=date.today(),
                                         actor="t")
    await assert_invariants(session)


async def test_unpaid_order_hold_policy(session, preorder_shop):
    wh, sku, _vid, _soon, _preorders, _plain, _today = preorder_shop
    assert service.unpaid_order_hold({}) == service.UnpaidOrderHold(True, None)
    market = await create_channel(session, location_ids=[wh], policy={"hold_unpaid": True,
                                                                      "unpaid_hold_minutes": 30})
    hold = await service.unpaid_order_hold_for_channel(session, await channel_id(session, market))
    now = clock.now()
    assert hold.expires_at(now) == now + timedelta(minutes=30)
    assert service.unpaid_order_hold({"hold_unpaid": False}).hold is False
    with pytest.raises(InvalidInput):
        service.unpaid_order_hold({"hold_unpaid": "yes"})
    held = await service.reserve_stock(session, sku=sku, location_id=wh, quantity=1, reference="order:9/line:1",
                                       expires_at=hold.expires_at(now))
    assert await service.keep_reservations(session, reference_prefix="order:9/") == [held.reservation_id]
    clock.freeze(now + timedelta(hours=1))
    try:
        assert await service.expire_holds(session) == 0  # paid: the hold no longer expires
    finally:
        clock.freeze(None)
    await assert_invariants(session)
