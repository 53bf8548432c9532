"""Published outbox events are kept ``outbox_retention_days`` for inspection, then deleted.

Every write that others must hear of appends an event (order placement appends six), and a published event is
never read again by the workers: without this the table grows for ever (a shop with 2,000 orders a day and its
stock sync: tens of millions of rows a year), with its vacuum, backups and the operators' queries. Events not yet
published, and parked ones, are never deleted here, whatever their age; what a customer was sent is in the message
log (``notifications``), what happened to an order in its timeline.

One worker runs :func:`prune_outbox` hourly (``@every``); it deletes in batches, each its own short
transaction, oldest first along the primary key (ids grow with time), so no long lock is held and the workers'
claims go on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import clock
from .db import Database, unit_of_work
from .jobs import WorkerContext, every
from .outbox import OutboxEvent

outbox = OutboxEvent.__table__
BATCH = 5_000
log = logging.getLogger("omniretail.outbox")


async def delete_published(session: AsyncSession, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` events published before ``before``, oldest first; returns how many."""
    oldest = (select(outbox.c.id).where(outbox.c.published_at.is_not(None), outbox.c.published_at < before)
              .order_by(outbox.c.id).limit(limit))
    result = await session.execute(delete(outbox).where(outbox.c.id.in_(oldest.scalar_subquery())))
    return result.rowcount


async def prune(db: Database, *, retention_days: int, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete the events published more than ``retention_days`` ago (0: keep them all); returns how many."""
    if retention_days <= 0:
        return 0
    before = (now or clock.now()) - timedelta(days=retention_days)
    total = 0
    while True:
        async with unit_of_work(db) as session:
            deleted = await delete_published(session, before=before, limit=batch)
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)  # the worker's other tasks between batches


@every(3600, "platform.outbox_retention")
async def prune_outbox(context: WorkerContext) -> None:
    deleted = await prune(context.db, retention_days=context.settings.outbox_retention_days)
    if deleted:
        log.info("deleted %s outbox events published more than %s days ago", deleted,
                 context.settings.outbox_retention_days)
