"""``omniretail bench reserve`` and ``reserve-hot``: reserve + commit through the service layer.

``reserve`` spreads 32 concurrent workers (``OMNIRETAIL_BENCH_WORKERS``, 16–64) over N variants × 20 locations
(``--scale`` N, default 100,000); ``reserve-hot`` puts every worker on one SKU at one location, where the row
lock is the bottleneck. Workers are asyncio tasks on their own pooled connections, spread over
``OMNIRETAIL_BENCH_PROCESSES`` processes (default: one per core on PostgreSQL, one on SQLite, whose writers
queue in-process). After the run, ``oversold`` counts levels with negative availability or whose ``reserved``
differs from their open reservations: it must be 0. On PostgreSQL ``pgbench -b tpcb-like`` runs on the same
server with the same client count, and ``ratio_to_pgbench`` is the figure to track.

Other knobs: ``OMNIRETAIL_BENCH_SECONDS`` (15), ``OMNIRETAIL_BENCH_LOCATIONS`` (20),
``OMNIRETAIL_BENCH_RESERVE_MODE`` (``one-statement`` CTE on PostgreSQL, or ``portable``: three statements).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import time
from typing import Any

from .registry import scenario
from .stock_data import env_int, load, sku, stock_check, targets
from .support import percentile, run_pgbench, scratch_database

DEFAULT_SCALE = 100_000
WARMUP_S = 2.0


@scenario("reserve", "Reserve+commit throughput, 16–64 workers over many SKUs (+ pgbench ratio on PostgreSQL)")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    return _run(scale, database_url, hot=False)


@scenario("reserve-hot", "Reserve+commit throughput with every worker on one SKU at one location")
def run_hot(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    return _run(scale, database_url, hot=True)


def _run(scale: int | None, database_url: str | None, *, hot: bool) -> dict[str, Any]:
    variants = scale or DEFAULT_SCALE
    locations = env_int("OMNIRETAIL_BENCH_LOCATIONS", 20)
    workers = env_int("OMNIRETAIL_BENCH_WORKERS", 32)
    seconds = env_int("OMNIRETAIL_BENCH_SECONDS", 15)
    one_statement = os.environ.get("OMNIRETAIL_BENCH_RESERVE_MODE", "one-statement") != "portable"
    results: dict[str, Any] = {}
    for backend, target in targets(database_url).items():
        url = scratch_database(target, name="omniretail_bench_reserve") if target == backend else target
        loaded = load(url, variants=variants, locations=locations, hot_on_hand=10**9 if hot else None)
        processes = env_int("OMNIRETAIL_BENCH_PROCESSES", 1 if backend == "sqlite" else os.cpu_count() or 2)
        processes = max(1, min(processes, workers))
        outcome = _measure(url, hot=hot, variants=variants, locations=locations, workers=workers,
                           processes=processes, seconds=seconds, one_statement=one_statement)
        check = stock_check(url)
        outcome["oversold"] = check["negative_available"] + check["reserved_mismatch"]
        pgbench = run_pgbench(clients=workers, seconds=seconds) if backend == "postgresql" else None
        outcome["pgbench_tps"] = None if pgbench is None else round(pgbench, 1)
        outcome["ratio_to_pgbench"] = round(outcome["ops_per_s"] / pgbench, 3) if pgbench else None
        outcome["mode"] = "one-statement" if one_statement and backend == "postgresql" else "portable"
        results[backend] = {**outcome, **loaded, "hot": hot}
    return results


def _measure(url: str, *, hot: bool, variants: int, locations: int, workers: int, processes: int, seconds: int,
             one_statement: bool) -> dict[str, Any]:
    start_at = time.time() + 3.0  # every process connected before the clock starts
    shares = [workers // processes + (1 if i < workers % processes else 0) for i in range(processes)]
    args = [(url, hot, variants, locations, n, start_at, seconds, one_statement, seed)
            for seed, n in enumerate(shares)]
    if processes == 1:
        parts = [_process(*args[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            parts = pool.starmap(_process, args)
    latencies = sorted(ms for part in parts for ms in part["latencies_ms"])
    ok = sum(p["ok"] for p in parts)
    return {
        "ops_per_s": round(ok / seconds, 1), "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "ops": ok,
        "insufficient": sum(p["insufficient"] for p in parts), "errors": sum(p["errors"] for p in parts),
        "statements_per_op": round(sum(p["statements"] for p in parts) / max(1, ok + sum(
            p["insufficient"] for p in parts)), 2),
        "workers": workers, "processes": processes, "seconds": seconds,
    }


def _process(url, hot, variants, locations, tasks, start_at, seconds, one_statement, seed) -> dict[str, Any]:
    return asyncio.run(_tasks(url, hot, variants, locations, tasks, start_at, seconds, one_statement, seed))


async def _tasks(url, hot, variants, locations, tasks, start_at, seconds, one_statement, seed) -> dict[str, Any]:
    from sqlalchemy import event, text

    from omniretail.inventory.errors import InsufficientStock
    from omniretail.inventory.reservations import reserve_stock
    from omniretail.platform.db import create_database, unit_of_work

    db = create_database(url, pool_size=tasks + 1)
    location_ids = [r[0] for r in (await _fetch(db, text("SELECT id FROM location ORDER BY id")))][:locations]
    state = {"measuring": False, "statements": 0, "ok": 0, "insufficient": 0, "errors": 0}
    latencies: list[float] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(*_args):  # pragma: no cover - benchmark only
        if state["measuring"]:
            state["statements"] += 1

    async def worker(rng: random.Random, stop_at: float) -> None:
        while (now := time.time()) < stop_at:
            v, loc = (0, location_ids[0]) if hot else (rng.randrange(variants), rng.choice(location_ids))
            began = time.perf_counter()
            try:
                async with unit_of_work(db) as session:
                    await reserve_stock(session, sku=sku(v), location_id=loc, quantity=1,
                                        reference=f"bench:{seed}", one_statement=one_statement)
                outcome = "ok"
            except InsufficientStock:
                outcome = "insufficient"
            except Exception:
                outcome = "errors"
            if state["measuring"] and now >= measure_from:
                state[outcome] += 1
                if outcome == "ok":
                    latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.sleep(max(0.0, start_at - time.time()))
    measure_from = start_at + WARMUP_S
    stop_at = measure_from + seconds
    rngs = [random.Random(seed * 1000 + i) for i in range(tasks)]
    runners = [asyncio.create_task(worker(rng, stop_at)) for rng in rngs]
    await asyncio.sleep(max(0.0, measure_from - time.time()))
    state["measuring"] = True
    await asyncio.gather(*runners)
    await db.dispose()
    return {"latencies_ms": latencies, **{k: v for k, v in state.items() if k != "measuring"}}


async def _fetch(db, stmt) -> list:
    from omniretail.platform.db import unit_of_work

    async with unit_of_work(db, readonly=True) as session:
        return list((await session.execute(stmt)).all())
