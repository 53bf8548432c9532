"""The worker against a real database (SQLite, and PostgreSQL when it answers): delivery, transactions,
retries with back-off, parking, coalescing, leases, the scheduler, one worker per SQLite file.

Concurrency between worker processes on PostgreSQL is in ``test_worker_postgres.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from omniretail.platform import clock, outbox_admin
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Registry, Undeliverable
from omniretail.platform.migrate import upgrade
from omniretail.platform.outbox import OutboxEvent, append_event
from omniretail.platform.scheduler import ScheduledJobState
from omniretail.platform.worker import Worker, WorkerAlreadyRunning

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_topics = itertools.count(1)


@pytest.fixture
def frozen():
    """The worker's clock, pinned and moved by hand."""
    state = {"now": T0}
    clock.freeze(T0)

    def move(**delta) -> datetime:
        state["now"] = state["now"] + timedelta(**delta)
        clock.freeze(state["now"])
        return state["now"]

    yield move
    clock.freeze(None)


def new_topic() -> str:
    return f"test.worker{next(_topics)}"


def make_worker(db, settings, registry, worker_id="w1", **options) -> Worker:
    opts = {"batch_size": 10, "lease": timedelta(seconds=30), "max_attempts": 3, "backoff_base": 10.0,
            "backoff_cap": 100.0, "lease_margin": timedelta(seconds=1), **options}
    return Worker(db, settings, registry=registry, options=DispatchOptions(**opts), run_scheduler=False,
                  worker_id=worker_id)


async def append(db, topic, payload, coalesce_key=None) -> int:
    async with unit_of_work(db) as session:
        await append_event(session, topic, payload, coalesce_key=coalesce_key)
        return await session.scalar(select(func.max(OutboxEvent.id)))


async def row(db, event_id):
    """The outbox row as it is in the database now (a plain row, not an ORM object)."""
    async with unit_of_work(db, readonly=True) as session:
        table = OutboxEvent.__table__
        return (await session.execute(select(table).where(table.c.id == event_id))).one()


async def count(db, topic) -> int:
    async with unit_of_work(db, readonly=True) as session:
        return await session.scalar(select(func.count()).where(OutboxEvent.topic == topic))


async def test_a_consumer_gets_the_event_and_it_is_published(db, settings, frozen):
    topic, seen, registry = new_topic(), [], Registry()

    @registry.handles(topic)
    async def record(session, event):
        seen.append((event.id, event.topic, event.payload, event.attempts, event.context.worker_id))

    event_id = await append(db, topic + ".created", {"n": 1})
    worker = make_worker(db, settings, registry)
    assert await worker.dispatcher.run_once() == 1
    assert seen == [(event_id, topic + ".created", {"n": 1}, 1, "w1")]
    stored = await row(db, event_id)
    assert stored.published_at == T0 and stored.claimed_by is None and stored.last_error is None
    assert await worker.dispatcher.run_once() == 0


async def test_consumer_writes_commit_with_the_published_mark_or_not_at_all(db, settings, frozen):
    topic, registry, calls = new_topic(), Registry(), []

    @registry.handles(topic)
    async def follow_up(session, event):
        calls.append(event.attempts)
        await append_event(session, topic + "_followup", {"from": event.id})
        if len(calls) == 1:
            raise RuntimeError("first try fails after writing")

    event_id = await append(db, topic, {})
    worker = make_worker(db, settings, registry)
    await worker.dispatcher.run_once()
    assert await count(db, topic + "_followup") == 0  # rolled back with the failure
    assert (await row(db, event_id)).published_at is None
    frozen(seconds=11)
    await worker.dispatcher.run_once()
    assert calls == [1, 2]
    assert await count(db, topic + "_followup") == 1
    assert (await row(db, event_id)).published_at is not None


