"""A batch of stock moves (counts, receipts, imports): on PostgreSQL one statement locks the levels in order and
writes the levels, the ledger rows and the stock events; a batch it cannot take whole (a level to create, a
refused decrease, a level moved twice) takes the row-by-row path. Both backends give the same answer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from omniretail.inventory import ledger, service
from omniretail.inventory.errors import InsufficientStock
from omniretail.platform.sqlcount import counting_statements
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, create_variants


async def _events(session, topic: str) -> list[dict]:
    rows = (await session.execute(text("SELECT payload FROM outbox WHERE topic = :t ORDER BY id"), {"t": topic}))
    return [json.loads(p) if isinstance(p, str) else p for (p,) in rows]


async def _on_hand(session, location: int) -> dict[str, int]:
    levels, _ = await service.list_levels(session, location_id=location, limit=100)
    return {lv.sku: lv.on_hand for lv in levels}


@pytest.fixture
async def shelf(session):
    loc = await create_location(session)
    ids = await create_variants(session, "LB-A", "LB-B", "LB-C")
    await service.receive_stock(session, location_id=loc, lines=[("LB-A", 10), ("LB-B", 4), ("LB-C", 7)], actor="t")
    return loc, ids


async def test_a_counted_batch_moves_levels_writes_the_ledger_and_announces_each_change(session, shelf):
    loc, ids = shelf
    await service.update_location_settings(session, loc, default_low_stock_threshold=5)
    before = len(await _events(session, "inventory.stock_changed"))
    low_before = len(await _events(session, "inventory.low_stock"))  # LB-B (4) went low with the threshold
    async with counting_statements(session) as statements:
        moved = await service.count_stock(session, location_id=loc, actor="counter",
                                          lines=[("LB-C", 2), ("LB-A", 12), ("LB-B", 4)])
    assert [(m.sku, m.kind, m.quantity, m.on_hand_after, m.actor) for m in moved] == [
        ("LB-A", "count", 2, 12, "counter"), ("LB-B", "count", 0, 4, "counter"), ("LB-C", "count", -5, 2, "counter")]
    assert len({m.id for m in moved}) == 3
    assert await _on_hand(session, loc) == {"LB-A": 12, "LB-B": 4, "LB-C": 2}
    changed = (await _events(session, "inventory.stock_changed"))[before:]  # the agreeing count changed nothing
    assert sorted((e["variant_id"], e["on_hand"], e["available"], e["cause"]) for e in changed) == [
        (ids["LB-A"], 12, 12, "count"), (ids["LB-C"], 2, 2, "count")]
    assert [(e["variant_id"], e["available"]) for e in (await _events(session, "inventory.low_stock"))[low_before:]] \
        == [(ids["LB-C"], 2)]
    history, _ = await service.list_movements(session, sku="LB-C")
    assert [(m.kind, m.quantity, m.on_hand_after) for m in history][:2] == [("count", -5, 2), ("receipt", 7, 7)]
    if session.bind.dialect.name == "postgresql":  # the levels, ledger and events in one statement
        assert sum("stock_level" in s for s in statements) == 1
    await assert_invariants(session)


async def test_a_refused_decrease_in_a_batch_changes_nothing_of_it_and_is_reported(session, shelf):
    loc, ids = shelf
    await service.reserve_stock(session, sku="LB-A", location_id=loc, quantity=8)
    with pytest.raises(InsufficientStock):  # 5 counted, 8 reserved
        await service.count_stock(session, location_id=loc, actor="t", lines=[("LB-A", 5), ("LB-B", 1)])
    refused: list[ledger.Refusal] = []
    moves = [ledger.Move("LB-A", ids["LB-A"], loc, "count", 5, counted=True),
             ledger.Move("LB-B", ids["LB-B"], loc, "count", 1, counted=True)]
    applied = await ledger.apply_moves(session, moves, actor="import", refused=refused)
    assert [r.move.sku for r in refused] == ["LB-A"]
    assert [(m.sku, m.quantity, m.on_hand_after) for m in applied] == [("LB-B", -3, 1)]
    assert (await _on_hand(session, loc))["LB-A"] == 10
    await assert_invariants(session)


async def test_a_batch_with_a_new_level_or_a_level_moved_twice_is_applied_row_by_row(session, shelf):
    loc, ids = shelf
    other = await create_location(session)
    moved = await service.count_stock(session, location_id=other, actor="t", lines=[("LB-A", 3), ("LB-B", 0)])
    assert [(m.sku, m.quantity, m.on_hand_after) for m in moved] == [("LB-A", 3, 3), ("LB-B", 0, 0)]
    assert await _on_hand(session, other) == {"LB-A": 3}  # a zero count is a ledger row, not a level
    twice = await service.adjust_stock(session, location_id=loc, actor="t", reason="found, then lost",
                                       lines=[("LB-A", 2), ("LB-A", -1), ("LB-B", 1)])
    assert [(m.sku, m.quantity, m.on_hand_after) for m in twice] == [("LB-A", 2, 12), ("LB-A", -1, 11),
                                                                     ("LB-B", 1, 5)]
    await assert_invariants(session)
