"""A lost race at placement: the stock read said a location had the units, another order reserved them first.
``reserve_lines`` reports every refused line; placement re-routes once, then applies the channel's policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omniretail.inventory import service as inventory_service
from omniretail.orders import placement_pg, sourcing
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, create_shop, level, order_body


def _stale_stock(monkeypatch, *, calls: int):
    """The first ``calls`` stock reads see the levels as they were before the test took stock away."""
    real = sourcing.load_stock
    seen: dict = {"n": 0, "snapshot": None}

    async def load_stock(session, *, variant_ids, location_ids, shelf=False):
        seen["n"] += 1
        if seen["n"] <= calls and seen["snapshot"] is not None:
            return {loc: dict(v) for loc, v in seen["snapshot"].items() if loc in location_ids}
        return await real(session, variant_ids=variant_ids, location_ids=location_ids, shelf=shelf)

    real_read = placement_pg.read

    async def read(session, **kwargs):  # PostgreSQL: the stock comes with the placement's one read
        found = await real_read(session, **kwargs)
        seen["n"] += 1
        if seen["n"] <= calls and seen["snapshot"] is not None:
            return replace(found, stock={loc: dict(v) for loc, v in seen["snapshot"].items()
                                         if loc in kwargs["location_ids"]})
        return found

    async def freeze(session, variant_ids, location_ids):
        seen["snapshot"] = await real(session, variant_ids=variant_ids, location_ids=location_ids)

    monkeypatch.setattr(sourcing, "load_stock", load_stock)
    monkeypatch.setattr(placement_pg, "read", read)
    return freeze


async def _take(session, shop, sku_index: int, location_id: int, units: int) -> None:
    """Another order wins the race for these units."""
    await inventory_service.reserve_stock(session, sku=shop.skus[sku_index], location_id=location_id,
                                          quantity=units, reference="rival")
    await session.commit()


async def test_reserve_lines_reports_each_line_that_lost(session):
    shop = await create_shop(session)
    ids = await inventory_service.repo.variant_ids(session, shop.skus)
    lines = [{"variant_id": ids[shop.skus[0]], "location_id": shop.store_a, "quantity": 5, "reference": "a"},
             {"variant_id": ids[shop.skus[0]], "location_id": shop.warehouse, "quantity": 4, "reference": "b"},
             {"variant_id": ids[shop.skus[1]], "location_id": shop.store_b, "quantity": 3, "reference": "c"}]
    with pytest.raises(inventory_service.ReservationShortfall) as lost:
        await inventory_service.reserve_lines(session, lines=lines, kind="order_line")
    short = {(s.index, s.location_id, s.requested, s.available) for s in lost.value.shortfalls}
    assert short == {(0, shop.store_a, 5, 3), (2, shop.store_b, 3, 2)}
    assert list(lost.value.reserved) == [1] and lost.value.reserved[1].quantity == 4
    assert lost.value.to_problem()["shortfalls"][0]["available"] in (2, 3)
    assert isinstance(lost.value, inventory_service.InsufficientStock)  # callers that knew one refusal still work


async def test_a_lost_race_is_routed_again_on_the_stock_that_is_left(client, session, monkeypatch):
    shop = await create_shop(session)  # SKU0: warehouse 10, store A 3; the customer is in Warsaw, by store A
    freeze = _stale_stock(monkeypatch, calls=1)
    ids = await inventory_service.repo.variant_ids(session, shop.skus)
    await freeze(session, list(ids.values()), [shop.warehouse, shop.store_a, shop.store_b])
    await _take(session, shop, 0, shop.store_a, 3)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 2)]))
    assert r.status_code == 201, r.text
    order = r.json()
    [fo] = order["fulfilment_orders"]
    assert fo["location_id"] == shop.warehouse and order["lines"][0]["state"] == "allocated"
    [lost] = order["routing"]["rerouted"]
    assert (lost["location_id"], lost["requested"], lost["available"]) == (shop.store_a, 2, 0)
    assert await level(session, shop.skus[0], shop.store_a) == (3, 3)
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 2)
    await assert_invariants(session)


async def _lose_twice(session, shop, monkeypatch):
    """SKU1 is at the warehouse (10) and store B (2); rivals take it all after our stock read."""
    freeze = _stale_stock(monkeypatch, calls=2)
    ids = await inventory_service.repo.variant_ids(session, shop.skus)
    await freeze(session, list(ids.values()), [shop.warehouse, shop.store_a, shop.store_b])
    await _take(session, shop, 1, shop.warehouse, 10)
    await _take(session, shop, 1, shop.store_b, 2)


async def test_lost_twice_the_backorder_policy_keeps_the_order_waiting(client, session, monkeypatch):
    shop = await create_shop(session, settings={"unfillable": "backorder"})
    await _lose_twice(session, shop, monkeypatch)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(1, 3), (2, 1)]))
    assert r.status_code == 201, r.text
    order = r.json()
    waiting, fine = order["lines"]
    assert (waiting["state"], waiting["quantity_backordered"]) == ("backordered", 3)
    assert (fine["state"], fine["quantity_backordered"]) == ("allocated", 0)
    assert [ln["sku"] for fo in order["fulfilment_orders"] for ln in fo["lines"]] == [shop.skus[2]]
    assert await level(session, shop.skus[1], shop.warehouse) == (10, 10)  # only the rivals' holds
    await assert_invariants(session)


async def test_lost_twice_the_reject_policy_refuses_and_leaves_nothing(client, session, monkeypatch):
    shop = await create_shop(session, settings={"unfillable": "reject"})
    await _lose_twice(session, shop, monkeypatch)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(1, 3)]))
    assert r.status_code == 409 and problem(r)["type"].endswith(":order-unfillable")
    assert await level(session, shop.skus[1], shop.warehouse) == (10, 10)
    assert await level(session, shop.skus[1], shop.store_b) == (2, 2)
    await assert_invariants(session)


async def test_cancel_line_policy_recomputes_the_totals_after_a_lost_race(client, session, monkeypatch):
    shop = await create_shop(session, settings={"unfillable": "cancel_line"})
    await _lose_twice(session, shop, monkeypatch)
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(1, 3), (2, 1)]))
    assert r.status_code == 201, r.text
    order = r.json()
    gone, kept = order["lines"]
    assert (gone["state"], gone["quantity_cancelled"], gone["total"]) == ("cancelled", 3, "0.00")
    assert kept["state"] == "allocated"
    assert order["subtotal"] == shop.prices[shop.skus[2]]
