"""The sync engine under real concurrency on PostgreSQL (own connection pools, a fresh migrated database, no
outer transaction): two engines share the work without sending anything twice, and a killed engine's claims
are finished by the other once their lease has run out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Product, Variant
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.connections import Connections
from omniretail.channels.sync.engine import EngineOptions, SyncEngine
from omniretail.channels.sync.models import ChannelListing, ChannelSyncLog
from omniretail.channels.sync.schemas import ListingLink
from omniretail.inventory.models import StockLevel
from omniretail.platform.db import create_database, unit_of_work
from omniretail.pricing.models import Price
from tests.channel_servers.allegro import FakeAllegro
from tests.channel_servers.runner import serve
from tests.factories import TEST_SECRET_KEY, create_channel, create_location, create_price_list

pytestmark = pytest.mark.postgres
LISTINGS = 240


@pytest.fixture
def allegro():
    fake = FakeAllegro(process_delay_s=0.03)
    fake.behaviour.latency_s = (0.005, 0.02)
    with serve(fake.app) as url:
        fake.url = url
        yield fake


async def _world(db, allegro) -> int:
    """A channel with LISTINGS listings on the fake Allegro, quantities 1…9, prices by tens of grosze."""
    now = datetime.now(UTC)
    async with unit_of_work(db) as session:
        location = await create_location(session, kind="warehouse", capabilities={"ships_orders": True})
        channel = await create_channel(session, kind="marketplace_allegro", location_ids=[location],
                                       settings={"base_url": allegro.url, "command_check_s": 0.04,
                                                 "command_poll_s": 0.02},
                                       secrets={"access_token": allegro.token})
        price_list = await create_price_list(session, channel_id=channel)
        product = (await session.execute(insert(Product).values(code="PG-P", title="Runner", description="",
                                                                brand="", attributes={}).returning(Product.id)))
        product_id = product.scalar_one()
        variants = (await session.execute(insert(Variant).returning(Variant.id, Variant.sku), [
            {"product_id": product_id, "sku": f"PG-{n}", "mpn": "", "options": {}, "attributes": {}}
            for n in range(LISTINGS)])).all()
        await session.execute(insert(StockLevel), [
            {"variant_id": v.id, "location_id": location, "on_hand": 1 + n % 9, "updated_at": now}
            for n, v in enumerate(variants)])
        await session.execute(insert(Price), [
            {"price_list_id": price_list, "variant_id": v.id, "amount_minor": 1000 + 10 * (n % 7), "updated_at": now}
            for n, v in enumerate(variants)])
        for n, v in enumerate(variants):
            allegro.add_offer(f"O{n}")
        await sync_service.link_listings(session, channel, principal=Principal.system("t"), items=[
            ListingLink(sku=v.sku, external={"offer_id": f"O{n}"}) for n, v in enumerate(variants)])
    return channel


def _engine(db, http, worker: str, **options) -> SyncEngine:
    opts = {"batch_size": 20, "in_flight": 2, "max_attempts": 5, "backoff_base": 0.05, "backoff_cap": 0.2,
            "pass_budget_s": 1.0, **options}
    return SyncEngine(db, secret_key=TEST_SECRET_KEY, worker_id=worker, options=EngineOptions(**opts),
                      connections=Connections(db, secret_key=TEST_SECRET_KEY, http=http))


async def _unacked(db, channel: int) -> int:
    table = ChannelListing.__table__
    async with unit_of_work(db, readonly=True) as session:
        return await session.scalar(select(func.count()).where(
            table.c.channel_id == channel, table.c.desired_version > table.c.acked_version))


async def _until_settled(db, channel: int, *engines: SyncEngine, seconds: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.gather(*(e.run_once() for e in engines))
        if await _unacked(db, channel) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{await _unacked(db, channel)} listings still unacknowledged")


def _offers_per_command(allegro: FakeAllegro, kind: str) -> Counter:
    return Counter(task["offer"]["id"] for (path, _cid), command in allegro.commands.items()
                   if command["kind"] == kind for task in command["tasks"])


async def test_two_engines_share_the_work_without_sending_anything_twice(pg_url, allegro):
    db_a, db_b = create_database(pg_url, pool_size=5), create_database(pg_url, pool_size=5)
    async with httpx.AsyncClient() as http:
        try:
            channel = await _world(db_a, allegro)
            a, b = _engine(db_a, http, "engine-a"), _engine(db_b, http, "engine-b")
            await _until_settled(db_a, channel, a, b)
        finally:
            await db_a.dispose()
            await db_b.dispose()
    assert a.stats.acked > 0 and b.stats.acked > 0  # both took a share
    assert a.stats.acked + b.stats.acked == LISTINGS  # and between them, each listing once
    for kind in ("quantity", "price"):
        sent = _offers_per_command(allegro, kind)
        assert len(sent) == LISTINGS and set(sent.values()) == {1}, kind  # every offer in exactly one command
    assert [allegro.quantity(f"O{n}") for n in range(LISTINGS)] == [1 + n % 9 for n in range(LISTINGS)]


async def test_a_killed_engine_s_claims_are_finished_by_the_other_after_the_lease(pg_url, allegro):
    db_a, db_b = create_database(pg_url, pool_size=5), create_database(pg_url, pool_size=5)
    async with httpx.AsyncClient() as http:
        try:
            channel = await _world(db_a, allegro)
            a = _engine(db_a, http, "engine-a", lease=timedelta(seconds=2), lease_margin=timedelta(seconds=0.5))
            b = _engine(db_b, http, "engine-b", lease=timedelta(seconds=2), lease_margin=timedelta(seconds=0.5))


            async def dies_before_recording(batch):  # whatever A sent, it never wrote down
                await asyncio.sleep(0)

            a._record = dies_before_recording
            victim = asyncio.create_task(a.run_once())
            while allegro.puts < 2:  # engine A has claimed and is half-way through sending
                await asyncio.sleep(0.005)
            victim.cancel()  # kill -9, as far as the database is concerned: nothing more from A
            await asyncio.gather(victim, return_exceptions=True)
            table = ChannelListing.__table__
            async with unit_of_work(db_b, readonly=True) as session:
                held = await session.scalar(select(func.count()).where(table.c.lease_owner == "engine-a"))
            assert held > 0  # A died holding claims
            started = asyncio.get_running_loop().time()
            await _until_settled(db_b, channel, b)
            elapsed = asyncio.get_running_loop().time() - started
            async with unit_of_work(db_b, readonly=True) as session:
                finished_by_b = await session.scalar(select(func.count(ChannelSyncLog.listing_id.distinct())).where(
                    ChannelSyncLog.worker == "engine-b", ChannelSyncLog.status == "ok"))
        finally:
            await db_a.dispose()
            await db_b.dispose()
    assert finished_by_b == LISTINGS  # B finished everything, A's claims included …
    assert elapsed >= 1.0  # … once A's two-second leases had run out
    assert [allegro.quantity(f"O{n}") for n in range(LISTINGS)] == [1 + n % 9 for n in range(LISTINGS)]
    assert [allegro.price(f"O{n}") for n in range(LISTINGS)] == [f"{10 + (n % 7) / 10:.2f}" for n in range(LISTINGS)]
