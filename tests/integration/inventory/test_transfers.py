"""Transfers between locations (SQLite and PostgreSQL): ship, partial and full receipt, refusals, cancel."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from omniretail.inventory import service, transfers
from omniretail.inventory.errors import InsufficientStock, WrongState
from omniretail.platform.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, create_variants


async def _on_hand(session, sku: str, location_id: int) -> int:
    items, _ = await service.list_levels(session, sku=sku, location_id=location_id)
    return items[0].on_hand if items else 0


@pytest.fixture
async def two_places(session):
    """A warehouse with 10 × TR-A and 4 × TR-B, and an empty store."""
    wh, store = await create_location(session, kind="warehouse"), await create_location(session)
    await create_variants(session, "TR-A", "TR-B")
    await service.receive_stock(session, location_id=wh, lines=[("TR-A", 10), ("TR-B", 4)], actor="t")
    return wh, store


async def test_ship_then_receive_in_two_parts(session, two_places):
    wh, store = two_places
    requested = await transfers.create_transfer(
        session, source_location_id=wh, destination_location_id=store, lines=[("TR-A", 6), ("TR-B", 2)],
        actor="planner", order_reference="order:77", note="window display")
    assert requested.state == "requested" and requested.order_reference == "order:77"
    assert await _on_hand(session, "TR-A", wh) == 10  # nothing moves on request
    shipped = await transfers.ship_transfer(session, requested.id, actor="picker", lines=[("TR-A", 5)])
    assert shipped.state == "in_transit" and shipped.shipped_by == "picker"
    assert [(x.sku, x.quantity_shipped, x.quantity_in_transit) for x in shipped.lines] == [("TR-A", 5, 5),
                                                                                          ("TR-B", 0, 0)]
    assert await _on_hand(session, "TR-A", wh) == 5
    part = await transfers.receive_transfer(session, requested.id, actor="store", lines=[("TR-A", 3)])
    assert part.state == "in_transit"
    line = part.lines[0]
    assert (line.sku, line.quantity_received, line.quantity_in_transit) == ("TR-A", 3, 2)
    assert await transfers.count_in_transit(session, location_id=store) == 2
    assert await _on_hand(session, "TR-A", store) == 3
    done = await transfers.receive_transfer(session, requested.id, actor="store")
    assert done.state == "received" and done.received_at is not None
    assert await _on_hand(session, "TR-A", store) == 5
    moves, _ = await service.list_movements(session, reference_type="transfer", reference_id=str(requested.id))
    assert sorted((m.kind, m.location_id, m.quantity) for m in moves) == [
        ("transfer_in", store, 2), ("transfer_in", store, 3), ("transfer_out", wh, -5)]
    topics = (await session.execute(text(
        "SELECT topic FROM outbox WHERE topic LIKE 'inventory.transfer_%' ORDER BY id"))).scalars().all()
    assert topics[-4:] == ["inventory.transfer_requested", "inventory.transfer_shipped",
                           "inventory.transfer_received", "inventory.transfer_received"]
    await assert_invariants(session)


async def test_double_ship_and_double_receive_are_refused(session, two_places):
    wh, store = two_places
    t = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("TR-A", 2)], actor="t")
    with pytest.raises(WrongState):
        await transfers.receive_transfer(session, t.id, actor="t")  # not shipped yet
    await transfers.ship_transfer(session, t.id, actor="t")
    with pytest.raises(WrongState) as again:
        await transfers.ship_transfer(session, t.id, actor="t")
    assert again.value.extensions["state"] == "in_transit" and again.value.status == 409
    with pytest.raises(InvalidInput):
        await transfers.receive_transfer(session, t.id, actor="t", lines=[("TR-A", 3)])  # more than in transit
    await transfers.receive_transfer(session, t.id, actor="t")
    with pytest.raises(WrongState):
        await transfers.receive_transfer(session, t.id, actor="t")
    with pytest.raises(WrongState):
        await transfers.cancel_transfer(session, t.id, actor="t")
    assert await _on_hand(session, "TR-A", wh) == 8 and await _on_hand(session, "TR-A", store) == 2
    await assert_invariants(session)


async def test_cancel_only_before_shipping_and_reserved_stock_cannot_ship(session, two_places):
    wh, store = two_places
    t = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("TR-B", 3)], actor="t")
    cancelled = await transfers.cancel_transfer(session, t.id, actor="t")
    assert cancelled.state == "cancelled" and cancelled.cancelled_at is not None
    with pytest.raises(WrongState):
        await transfers.ship_transfer(session, t.id, actor="t")
    await service.reserve_stock(session, sku="TR-B", location_id=wh, quantity=2)
    t2 = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                         lines=[("TR-B", 3)], actor="t")
    with pytest.raises(InsufficientStock):
        await transfers.ship_transfer(session, t2.id, actor="t")
    await assert_invariants(session)


async def test_bad_requests_and_scoping(session, two_places):
    wh, store = two_places
    elsewhere = await create_location(session)
    with pytest.raises(InvalidInput):
        await transfers.create_transfer(session, source_location_id=wh, destination_location_id=wh,
                                        lines=[("TR-A", 1)], actor="t")
    with pytest.raises(InvalidInput) as unknown:
        await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("NOPE", 1)], actor="t")
    assert unknown.value.extensions["unknown_skus"] == ["NOPE"]
    with pytest.raises(InvalidInput):
        await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("TR-A", 1), ("TR-A", 2)], actor="t")
    with pytest.raises(NotFound):
        await transfers.create_transfer(session, source_location_id=wh, destination_location_id=elsewhere,
                                        lines=[("TR-A", 1)], actor="t", scope=frozenset({store}))
    t = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("TR-A", 1)], actor="store", scope=frozenset({store}))
    with pytest.raises(PermissionDenied):  # the store may ask, only the warehouse ships
        await transfers.ship_transfer(session, t.id, actor="store", scope=frozenset({store}))
    with pytest.raises(NotFound):
        await transfers.get_transfer(session, t.id, scope=frozenset({elsewhere}))
    await transfers.ship_transfer(session, t.id, actor="wh", scope=frozenset({wh}))
    with pytest.raises(PermissionDenied):
        await transfers.receive_transfer(session, t.id, actor="wh", scope=frozenset({wh}))
    mine, _ = await transfers.list_transfers(session, scope=frozenset({store}))
    assert [x.id for x in mine] == [t.id]
    assert (await transfers.list_transfers(session, scope=frozenset({elsewhere})))[0] == []
    by_state, _ = await transfers.list_transfers(session, state="in_transit", location_id=wh)
    assert t.id in [x.id for x in by_state]


async def test_a_request_gives_up_units_only_before_it_ships(session, two_places):
    wh, store = two_places
    t = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                        lines=[("TR-A", 3), ("TR-B", 1)], actor="t")
    with pytest.raises(InvalidInput, match="at most 1 of TR-B"):
        await transfers.amend_request(session, t.id, remove=[("TR-B", 2)], actor="t")
    amended = await transfers.amend_request(session, t.id, remove=[("TR-A", 1), ("TR-B", 1)], actor="t")
    assert amended.state == "requested" and [(x.sku, x.quantity_requested) for x in amended.lines] == [("TR-A", 2)]
    payload = (await session.execute(text(
        "SELECT payload FROM outbox WHERE topic = 'inventory.transfer_amended' ORDER BY id DESC LIMIT 1"))).scalar_one()
    payload = json.loads(payload) if isinstance(payload, str) else payload  # SQLite: text
    assert sorted((x["sku"], x["quantity"]) for x in payload["lines"]) == [("TR-A", 1), ("TR-B", 1)]
    emptied = await transfers.amend_request(session, t.id, remove=[("TR-A", 2)], actor="t")
    assert emptied.state == "cancelled" and emptied.lines == []

    shipped = await transfers.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                              lines=[("TR-A", 1)], actor="t")
    await transfers.ship_transfer(session, shipped.id, actor="t")
    with pytest.raises(WrongState):
        await transfers.amend_request(session, shipped.id, remove=[("TR-A", 1)], actor="t")
    await assert_invariants(session)
