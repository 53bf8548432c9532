"""``omniretail bench availability``: channel availability with N variants × 20 locations loaded.

Measures the service layer (``inventory.service.availability`` / ``bulk_availability``) on a read session:
p50/p99 of single-SKU queries for a channel fed by every location (one at a time, so it is latency, not
throughput), and the time of a 10,000-SKU bulk query (the median of 5). The same runs on a catalog ten times
smaller, to show that cost grows with the work and not with the size of the catalog (target: single p99 ≤ 5 ms,
bulk ≤ 300 ms at 100,000 variants). ``OMNIRETAIL_BENCH_SINGLE_QUERIES`` (2000) sets the sample size.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

from .registry import scenario
from .stock_data import CHANNEL_CODE, env_int, load, sku, targets
from .support import percentile, scratch_database

DEFAULT_SCALE = 100_000
BULK_SKUS = 10_000


@scenario("availability", "Single-SKU and 10,000-SKU channel availability over N variants × 20 locations")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    variants = scale or DEFAULT_SCALE
    smaller = max(1, variants // 10)
    locations = env_int("OMNIRETAIL_BENCH_LOCATIONS", 20)
    queries = env_int("OMNIRETAIL_BENCH_SINGLE_QUERIES", 2000)
    results: dict[str, Any] = {}
    for backend, target in targets(database_url).items():
        scratch = target == backend
        big_url = scratch_database(target, name="omniretail_bench_availability") if scratch else target
        big = {**load(big_url, variants=variants, locations=locations), **_measure(big_url, variants, queries)}
        out = dict(big)
        if scratch:
            small_url = scratch_database(target, name="omniretail_bench_availability_small")
            small = {**load(small_url, variants=smaller, locations=locations),
                     **_measure(small_url, smaller, queries)}
            out[f"at_{smaller}_variants"] = small
            out["single_p99_growth"] = round(big["single_p99_ms"] / small["single_p99_ms"], 2) \
                if small["single_p99_ms"] else None
            per_sku = [r["bulk_10k_ms"] / r["bulk_skus"] for r in (big, small)]
            out["bulk_per_sku_growth"] = round(per_sku[0] / per_sku[1], 2) if per_sku[1] else None
        results[backend] = out
    return results


def _measure(url: str, variants: int, queries: int) -> dict[str, Any]:
    return asyncio.run(_queries(url, variants, queries))


async def _queries(url: str, variants: int, queries: int) -> dict[str, Any]:
    from omniretail.inventory import service
    from omniretail.platform.db import create_database, unit_of_work

    db = create_database(url, pool_size=2)
    rng = random.Random(7)
    try:
        for _ in range(50):  # warm the statement caches and the connection
            async with unit_of_work(db, readonly=True) as session:
                await service.availability(session, sku=sku(rng.randrange(variants)), channel=CHANNEL_CODE)
        single: list[float] = []
        for _ in range(queries):
            began = time.perf_counter()
            async with unit_of_work(db, readonly=True) as session:
                result = await service.availability(session, sku=sku(rng.randrange(variants)), channel=CHANNEL_CODE)
            single.append((time.perf_counter() - began) * 1000)
        assert result.available > 0
        count = min(BULK_SKUS, variants)
        bulk: list[float] = []
        for _ in range(5):
            wanted = [sku(i) for i in rng.sample(range(variants), count)]
            began = time.perf_counter()
            async with unit_of_work(db, readonly=True) as session:
                answer = await service.bulk_availability(session, skus=wanted, channel=CHANNEL_CODE)
            bulk.append((time.perf_counter() - began) * 1000)
            assert len(answer.items) == count and not answer.unknown_skus
        single.sort()
        async with unit_of_work(db, readonly=True) as session:
            explained = await service.availability(session, sku=sku(0), channel=CHANNEL_CODE, explain=True)
        return {
            "single_p50_ms": round(percentile(single, 50), 3), "single_p99_ms": round(percentile(single, 99), 3),
            "single_queries": queries, "bulk_10k_ms": round(statistics.median(bulk), 1),
            "bulk_max_ms": round(max(bulk), 1), "bulk_skus": count,
            "explain_steps": [s["rule"] for s in explained.explanation["steps"]],
        }
    finally:
        await db.dispose()
