"""Inventory services against a real database (SQLite and PostgreSQL): ledger, reservations, alerts, events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from omniretail.inventory import service
from omniretail.inventory.errors import InsufficientStock, ReservationClosed
from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound, TooManyItems
from tests.factories import create_location
from tests.integration.inventory.helpers import (
    assert_invariants,
    create_channel,
    create_variant,
    create_variants,
)


async def _events(session, topic: str | None = None) -> list[tuple[str, str | None, dict]]:
    rows = (await session.execute(text("SELECT topic, coalesce_key, payload FROM outbox ORDER BY id"))).all()
    out = []
    for topic_, key, payload in rows:
        if isinstance(payload, str):
            payload = json.loads(payload)
        if topic is None or topic_ == topic:
            out.append((topic_, key, payload))
    return out


async def _level(session, sku: str, location_id: int):
    items, _ = await service.list_levels(session, sku=sku, location_id=location_id)
    return items[0] if items else None


@pytest.fixture
async def stocked(session):
    """One store with 10 units of one SKU."""
    loc = await create_location(session)
    sku, vid = await create_variant(session)
    await service.receive_stock(session, location_id=loc, lines=[(sku, 10)], actor="test")
    return loc, sku, vid


async def test_receive_adjust_count_keep_the_ledger_and_level_in_step(session):
    loc = await create_location(session)
    skus = await create_variants(session, "INV-A", "INV-B")
    await service.receive_stock(session, location_id=loc, lines=[("INV-A", 10), ("INV-B", 4)], actor="me",
                                reference=service.MovementReference("purchase_order", "PO-1"))
    adjusted = await service.adjust_stock(session, location_id=loc, lines=[("INV-A", -3)], reason="broken",
                                          kind="damage", actor="me")
    assert [(m.kind, m.quantity, m.on_hand_after) for m in adjusted] == [("damage", -3, 7)]
    counted = await service.count_stock(session, location_id=loc, lines=[("INV-A", 9), ("INV-B", 4)], actor="me")
    assert [(m.sku, m.quantity, m.on_hand_after) for m in counted] == [("INV-A", 2, 9), ("INV-B", 0, 4)]
    assert (await _level(session, "INV-A", loc)).on_hand == 9
    history, _ = await service.list_movements(session, sku="INV-A")
    assert [m.kind for m in history] == ["count", "damage", "receipt"]
    by_ref, _ = await service.list_movements(session, reference_type="purchase_order", reference_id="PO-1")
    assert {m.variant_id for m in by_ref} == set(skus.values())
    await assert_invariants(session)


async def test_bad_input_is_refused_before_anything_changes(session, stocked):
    loc, sku, _ = stocked
    with pytest.raises(InvalidInput):
        await service.adjust_stock(session, location_id=loc, lines=[(sku, -1)], reason=" ", actor="me")
    with pytest.raises(InvalidInput) as unknown:
        await service.receive_stock(session, location_id=loc, lines=[(sku, 1), ("NO-SUCH", 1)], actor="me")
    assert unknown.value.extensions["unknown_skus"] == ["NO-SUCH"]
    with pytest.raises(NotFound):
        await service.receive_stock(session, location_id=999_999, lines=[(sku, 1)], actor="me")
    assert (await _level(session, sku, loc)).on_hand == 10


async def test_reserve_takes_only_what_is_available_after_safety_stock(session, stocked):
    loc, sku, vid = stocked
    await service.update_level_settings(session, sku=sku, location_id=loc, safety_stock=2)
    held = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=5, reference="order:1/line:1")
    assert held.available_after == 3
    with pytest.raises(InsufficientStock) as refused:
        await service.reserve_stock(session, variant_id=vid, location_id=loc, quantity=4)
    problem = refused.value.to_problem()
    assert problem["status"] == 409 and problem["sku"] == sku and problem["available"] == 3
    assert problem["requested"] == 4 and problem["location_id"] == loc
    await service.reserve_stock(session, sku=sku, location_id=loc, quantity=3)
    level = await _level(session, sku, loc)
    assert (level.on_hand, level.reserved, level.available) == (10, 8, 0)
    await assert_invariants(session)


async def test_reserve_reports_unknown_sku_location_and_missing_level(session, stocked):
    loc, sku, _ = stocked
    with pytest.raises(NotFound):
        await service.reserve_stock(session, sku="NOPE", location_id=loc, quantity=1)
    with pytest.raises(NotFound):
        await service.reserve_stock(session, sku=sku, location_id=999_999, quantity=1)
    other = await create_location(session)
    with pytest.raises(InsufficientStock) as empty:
        await service.reserve_stock(session, sku=sku, location_id=other, quantity=1)
    assert empty.value.available == 0


async def test_decrease_below_reserved_is_refused_unless_the_location_allows_negative(session, stocked):
    loc, sku, _ = stocked
    await service.reserve_stock(session, sku=sku, location_id=loc, quantity=8)
    with pytest.raises(InsufficientStock) as refused:
        await service.adjust_stock(session, location_id=loc, lines=[(sku, -3)], reason="lost", actor="me")
    assert refused.value.available == 2
    with pytest.raises(InsufficientStock):
        await service.count_stock(session, location_id=loc, lines=[(sku, 7)], actor="me")
    await service.adjust_stock(session, location_id=loc, lines=[(sku, -2)], reason="lost", actor="me")
    await service.update_location_settings(session, loc, allow_negative_stock=True)
    await service.count_stock(session, location_id=loc, lines=[(sku, 0)], actor="me")
    level = await _level(session, sku, loc)
    assert (level.on_hand, level.reserved) == (0, 8)


async def test_release_consume_and_their_retries(session, stocked):
    loc, sku, _ = stocked
    a = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=2, reference="order:7")
    b = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=3, reference="order:7")
    c = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1, reference="order:8")
    assert await service.release_reservations(session, reservation_ids=[a.reservation_id]) == [a.reservation_id]
    assert await service.release_reservations(session, reservation_ids=[a.reservation_id]) == []  # a retry
    level = await service.consume_reservation(session, reservation_id=b.reservation_id, actor="picker")
    assert (level.on_hand, level.reserved) == (7, 1)
    with pytest.raises(ReservationClosed):
        await service.consume_reservation(session, reservation_id=b.reservation_id)
    with pytest.raises(ReservationClosed):
        await service.release_reservations(session, reservation_ids=[b.reservation_id])
    with pytest.raises(NotFound):
        await service.release_reservations(session, reservation_ids=[999_999])
    assert await service.release_reservations(session, reference="order:8") == [c.reservation_id]
    sale, _ = await service.list_movements(session, sku=sku, kind="sale")
    assert [(m.quantity, m.reference_type, m.reference_id) for m in sale] == [(-3, "reservation",
                                                                               str(b.reservation_id))]
    await assert_invariants(session)


async def test_expired_cart_holds_go_back_to_stock(session, stocked):
    loc, sku, _ = stocked
    start = clock.now()
    clock.freeze(start)
    try:
        hold = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=4, kind="cart_hold")
        assert hold.expires_at == start + timedelta(minutes=15)
        order = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1)
        assert await service.expire_holds(session) == 0
        clock.freeze(start + timedelta(minutes=16))
        assert await service.expire_holds(session) == 1
        assert await service.expire_holds(session) == 0
    finally:
        clock.freeze(None)
    assert (await _level(session, sku, loc)).reserved == 1
    assert await service.release_reservations(session, reservation_ids=[hold.reservation_id]) == []
    assert order.reservation_id
    await assert_invariants(session)


async def test_every_availability_change_appends_a_coalescible_event(session, stocked):
    loc, sku, vid = stocked
    before = len(await _events(session, "inventory.stock_changed"))
    r = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1)
    await service.consume_reservation(session, reservation_id=r.reservation_id)  # available unchanged
    r2 = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1)
    await service.release_reservations(session, reservation_ids=[r2.reservation_id])
    changed = (await _events(session, "inventory.stock_changed"))[before:]
    assert [e[2]["cause"] for e in changed] == ["reserved", "reserved", "released"]
    assert {e[1] for e in changed} == {f"stock:{vid}"}
    assert changed[-1][2] == {"variant_id": vid, "location_id": loc, "on_hand": 9, "reserved": 0,
                              "safety_stock": 0, "available": 9, "version": changed[-1][2]["version"],
                              "cause": "released"}


async def test_low_stock_is_announced_once_per_crossing(session, stocked):
    loc, sku, _ = stocked
    await service.update_location_settings(session, loc, default_low_stock_threshold=5)
    ids = []
    for _ in range(6):  # available 10 → 4: crosses below 5 once
        ids.append((await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1)).reservation_id)
    assert [e[2]["available"] for e in await _events(session, "inventory.low_stock")] == [4]
    low, _ = await service.list_levels(session, low_only=True, location_id=loc)
    assert [lv.sku for lv in low] == [sku] and low[0].low_stock_threshold == 5
    await service.release_reservations(session, reservation_ids=ids[:2])  # back to 6: recovered once
    await service.reserve_stock(session, sku=sku, location_id=loc, quantity=2)  # 4 again: a new crossing
    assert len(await _events(session, "inventory.low_stock")) == 2
    assert len(await _events(session, "inventory.low_stock_recovered")) == 1
    await service.update_level_settings(session, sku=sku, location_id=loc, low_stock_threshold=2)  # own threshold
    assert len(await _events(session, "inventory.low_stock_recovered")) == 2
    await service.update_location_settings(session, loc, default_low_stock_threshold=50)  # level keeps its own
    assert not (await _level(session, sku, loc)).low_stock


async def test_channel_availability_with_policy_scope_and_bulk(session):
    wh, store, other = [await create_location(session) for _ in range(3)]
    skus = await create_variants(session, "ATP-1", "ATP-2")
    await service.receive_stock(session, location_id=wh, lines=[("ATP-1", 9), ("ATP-2", 1)], actor="t")
    await service.receive_stock(session, location_id=store, lines=[("ATP-1", 4)], actor="t")
    await service.receive_stock(session, location_id=other, lines=[("ATP-1", 100)], actor="t")
    channel = await create_channel(session, location_ids=[wh, store], policy={"share_percent": 50, "keep_last": 2})
    result = await service.availability(session, sku="ATP-1", channel=channel, explain=True)
    assert (result.available, result.promised) == (13, 6)
    lines = result.explanation["locations"]
    assert [(x["location_id"], x["available"]) for x in lines] == [(wh, 9), (store, 4)]
    assert [s["rule"] for s in result.explanation["steps"]] == ["sum", "share", "keep_last"]
    scoped = await service.availability(session, sku="ATP-1", channel=channel, scope=frozenset({store}))
    assert (scoped.available, scoped.limited_to_your_locations) == (4, True)
    everywhere = await service.availability(session, sku="ATP-1")
    assert everywhere.available == 113 and everywhere.channel is None
    bulk = await service.bulk_availability(session, skus=["ATP-2", "ATP-1", "NOPE", "ATP-1"], channel=channel)
    assert [(i.sku, i.available, i.promised) for i in bulk.items] == [("ATP-2", 1, 0), ("ATP-1", 13, 6)]
    assert bulk.unknown_skus == ["NOPE"]
    with pytest.raises(TooManyItems):
        await service.bulk_availability(session, skus=[f"S{i}" for i in range(10_001)])
    with pytest.raises(NotFound):
        await service.availability(session, sku="ATP-1", channel="no-such-channel")
    assert skus
