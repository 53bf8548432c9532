"""The Allegro connector against the local Allegro, no database: a batch costs one command per target quantity
(PUT + one read of its task report), its offer changes are taken from the budget up front (all of the batch or
none of it), and a resent command (409) reads the first one's tasks instead of changing the offers again."""

from __future__ import annotations

import httpx
import pytest

from omniretail.channels.connectors.allegro.connector import AllegroConnector
from omniretail.channels.connectors.base import ChannelConfig, InventoryUpdate, ListingRef, RateLimited
from omniretail.channels.sync.ratelimit import LocalLimiter, RateLimit, Throttled
from tests.channel_servers.allegro import FakeAllegro
from tests.channel_servers.runner import serve

OFFERS = 60


@pytest.fixture
def allegro():
    fake = FakeAllegro(process_delay_s=0.05)
    for n in range(OFFERS):
        fake.add_offer(f"OF{n}", quantity=99)
    with serve(fake.app) as url:
        fake.url = url
        yield fake


def _connector(fake: FakeAllegro, http: httpx.AsyncClient, limits: dict[str, RateLimit]) -> AllegroConnector:
    config = ChannelConfig(1, "allegro", "marketplace_allegro", "PLN", "pl", {
        "base_url": fake.url, "command_check_s": 0.1, "command_poll_s": 0.05, "budget_wait_s": 0.2},
        {"access_token": fake.token})
    return AllegroConnector(config, http=http, limiter=LocalLimiter(limits, clock=lambda: 0.0))  # no refill


def _updates(version: int = 1) -> list[InventoryUpdate]:
    return [InventoryUpdate(ListingRef(n, n, f"SKU{n}", {"offer_id": f"OF{n}"}), n % 3, version)
            for n in range(OFFERS)]


async def test_a_batch_costs_one_command_and_one_task_read_per_target_quantity(allegro):
    limits = AllegroConnector.default_limits
    async with httpx.AsyncClient() as http:
        connector = _connector(allegro, http, limits)
        results = await connector.push_inventory(_updates())
        buckets = connector.limiter.buckets
    assert all(r.ok for r in results) and len(results) == OFFERS
    assert [allegro.quantity(f"OF{n}") for n in range(OFFERS)] == [n % 3 for n in range(OFFERS)]
    assert allegro.puts == 3  # three distinct quantities: three commands of 20 offers
    methods = [method for method, _path in allegro.behaviour.requests]
    assert methods.count("PUT") == 3 and methods.count("GET") == 3 == allegro.task_reads  # no summary polling
    # both budgets counted: 60 offer changes (per minute and per hour), 6 requests
    assert buckets["quantity_changes"].tokens == pytest.approx(limits["quantity_changes"].burst - OFFERS, abs=1)
    assert buckets["quantity_changes_hour"].tokens == pytest.approx(
        limits["quantity_changes_hour"].burst - OFFERS, abs=1)
    assert buckets["requests"].tokens == pytest.approx(limits["requests"].burst - 6, abs=1)


async def test_a_batch_the_offer_budget_cannot_cover_sends_nothing(allegro):
    limits = {**AllegroConnector.default_limits, "quantity_changes": RateLimit(rate=10.0, burst=100.0)}
    async with httpx.AsyncClient() as http:
        connector = _connector(allegro, http, limits)
        await connector.push_inventory(_updates())  # 60 of the 100 offer changes
        sent = len(allegro.behaviour.requests)
        with pytest.raises(Throttled):  # 60 more, 40 left, 10/s: not within budget_wait_s
            await connector.push_inventory(_updates(version=2))
    assert len(allegro.behaviour.requests) == sent and allegro.puts == 3  # nothing of the second batch went out


async def test_a_resent_batch_reads_the_first_commands_tasks_and_changes_nothing_twice(allegro):
    async with httpx.AsyncClient() as http:
        connector = _connector(allegro, http, AllegroConnector.default_limits)
        await connector.push_inventory(_updates())
        allegro.behaviour.requests.clear()
        again = await connector.push_inventory(_updates())  # the same (listing, version, attempt): same ids
    assert all(r.ok for r in again)
    assert allegro.puts == 3  # every PUT answered 409 "Command id was already used"
    assert sorted(method for method, _path in allegro.behaviour.requests) == ["GET"] * 3 + ["PUT"] * 3
    assert all(len(history) == 1 for history in allegro.history.values())


async def test_a_429_part_way_hands_back_the_commands_that_went_through():
    fake = FakeAllegro(process_delay_s=0.05, offer_changes_per_s=1, burst=25)  # Allegro's own count: 25 offers
    for n in range(OFFERS):
        fake.add_offer(f"OF{n}", quantity=99)
    with serve(fake.app) as url:
        fake.url = url
        async with httpx.AsyncClient() as http:
            connector = _connector(fake, http, AllegroConnector.default_limits)
            connector.channel.settings["commands_in_flight"] = 1
            with pytest.raises(RateLimited) as stopped:
                await connector.push_inventory(_updates())
    assert fake.puts == 1 and fake.answered_429 == 1  # the second command was refused, the third not sent
    assert len(stopped.value.partial) == 20 and all(r.ok for r in stopped.value.partial)
