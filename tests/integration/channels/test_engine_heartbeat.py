"""The engine's lease heartbeat on PostgreSQL: a batch that stays on the wire longer than the lease keeps its
listings (another engine does not take and resend them), while a dead engine's short leases free its listings
within seconds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from omniretail.platform.db import create_database
from tests.channel_servers.allegro import FakeAllegro
from tests.channel_servers.runner import serve
from tests.concurrency.test_sync_pg import LISTINGS, _engine, _offers_per_command, _until_settled, _world

pytestmark = pytest.mark.postgres


@pytest.fixture
def slow_allegro():
    fake = FakeAllegro(process_delay_s=1.5)  # each command takes longer than the engines' 1 s lease
    with serve(fake.app) as url:
        fake.url = url
        yield fake


async def test_a_batch_on_the_wire_longer_than_the_lease_keeps_its_listings(pg_url, slow_allegro):
    db_a, db_b = create_database(pg_url, pool_size=5), create_database(pg_url, pool_size=5)
    short = {"lease": timedelta(seconds=1), "lease_margin": timedelta(seconds=0.2), "batch_size": LISTINGS,
             "send_timeout": timedelta(seconds=20)}
    async with httpx.AsyncClient() as http:
        try:
            channel = await _world(db_a, slow_allegro)
            a, b = _engine(db_a, http, "engine-a", **short), _engine(db_b, http, "engine-b", **short)
            sending = asyncio.create_task(a.run_once())  # A claims all 240 (one batch: Allegro's one in flight)
            while slow_allegro.puts < 2:
                await asyncio.sleep(0.01)
            await asyncio.sleep(1.3)  # past A's 1 s lease, its commands still processing
            await b.run_once()
            assert b.stats.claimed == 0  # A's heartbeat kept the listings: nothing for B to take
            await sending
            await _until_settled(db_a, channel, a, b, seconds=90)
        finally:
            await db_a.dispose()
            await db_b.dispose()
    for kind in ("quantity", "price"):
        sent = _offers_per_command(slow_allegro, kind)
        assert len(sent) == LISTINGS and set(sent.values()) == {1}, kind  # nothing taken over and resent
    assert a.stats.acked + b.stats.acked == LISTINGS
