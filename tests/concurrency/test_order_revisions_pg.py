"""A marketplace order's revisions arriving at once on PostgreSQL (own connections, no outer transaction): each
is applied after the one before it, so the newest wins and a cancellation is made once — never a 409 for a
revision that merely lost a race."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from tests.integration.orders.helpers import API, create_shop, integration

pytestmark = pytest.mark.postgres


def _revision(shop, revision: int, *, cancelled: bool) -> dict:
    return {"channel_id": shop.channel_id, "external_id": "REV-1", "revision": revision,
            "status": "cancelled" if cancelled else "placed",
            "buyer": {"name": "Jan Kowalski", "email": "rev@example.com", "external_id": "buyer-rev"},
            "delivery": {"method": "ship", "address": {"name": "Jan", "street": f"Street {revision}",
                                                        "postal_code": "61-001", "city": "Poznań", "country": "PL"}},
            "lines": [{"sku": shop.skus[1], "quantity": 1, "unit_price": "19.99"}], "payment_status": "paid"}


async def test_revisions_of_one_order_at_once_give_the_newest_and_one_cancellation(world):
    db, client = world
    async with unit_of_work(db) as session:
        shop = await create_shop(session, kind="marketplace_allegro")
        bot = await integration(session, shop.channel_id)
    first = await client.post(f"{API}/orders/import", headers=bot, json=_revision(shop, 1, cancelled=False))
    assert first.status_code == 201, first.text
    order_id = first.json()["order"]["id"]
    revisions = list(range(2, 14))  # from the 6th on, the buyer has cancelled
    random.Random(7).shuffle(revisions)
    gate = asyncio.Event()

    async def importer(revision: int):
        await gate.wait()
        return await client.post(f"{API}/orders/import", headers=bot,
                                 json=_revision(shop, revision, cancelled=revision >= 6))

    tasks = [asyncio.create_task(importer(r)) for r in revisions]
    await asyncio.sleep(0.05)
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    order = (await client.get(f"{API}/orders/{order_id}", headers=bot)).json()
    assert order["state"] == "cancelled"
    assert order["channel_revision"] == 13  # the newest revision is the order's, whatever order they came in
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds.count("order.cancelled") == 1 and kinds.count("refund.created") == 1
    async with unit_of_work(db, readonly=True) as session:
        messages = (await session.execute(text(
            "SELECT COUNT(*) FROM outbox WHERE topic = 'orders.customer_message' "
            "AND payload->>'template' = 'order_cancelled'"))).scalar_one()
    assert messages == 1