async def test_a_failing_consumer_backs_off_with_jitter_then_is_parked_with_its_error(db, settings, frozen):
    topic, registry, healthy = new_topic(), Registry(), {"ok": False}

    @registry.handles(topic)
    async def push_to_carrier(session, event):
        if not healthy["ok"]:
            raise RuntimeError("carrier API down (HTTP 503)")

    event_id = await append(db, topic, {"shipment": 7})
    worker = make_worker(db, settings, registry)

    await worker.dispatcher.run_once()
    first = await row(db, event_id)
    assert first.attempts == 1 and first.published_at is None and first.parked_at is None
    assert first.claimed_by is None
    assert T0 + timedelta(seconds=5) <= first.claimed_until <= T0 + timedelta(seconds=10)  # base 10, jittered
    assert first.last_error.startswith("RuntimeError: carrier API down (HTTP 503)")
    assert "push_to_carrier" in first.last_error  # the traceback follows
    assert await worker.dispatcher.run_once() == 0  # backing off: nobody takes it yet

    now = frozen(seconds=10)
    await worker.dispatcher.run_once()
    second = await row(db, event_id)
    assert second.attempts == 2
    assert now + timedelta(seconds=10) <= second.claimed_until <= now + timedelta(seconds=20)

    now = frozen(seconds=20)
    await worker.dispatcher.run_once()
    parked = await row(db, event_id)
    assert parked.attempts == 3 and parked.parked_at == now and parked.published_at is None
    assert "carrier API down" in parked.last_error
    frozen(days=1)
    assert await worker.dispatcher.run_once() == 0  # parked events wait for an operator

    async with unit_of_work(db, readonly=True) as session:
        [queue] = [q for q in await outbox_admin.queue_status(session) if q.topic == topic]
        assert (queue.due, queue.parked) == (0, 1)
        [listed] = [p for p in await outbox_admin.parked_events(session, topic=topic)]
        assert listed.id == event_id and "carrier API down" in listed.last_error
    async with unit_of_work(db) as session:
        assert await outbox_admin.requeue_parked(session, topic=topic) == 1
    healthy["ok"] = True
    assert await worker.dispatcher.run_once() == 1
    assert (await row(db, event_id)).published_at is not None


async def test_an_undeliverable_event_is_parked_at_once(db, settings, frozen):
    topic, registry = new_topic(), Registry()

    @registry.handles(topic)
    async def strict(session, event):
        raise Undeliverable("payload misses order_number")

    event_id = await append(db, topic, {})
    await make_worker(db, settings, registry).dispatcher.run_once()
    stored = await row(db, event_id)
    assert stored.attempts == 1 and stored.parked_at == T0
    assert stored.last_error.startswith("Undeliverable: payload misses order_number")


async def test_coalescing_consumers_get_only_the_newest_event_per_key(db, settings, frozen):
    topic, registry, seen = new_topic(), Registry(), []

    @registry.handles(topic, coalesce=True)
    async def newest_stock(session, event):
        seen.append(event.payload["available"])

    ids = [await append(db, topic, {"available": n}, coalesce_key="stock:1") for n in (5, 4, 3)]
    ids.append(await append(db, topic, {"available": 9}, coalesce_key="stock:2"))
    ids.append(await append(db, topic, {"available": 0}))  # no key: always delivered
    await make_worker(db, settings, registry).dispatcher.run_once()
    assert sorted(seen) == [0, 3, 9]
    assert all([(await row(db, i)).published_at is not None for i in ids])


async def test_events_without_a_consumer_stay_untouched(db, settings, frozen):
    handled, unhandled, registry = new_topic(), new_topic(), Registry()

    @registry.handles(handled)
    async def consume(session, event):
        return None

    waiting = await append(db, unhandled, {})
    await append(db, handled, {})
    assert await make_worker(db, settings, registry).dispatcher.run_once() == 1
    stored = await row(db, waiting)
    assert (stored.published_at, stored.claimed_by, stored.attempts) == (None, None, 0)


async def test_a_lease_lost_to_another_worker_rolls_the_late_consumer_back(db, settings, frozen):
    topic, registry = new_topic(), Registry()

    @registry.handles(topic)
    async def follow_up(session, event):
        await append_event(session, topic + "_by", {"worker": event.context.worker_id, "event": event.id})

    ids = [await append(db, topic, {"n": n}) for n in range(3)]
    slow, fast = make_worker(db, settings, registry, "slow"), make_worker(db, settings, registry, "fast")
    claimed = await slow.dispatcher.claim(registry.prefixes())
    assert [e.id for e in claimed] == ids
    assert await fast.dispatcher.run_once() == 0  # leased to "slow"

    frozen(seconds=31)  # "slow" stalled past its lease
    assert await fast.dispatcher.run_once() == 3
    assert [(await row(db, i)).attempts for i in ids] == [2, 2, 2]
    assert await slow.dispatcher.deliver(claimed[0]) is False  # too late: its writes roll back
    async with unit_of_work(db, readonly=True) as session:
        writers = (await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == topic + "_by"))).all()
    assert sorted(p["event"] for p in writers) == ids and {p["worker"] for p in writers} == {"fast"}


