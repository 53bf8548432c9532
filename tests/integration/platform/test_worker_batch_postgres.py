"""Batch consumers across worker processes on PostgreSQL (fresh migrated database per test): a worker SIGKILLed
in the middle of a batch loses nothing — its whole batch rolls back and another worker delivers it once the
lease has run out — and LISTEN/NOTIFY wakes an idle worker the moment events are committed."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest

from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.outbox import append_events
from tests.integration.platform import batch_procs
from tests.integration.platform.test_worker_postgres import _query, _query_in, _seed
from tests.integration.platform.worker_procs import TOPIC, make_worker

pytestmark = pytest.mark.postgres


def test_a_worker_killed_mid_batch_loses_nothing(pg_url):
    lease_s, batch = 3.0, 10
    asyncio.run(_seed(pg_url, 30))
    ctx = multiprocessing.get_context("spawn")
    doomed = ctx.Process(target=batch_procs.run_batches_until_killed, args=(pg_url, 15, lease_s, batch))
    doomed.start()
    try:
        deadline = time.monotonic() + 60
        while True:  # batch 0–9 committed; the child hangs inside the batch 10–19
            [(published, claimed)] = asyncio.run(_query(
                pg_url, "SELECT COUNT(*) FILTER (WHERE published_at IS NOT NULL), "
                        "COUNT(*) FILTER (WHERE published_at IS NULL AND claimed_by = 'doomed') FROM outbox"))
            if published == 10 and claimed == 10:
                break
            assert doomed.is_alive() and time.monotonic() < deadline, "the doomed worker did not get going"
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(doomed.pid, signal.SIGKILL)
    finally:
        doomed.join(10)

    async def take_over() -> float:
        survivor = make_worker(pg_url, "survivor", batch_procs.batch_probe_registry(), batch_size=batch,
                               lease_s=lease_s)
        try:
            while await survivor.dispatcher.run_once():  # 20–29; 10–19 wait for the dead worker's lease
                pass
            waited = time.monotonic()
            while True:
                [(left,)] = await _query_in(survivor, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                if not left:
                    return time.monotonic() - waited
                await asyncio.sleep(0.1)
                await survivor.dispatcher.run_once()
        finally:
            await survivor.context.db.dispose()

    assert asyncio.run(take_over()) < lease_s + 2
    [(deliveries, distinct)] = asyncio.run(_query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM worker_probe"))
    assert (deliveries, distinct) == (30, 30)  # the killed batch's inserts rolled back: each event once
    by = dict(asyncio.run(_query(pg_url, "SELECT worker, COUNT(*) FROM worker_probe GROUP BY worker")))
    assert by == {"doomed": 10, "survivor": 20}
    retried = asyncio.run(_query(pg_url, "SELECT (payload->>'n')::int, attempts FROM outbox WHERE attempts > 1 "
                                         "ORDER BY id"))
    assert retried == [(n, 2) for n in range(10, 20)]


def test_listen_notify_wakes_an_idle_worker_at_once(pg_url):
    asyncio.run(_seed(pg_url, 0))

    async def scenario() -> list[float]:
        worker = make_worker(pg_url, "listener", batch_procs.batch_probe_registry(), batch_size=50, lease_s=30)
        worker.dispatcher.options = type(worker.dispatcher.options)(
            **{**worker.dispatcher.options.__dict__, "poll_interval": 30.0})  # polling alone would take 30 s
        writer = create_database(pg_url, pool_size=1)
        task = asyncio.create_task(worker.run())
        delays = []
        try:
            await asyncio.wait_for(worker.listening.wait(), 10)
            await asyncio.sleep(0.3)  # idle: the loop sleeps its 30 s
            for round_ in range(3):
                started = time.monotonic()
                async with unit_of_work(writer) as session:
                    await append_events(session, [{"topic": TOPIC, "payload": {"n": round_}}])
                while True:
                    [(done,)] = await _query_in(worker, "SELECT COUNT(*) FROM worker_probe")
                    if done == round_ + 1:
                        break
                    assert time.monotonic() - started < 5, "not woken"
                    await asyncio.sleep(0.01)
                delays.append(time.monotonic() - started)
        finally:
            worker.stop()
            await task
            await writer.dispose()
            await worker.context.db.dispose()
        return delays

    delays = asyncio.run(scenario())
    assert max(delays) < 1.0, delays
