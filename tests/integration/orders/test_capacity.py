"""A location's daily fulfilment capacity through the API: consumed by assignment, released by cancelling,
a full location skipped by routing (capacity_full), raised by a manager for one day, counted per local day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omniretail.platform import clock
from tests.integration.orders.helpers import API, create_shop, order_body, ship_to

POZNAN = ship_to(52.40, 16.92)  # next to the warehouse: it wins whenever it may take the order


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


async def _place(client, shop, **kw):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 1)], delivery=POZNAN, **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def _capacity(client, shop, location_id, **params):
    r = await client.get(f"{API}/locations/{location_id}/capacity", headers=shop.auth, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def _limit(client, shop, location_id, daily):
    r = await client.patch(f"{API}/locations/{location_id}", headers=shop.auth, json={"daily_capacity": daily})
    assert r.status_code == 200, r.text


async def test_capacity_is_consumed_skipped_when_full_released_and_raised(client, session, frozen):
    frozen(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # 11:00 in Warsaw
    shop = await create_shop(session, stock={"warehouse": {"0": 10}, "store_a": {"0": 5}})
    await _limit(client, shop, shop.warehouse, 1)
    assert (await _capacity(client, shop, shop.warehouse))[
        "capacity"] == 1 and (await _capacity(client, shop, shop.warehouse))["left"] == 1

    first = await _place(client, shop)
    assert first["routing"]["locations"] == [shop.warehouse]
    fo = first["fulfilment_orders"][0]
    assert fo["promised_by"] is not None
    day = await _capacity(client, shop, shop.warehouse)
    assert (day["date"], day["used"], day["left"], day["timezone"]) == ("2026-11-23", 1, 0, "Europe/Warsaw")

    # the warehouse is full: routing skips it and says why
    second = await _place(client, shop)
    assert second["routing"]["locations"] == [shop.store_a]
    assert {"location_id": shop.warehouse, "reason": "capacity_full"} in second["routing"]["excluded"]

    # cancelling the first order gives its slot back
    r = await client.post(f"{API}/fulfilment-orders/{fo['id']}/cancel", headers=shop.auth, json={"reason": "test"})
    assert r.status_code == 200, r.text
    assert (await _capacity(client, shop, shop.warehouse))["left"] == 1
    third = await _place(client, shop)
    assert third["routing"]["locations"] == [shop.warehouse]

    # full again; the manager raises today's capacity by 2
    assert (await _place(client, shop))["routing"]["locations"] == [shop.store_a]
    r = await client.post(f"{API}/locations/{shop.warehouse}/capacity", headers=shop.auth, json={"extra": 2})
    assert r.status_code == 200, r.text
    assert (r.json()["capacity"], r.json()["used"], r.json()["left"], r.json()["extra"]) == (3, 1, 2, 2)
    again = await client.post(f"{API}/locations/{shop.warehouse}/capacity", headers=shop.auth, json={"extra": 2})
    assert again.json()["capacity"] == 3  # setting it twice is setting it once
    assert (await _place(client, shop))["routing"]["locations"] == [shop.warehouse]
    assert (await _place(client, shop))["routing"]["locations"] == [shop.warehouse]
    assert (await _place(client, shop))["routing"]["locations"] == [shop.store_a]
    # the override was for today only
    tomorrow = await _capacity(client, shop, shop.warehouse, date="2026-11-24")
    assert (tomorrow["capacity"], tomorrow["used"], tomorrow["extra"]) == (1, 0, 0)


async def test_capacity_counts_the_locations_local_day(client, session, frozen):
    frozen(datetime(2026, 11, 23, 22, 30, tzinfo=UTC))  # 23:30 in Warsaw
    shop = await create_shop(session, stock={"warehouse": {"0": 10}, "store_a": {"0": 5}})
    await _limit(client, shop, shop.warehouse, 1)
    assert (await _place(client, shop))["routing"]["locations"] == [shop.warehouse]
    assert (await _place(client, shop))["routing"]["locations"] == [shop.store_a]

    frozen(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))  # still the 23rd in UTC, already the 24th in Warsaw
    today = await _capacity(client, shop, shop.warehouse)
    assert (today["date"], today["used"], today["left"]) == ("2026-11-24", 0, 1)
    assert (await _capacity(client, shop, shop.warehouse, date="2026-11-23"))["used"] == 1
    assert (await _place(client, shop))["routing"]["locations"] == [shop.warehouse]

    # store B keeps New York time: there it is still the 23rd, 17:30
    r = await client.patch(f"{API}/locations/{shop.store_b}", headers=shop.auth,
                           json={"timezone": "America/New_York", "daily_capacity": 4})
    assert r.status_code == 200, r.text
    ny = await _capacity(client, shop, shop.store_b)
    assert (ny["date"], ny["timezone"], ny["left"]) == ("2026-11-23", "America/New_York", 4)

async def test_capacity_override_is_checked(client, session, frozen):
    frozen(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    shop = await create_shop(session)
    unlimited = await client.post(f"{API}/locations/{shop.store_a}/capacity", headers=shop.auth, json={"extra": 1})
    assert unlimited.status_code == 422 and unlimited.json()["field"] == "extra"
    await _limit(client, shop, shop.store_a, 5)
    past = await client.post(f"{API}/locations/{shop.store_a}/capacity", headers=shop.auth,
                             json={"date": "2026-11-22", "extra": 1})
    assert past.status_code == 422 and past.json()["field"] == "date"
    lowered = await client.post(f"{API}/locations/{shop.store_a}/capacity", headers=shop.auth, json={"extra": -9})
    assert (lowered.json()["capacity"], lowered.json()["left"]) == (0, 0)
    missing = await client.get(f"{API}/locations/999999999/capacity", headers=shop.auth)
    assert missing.status_code == 404
