"""Placement on PostgreSQL writes everything in one statement that reserves only when every planned level can
give its units; when another order took them since the stock was read, nothing is written and the order is
routed again on what is left."""

from __future__ import annotations

import pytest

from omniretail.auth.schemas import Principal
from omniretail.inventory import service as inventory_service
from omniretail.orders import placement, placement_pg, sourcing
from omniretail.orders.placement import OrderUnfillable, Placement, place_order
from omniretail.orders.schemas import OrderCreate
from tests.conftest import require_postgres
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import create_shop, level, order_body, ship_to


def _stale_stock(monkeypatch, session, *, location_id: int, sku: str, take: int):
    """The stock read returns what was there; then another sale takes ``take`` units at the location. (On
    PostgreSQL the stock comes with the placement's one read, elsewhere from ``load_stock``.)"""
    sold = []

    def then_sell(real):
        async def read(*args, **kwargs):
            found = await real(*args, **kwargs)
            if not sold:
                await inventory_service.adjust_stock(session, location_id=location_id, lines=[(sku, -take)],
                                                     reason="sold at the counter", actor="tests")
                sold.append(take)
            return found
        return read

    monkeypatch.setattr(placement.sourcing, "load_stock", then_sell(sourcing.load_stock))
    monkeypatch.setattr(placement_pg, "read", then_sell(placement_pg.read))


async def test_a_lost_race_is_routed_again_to_the_next_location(session, engine_db, monkeypatch):
    if engine_db.is_sqlite:
        pytest.skip("SQLite serialises writers: the stock read cannot go stale")
    require_postgres()
    shop = await create_shop(session)  # SKU0: warehouse 10, store A (Warsaw) 3
    _stale_stock(monkeypatch, session, location_id=shop.store_a, sku=shop.skus[0], take=3)
    data = OrderCreate.model_validate(order_body(shop, [(0, 2)], delivery=ship_to()))  # to Warsaw
    placed = await place_order(session, placement=Placement.from_create(data), principal=Principal.system("t"),
                               actor="tests")
    fos = placed.read.fulfilment_orders
    assert [fo.location_id for fo in fos] == [shop.warehouse]
    assert await level(session, shop.skus[0], shop.store_a) == (0, 0)
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 2)
    await assert_invariants(session)


async def test_a_lost_race_with_nothing_left_applies_the_policy(session, engine_db, monkeypatch):
    if engine_db.is_sqlite:
        pytest.skip("SQLite serialises writers: the stock read cannot go stale")
    require_postgres()
    shop = await create_shop(session, stock={"store_a": {"0": 3}})
    _stale_stock(monkeypatch, session, location_id=shop.store_a, sku=shop.skus[0], take=2)
    data = OrderCreate.model_validate(order_body(shop, [(0, 2)], delivery=ship_to()))
    with pytest.raises(OrderUnfillable) as refused:
        await place_order(session, placement=Placement.from_create(data), principal=Principal.system("t"),
                          actor="tests")
    assert refused.value.extensions["lines"] == [{"sku": shop.skus[0], "requested": 2, "available": 1}]
    assert await level(session, shop.skus[0], shop.store_a) == (1, 0)
