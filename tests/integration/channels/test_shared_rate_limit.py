"""The token bucket shared through PostgreSQL (``DbLimiter``): workers take chunks so most calls need no
database round trip, yet together they never take more than the bucket allows, and a 429 drops what a worker
holds."""

from __future__ import annotations

import asyncio

import pytest

from omniretail.channels.sync.ratelimit import DbLimiter, RateLimit, Throttled
from omniretail.platform.db import create_database
from tests.factories import create_channel

pytestmark = pytest.mark.postgres


def test_workers_share_one_budget_in_chunks(pg_url):
    async def scenario():
        db = create_database(pg_url, pool_size=4)
        try:
            from omniretail.platform.db import unit_of_work

            async with unit_of_work(db) as session:
                channel_id = await create_channel(session, kind="marketplace_allegro")
            now = [1000.0]
            limits = {"requests": RateLimit(rate=100.0, burst=50.0)}
            workers = [DbLimiter(db, channel_id, limits, clock=lambda: now[0], max_wait=0.0) for _ in range(2)]
            calls = {"n": 0}
            original = DbLimiter._exec

            async def counting(self, stmt, params):
                calls["n"] += 1
                return await original(self, stmt, params)

            DbLimiter._exec = counting
            try:
                for _ in range(40):
                    await workers[0].acquire("requests", 1)
                assert calls["n"] <= 3  # the row created, then chunks of 20 (0.2 s × 100/s): 2 takes for 40 calls
                taken = 40
                for _ in range(200):  # the clock stands still: only the burst of 50 is there
                    for limiter in workers:
                        try:
                            await limiter.acquire("requests", 1)
                            taken += 1
                        except Throttled:
                            pass
            finally:
                DbLimiter._exec = original
            assert taken == 50  # both workers together: the bucket's 50, not more

            now[0] += 0.1  # 10 tokens refilled
            await workers[0].block(5.0)
            with pytest.raises(Throttled):
                await workers[0].acquire("requests", 1)  # blocked: held tokens dropped, the row blocked
        finally:
            await db.dispose()

    asyncio.run(scenario())
