"""A placement's commit wakes the in-process listeners (the store queue's live stream, the in-process worker),
also when its events went in through the driver in one statement (PostgreSQL)."""

from __future__ import annotations

from omniretail.auth.schemas import Principal
from omniretail.orders.placement import Placement, place_order
from omniretail.orders.schemas import OrderCreate
from omniretail.platform import outbox
from omniretail.platform.db import unit_of_work
from tests.integration.orders.helpers import create_shop, order_body, ship_to


async def test_a_placement_commit_wakes_the_local_listeners(db):
    async with unit_of_work(db) as session:
        shop = await create_shop(session)
    woken = []
    unregister = outbox.on_local_commit(lambda: woken.append(True))
    try:
        data = OrderCreate.model_validate(order_body(shop, [(0, 1)], delivery=ship_to()))
        async with unit_of_work(db) as session:
            placed = await place_order(session, placement=Placement.from_create(data),
                                       principal=Principal.system("t"), actor="tests")
        assert placed.created and woken == [True]
    finally:
        unregister()