async def test_stopping_gives_back_the_claims_not_started(db, settings, frozen):
    import asyncio

    topic, registry = new_topic(), Registry()

    @registry.handles(topic)
    async def consume(session, event):
        return None

    ids = [await append(db, topic, {}) for _ in range(4)]
    worker = make_worker(db, settings, registry)
    events = await worker.dispatcher.claim(registry.prefixes())
    stop = asyncio.Event()
    stop.set()
    await worker.dispatcher.deliver_batch(events, stop=stop)
    for event_id in ids:
        stored = await row(db, event_id)
        assert (stored.claimed_by, stored.claimed_until, stored.attempts, stored.published_at) == (None, None, 0, None)
    # the same when the lease is nearly over
    events = await worker.dispatcher.claim(registry.prefixes())
    await worker.dispatcher.deliver_batch(events, lease_end=T0 + timedelta(milliseconds=500))
    assert (await row(db, ids[0])).attempts == 0


async def test_the_scheduler_runs_due_jobs_and_records_each_run(db, settings, frozen):
    from omniretail.platform.scheduler import Scheduler

    registry, runs = Registry(), []

    @registry.every(60, "test.expire_holds")
    async def expire_holds(context):
        runs.append(clock.now())

    @registry.every(300, "test.reconcile")
    async def reconcile(context):
        raise ConnectionError("channel API unreachable")

    scheduler = Scheduler(make_worker(db, settings, registry).context, registry)
    assert await scheduler.run_due_jobs() == ["test.expire_holds", "test.reconcile"]
    assert await scheduler.run_due_jobs() == []
    frozen(seconds=61)
    assert await scheduler.run_due_jobs() == ["test.expire_holds"]
    assert len(runs) == 2
    async with unit_of_work(db, readonly=True) as session:
        jobs = ScheduledJobState.__table__
        ok, failed = (await session.execute(select(jobs).where(jobs.c.name.like("test.%")).order_by(jobs.c.name))).all()
    assert (ok.last_status, ok.runs, ok.failures, ok.last_worker) == ("ok", 2, 0, "w1")
    assert (failed.last_status, failed.runs, failed.failures) == ("failed", 1, 1)
    assert failed.last_error.startswith("ConnectionError: channel API unreachable")


async def test_sqlite_runs_one_worker_per_database_file(tmp_path, settings):
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    db = create_database(url)
    try:
        first, second = Worker(db, settings, registry=Registry()), Worker(db, settings, registry=Registry())
        first.start()
        with pytest.raises(WorkerAlreadyRunning, match="SQLite mode runs one"):
            second.start()
        await first.shutdown()
        second.start()  # the lock went with the first worker
        await second.shutdown()
    finally:
        await db.dispose()


def test_the_worker_command_delivers_reports_and_requeues(tmp_path, monkeypatch):
    import asyncio

    from click.testing import CliRunner

    from omniretail.cli.main import cli
    from omniretail.platform.config import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", url)
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    upgrade(url)

    async def seed():
        db = create_database(url)
        try:
            await append(db, "orders.notify", {"template": "shipped", "order_id": 1, "data": {}})
            await append(db, "test.nobody_listens", {})
        finally:
            await db.dispose()

    try:
        asyncio.run(seed())
        runner = CliRunner()
        once = runner.invoke(cli, ["worker", "--once"])
        assert once.exit_code == 0, once.output
        status = runner.invoke(cli, ["worker", "status", "--parked"])
        assert status.exit_code == 0, status.output
        lines = status.output.splitlines()
        assert any(line.startswith("orders.notify") and line.split()[1:5] == ["0", "0", "0", "1"] for line in lines)
        assert any(line.startswith("test.nobody_listens") and "(no consumer registered)" in line for line in lines)
        assert any(line.startswith("parked #1 orders.notify after 1 attempt(s)")
                   and "Undeliverable: orders.notify payload does not validate" in line for line in lines)
        assert "job notifications.retry_deliveries: ok" in status.output
        requeued = runner.invoke(cli, ["worker", "requeue", "--topic", "orders.notify"])
        assert requeued.output.strip() == "requeued 1 event(s)"
        assert runner.invoke(cli, ["worker", "requeue"]).exit_code != 0
    finally:
        get_settings.cache_clear()
