"""Every way of appending outbox events flags the session, so its commit wakes the workers: ``append_events``, an
outbox INSERT written as SQL text through the session, and SQL sent through the driver (flagged by the caller);
a rollback wakes nobody. On PostgreSQL the committing process sends the NOTIFY after its commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omniretail.platform import outbox
from omniretail.platform.db import unit_of_work


async def _commits_wake(db, write) -> list[bool]:
    woken: list[bool] = []
    unregister = outbox.on_local_commit(lambda: woken.append(True))
    try:
        async with unit_of_work(db) as session:
            await write(session)
    finally:
        unregister()
    return woken


async def test_each_way_of_appending_wakes_and_a_plain_write_does_not(db):
    async def with_helper(session):
        await outbox.append_events(session, [{"topic": "t.x", "payload": {"n": 1}}])

    async def with_text(session):
        await session.execute(text("INSERT INTO outbox (topic, payload, created_at, attempts) "
                                   "VALUES ('t.y', '{}', CURRENT_TIMESTAMP, 0)"))

    async def other_table(session):
        await session.execute(text("SELECT 1"))

    assert await _commits_wake(db, with_helper) == [True]
    assert await _commits_wake(db, with_text) == [True]
    assert await _commits_wake(db, other_table) == []


async def test_a_rollback_wakes_nobody(db):
    woken: list[bool] = []
    unregister = outbox.on_local_commit(lambda: woken.append(True))
    try:
        with pytest.raises(RuntimeError):
            async with unit_of_work(db) as session:
                await outbox.append_events(session, [{"topic": "t.x", "payload": {}}])
                raise RuntimeError("changed my mind")
    finally:
        unregister()
    assert woken == []


@pytest.mark.postgres
async def test_postgresql_commit_sends_one_notification_after_it(pg_url):
    import asyncpg

    from omniretail.platform.db import create_database
    from omniretail.platform.outbox_wakeup import asyncpg_dsn

    db = create_database(pg_url, pool_size=2)
    listener = await asyncpg.connect(asyncpg_dsn(db.url))
    heard = asyncio.Queue()
    await listener.add_listener(outbox.NOTIFY_CHANNEL, lambda *_: heard.put_nowait(True))
    try:
        async with unit_of_work(db) as session:
            await outbox.append_events(session, [{"topic": "t.x", "payload": {}}])
            await asyncio.sleep(0.2)
            assert heard.empty()  # nothing before the commit
        assert await asyncio.wait_for(heard.get(), 5)
        async with unit_of_work(db) as session:
            await session.execute(text("SELECT 1"))
        await asyncio.sleep(0.2)
        assert heard.empty()  # a commit without events sends nothing
    finally:
        await listener.close()
        await db.dispose()
