"""Published outbox events are deleted after the retention period; unpublished and parked ones never are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from omniretail.handlers import load
from omniretail.platform.outbox import OutboxEvent
from omniretail.platform.outbox_retention import prune

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
outbox = OutboxEvent.__table__


async def _event(session, label: str, *, age_days: float, published: bool = True, parked: bool = False) -> int:
    at = NOW - timedelta(days=age_days)
    return (await session.execute(insert(outbox).values(
        topic="test.retention", payload={"label": label}, created_at=at, attempts=1,
        published_at=at + timedelta(seconds=1) if published else None,
        parked_at=at + timedelta(seconds=1) if parked else None).returning(outbox.c.id))).scalar_one()


async def _left(session) -> list[str]:
    rows = (await session.execute(select(outbox.c.payload).where(outbox.c.topic == "test.retention")
                                  .order_by(outbox.c.id))).scalars().all()
    return [r["label"] for r in rows]


async def test_only_events_published_before_the_retention_period_are_deleted(db, session):
    for i in range(7):  # more than a batch: the job deletes batch after batch
        await _event(session, f"old-{i}", age_days=30 + i)
    await _event(session, "recent", age_days=3)
    await _event(session, "old but never delivered", age_days=40, published=False)
    await _event(session, "old and parked", age_days=40, published=False, parked=True)
    await session.commit()

    assert await prune(db, retention_days=14, now=NOW, batch=3) == 7
    session.expire_all()
    assert await _left(session) == ["recent", "old but never delivered", "old and parked"]
    assert await prune(db, retention_days=14, now=NOW, batch=3) == 0  # again: nothing more to do


async def test_zero_days_keeps_every_event(db, session):
    await _event(session, "ancient", age_days=900)
    await session.commit()
    assert await prune(db, retention_days=0, now=NOW) == 0
    assert await _left(session) == ["ancient"]


def test_the_worker_runs_the_retention_job_hourly():
    spec = load().jobs["platform.outbox_retention"]
    assert spec.seconds == 3600
