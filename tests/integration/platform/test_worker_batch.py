"""Batch consumers (``@handles(prefix, batch=True)``) on both backends: a claimed batch in one transaction with
one published mark, fallback to per-event delivery when the batch fails, at-least-once with an idempotent
consumer, a batch whose lease was lost rolls back; and the in-process wake-up on SQLite.

Killed worker processes and LISTEN/NOTIFY are in ``test_worker_batch_postgres.py``.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import update

from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.jobs import Registry, Undeliverable
from omniretail.platform.migrate import upgrade
from omniretail.platform.outbox import OutboxEvent, append_event
from omniretail.platform.worker import Worker
from tests.integration.platform.test_worker import T0, append, count, frozen, make_worker, new_topic, row

__all__ = ["frozen"]  # the fixture, used by name


async def test_a_batch_consumer_gets_the_whole_claimed_batch_in_one_transaction(db, settings, frozen):
    topic, calls, registry = new_topic(), [], Registry()

    @registry.handles(topic, coalesce=True, batch=True)
    async def mark(session, events):
        calls.append([(e.payload["n"], e.attempts) for e in events])
        await append_event(session, topic + "_done", {"ids": [e.id for e in events]})

    ids = [await append(db, topic, {"n": n}, coalesce_key=f"k{n % 4}") for n in range(10)]
    worker = make_worker(db, settings, registry, batch_size=50)
    assert await worker.dispatcher.run_once() == 10
    assert calls == [[(6, 1), (7, 1), (8, 1), (9, 1)]]  # one call; coalesced to the newest per key first
    assert await count(db, topic + "_done") == 1  # one transaction: one follow-up
    for event_id in ids:
        stored = await row(db, event_id)
        assert stored.published_at == T0 and stored.claimed_by is None
    assert await worker.dispatcher.run_once() == 0


async def test_a_failing_batch_falls_back_to_one_event_at_a_time(db, settings, frozen):
    topic, calls, registry = new_topic(), [], Registry()

    @registry.handles(topic, batch=True)
    async def picky(session, events):
        calls.append(sorted(e.payload["n"] for e in events))
        await append_event(session, topic + "_done", {"n": [e.payload["n"] for e in events]})
        if any(e.payload.get("poison") for e in events):
            raise Undeliverable("cannot take this one")

    good = [await append(db, topic, {"n": n}) for n in range(3)]
    poison = await append(db, topic, {"n": 99, "poison": True})
    worker = make_worker(db, settings, registry)
    assert await worker.dispatcher.run_once() == 4
    assert calls == [[0, 1, 2, 99], [0], [1], [2], [99]]  # the batch, then each alone
    assert await count(db, topic + "_done") == 3  # the failed batch's writes rolled back, the good ones commit
    assert [(await row(db, i)).published_at is not None for i in good] == [True, True, True]
    parked = await row(db, poison)
    assert parked.parked_at is not None and "cannot take this one" in parked.last_error


async def test_delivery_is_at_least_once_and_an_idempotent_batch_consumer_writes_once(db, settings, frozen):
    topic, registry, seen = new_topic(), Registry(), []

    @registry.handles(topic, batch=True)
    async def once_per_event(session, events):
        from sqlalchemy import select

        for event in events:
            seen.append(event.id)
            done = await session.scalar(select(OutboxEvent.id).where(
                OutboxEvent.topic == topic + "_done", OutboxEvent.coalesce_key == f"event:{event.id}"))
            if done is None:  # keyed by event id: a redelivery writes nothing new
                await append_event(session, topic + "_done", {}, coalesce_key=f"event:{event.id}")

    ids = [await append(db, topic, {"n": n}) for n in range(3)]
    worker = make_worker(db, settings, registry)
    await worker.dispatcher.run_once()
    async with unit_of_work(db) as session:  # an operator replays them (or a worker died after the commit)
        await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=None))
    await worker.dispatcher.run_once()
    assert seen == ids + ids
    assert await count(db, topic + "_done") == 3


async def test_a_batch_whose_lease_was_lost_rolls_back_and_the_new_owner_delivers(db, settings, frozen):
    topic, registry = new_topic(), Registry()

    @registry.handles(topic, batch=True)
    async def follow_up(session, events):
        for event in events:
            await append_event(session, topic + "_by", {"worker": event.context.worker_id, "event": event.id})

    ids = [await append(db, topic, {"n": n}) for n in range(3)]
    slow, fast = make_worker(db, settings, registry, "slow"), make_worker(db, settings, registry, "fast")
    claimed = await slow.dispatcher.claim(registry.prefixes())
    frozen(seconds=31)  # "slow" stalled past its lease
    assert await fast.dispatcher.run_once() == 3
    assert await slow.dispatcher.deliver_together(claimed) is False  # too late: rolled back
    assert await count(db, topic + "_by") == 3
    assert [(await row(db, i)).attempts for i in ids] == [2, 2, 2]


def test_sqlite_wakes_the_worker_on_a_local_commit_instead_of_polling(tmp_path, settings):
    url = f"sqlite+aiosqlite:///{tmp_path / 'wake.db'}"
    upgrade(url)

    async def scenario() -> float:
        db = create_database(url)
        topic, registry, got = new_topic(), Registry(), asyncio.Event()

        @registry.handles(topic, batch=True)
        async def note(session, events):
            got.set()

        worker = make_worker(db, settings, registry, poll_interval=30.0)
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(worker.listening.wait(), 5)
            await asyncio.sleep(0.2)  # the loop has found nothing and sleeps its 30 s
            started = time.monotonic()
            async with unit_of_work(db) as session:
                await append_event(session, topic, {"n": 1})
            await asyncio.wait_for(got.wait(), 5)
            return time.monotonic() - started
        finally:
            worker.stop()
            await task
            await db.dispose()

    assert asyncio.run(scenario()) < 1.0


def test_a_worker_without_consumers_does_not_listen(settings):
    worker = Worker(create_database("sqlite+aiosqlite:///:memory:"), settings, registry=Registry(),
                    run_scheduler=False)
    assert worker.registry.prefixes() == [] and not worker.listening.is_set()
