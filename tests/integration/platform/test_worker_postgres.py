"""Several workers on one PostgreSQL database (a fresh migrated one per test, not the rolled-back fixture):
each event is delivered exactly once, a killed worker's claims are finished by another after the lease, and
one scheduler leads at a time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest
from sqlalchemy import text

from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.jobs import Registry
from omniretail.platform.outbox import append_events
from omniretail.platform.scheduler import Scheduler
from tests.integration.platform import worker_procs
from tests.integration.platform.worker_procs import PROBE_DDL, TOPIC, make_worker, probe_registry

pytestmark = pytest.mark.postgres


async def _seed(url: str, events: int) -> None:
    db = create_database(url, pool_size=1)
    try:
        async with unit_of_work(db) as session:
            await session.execute(text(PROBE_DDL))
            await append_events(session, [{"topic": TOPIC, "payload": {"n": n}} for n in range(events)])
    finally:
        await db.dispose()


async def _query(url: str, sql: str) -> list[tuple]:
    db = create_database(url, pool_size=1)
    try:
        async with unit_of_work(db, readonly=True) as session:
            return [tuple(r) for r in (await session.execute(text(sql))).all()]
    finally:
        await db.dispose()


async def _drain(worker) -> None:
    while await worker.dispatcher.run_once():
        pass


def test_concurrent_dispatchers_deliver_every_event_exactly_once(pg_url):
    async def scenario():
        await _seed(pg_url, 400)
        workers = [make_worker(pg_url, f"w{i}", probe_registry(pause=0.001), batch_size=7, lease_s=30)
                   for i in range(4)]
        try:
            await asyncio.gather(*(_drain(w) for w in workers))
            for w in workers:  # a worker that found everything claimed by others stops early; finish up
                await _drain(w)
        finally:
            for w in workers:
                await w.context.db.dispose()

    asyncio.run(scenario())
    [(deliveries, distinct)] = asyncio.run(_query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM worker_probe"))
    assert (deliveries, distinct) == (400, 400)
    [(unpublished, max_attempts)] = asyncio.run(_query(
        pg_url, "SELECT COUNT(*) FILTER (WHERE published_at IS NULL), MAX(attempts) FROM outbox"))
    assert (unpublished, max_attempts) == (0, 1)
    per_worker = dict(asyncio.run(_query(pg_url, "SELECT worker, COUNT(*) FROM worker_probe GROUP BY worker")))
    assert len(per_worker) >= 2, f"the work was not shared: {per_worker}"


def test_a_killed_worker_loses_nothing(pg_url):
    lease_s, batch = 3.0, 10
    asyncio.run(_seed(pg_url, 30))
    ctx = multiprocessing.get_context("spawn")
    doomed = ctx.Process(target=worker_procs.run_until_killed, args=(pg_url, 5, lease_s, batch))
    doomed.start()
    try:
        deadline = time.monotonic() + 60
        while True:  # the child delivered events 0–4 and hangs in event 5 of its batch of 10
            [(published,)] = asyncio.run(_query(pg_url, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL"))
            if published == 5:
                break
            assert doomed.is_alive() and time.monotonic() < deadline, "the doomed worker did not get going"
            time.sleep(0.05)
        time.sleep(0.2)
        os.kill(doomed.pid, signal.SIGKILL)  # no cleanup, no release: its claims just stay
    finally:
        doomed.join(10)
    claims = asyncio.run(_query(pg_url, "SELECT claimed_by, COUNT(*) FROM outbox "
                                        "WHERE published_at IS NULL AND claimed_by IS NOT NULL GROUP BY claimed_by"))
    assert claims == [("doomed", 5)]

    async def take_over() -> float:
        survivor = make_worker(pg_url, "survivor", probe_registry(), batch_size=batch, lease_s=lease_s)
        try:
            await _drain(survivor)  # everything not leased: events 10–29
            [(left,)] = await _query_in(survivor, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            assert left == 5  # the dead worker's claims wait for their lease
            waited = time.monotonic()
            while left:
                await asyncio.sleep(0.1)
                await _drain(survivor)
                [(left,)] = await _query_in(survivor, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            return time.monotonic() - waited
        finally:
            await survivor.context.db.dispose()

    waited = asyncio.run(take_over())
    assert waited < lease_s + 2
    [(deliveries, distinct)] = asyncio.run(_query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM worker_probe"))
    assert (deliveries, distinct) == (30, 30)  # nothing lost, nothing twice
    retried = asyncio.run(_query(pg_url, "SELECT payload->>'n', attempts FROM outbox WHERE attempts > 1 ORDER BY id"))
    assert retried == [(str(n), 2) for n in range(5, 10)]


async def _query_in(worker, sql: str) -> list[tuple]:
    async with unit_of_work(worker.context.db, readonly=True) as session:
        return [tuple(r) for r in (await session.execute(text(sql))).all()]


def test_one_scheduler_leads_and_another_takes_over(pg_url):
    async def scenario():
        ran: list[str] = []
        registry = Registry()

        @registry.every(0.2, "test.tick")
        async def tick(context):
            ran.append(context.worker_id)

        workers = [make_worker(pg_url, name, registry, batch_size=1, lease_s=5) for name in ("a", "b")]
        schedulers = [Scheduler(w.context, registry, tick=0.05, leader_retry=0.2) for w in workers]
        stops = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(s.run(stop)) for s, stop in zip(schedulers, stops, strict=True)]
        try:
            await asyncio.sleep(1.5)
            leaders = [s.context.worker_id for s in schedulers if s.is_leader]
            assert len(leaders) == 1 and set(ran) == set(leaders) and len(ran) >= 3
            leader = leaders[0]
            index = [s.context.worker_id for s in schedulers].index(leader)
            stops[index].set()  # the leader stops (or dies: its connection, and so its lock, goes)
            await tasks[index]
            ran.clear()
            await asyncio.sleep(1.5)
            assert ran and set(ran) == {"b" if leader == "a" else "a"}
        finally:
            for stop in stops:
                stop.set()
            await asyncio.gather(*tasks)
            for w in workers:
                await w.context.db.dispose()

    asyncio.run(scenario())
