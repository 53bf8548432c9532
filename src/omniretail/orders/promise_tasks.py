"""The promise clock's job: every 60 s, escalate fulfilment orders that are due soon or late (``promise``)."""

from __future__ import annotations

from datetime import datetime

from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.jobs import WorkerContext, every

from . import promise


async def escalate_job(db: Database, *, now: datetime | None = None) -> list[tuple[int, int]]:
    """One run in one transaction; a level is raised once however often (or on however many workers) it runs."""
    async with unit_of_work(db) as session:
        return await promise.escalate_due(session, now=now)


@every(60, "orders.escalate_promises")
async def escalate_periodically(context: WorkerContext) -> None:
    await escalate_job(context.db)
