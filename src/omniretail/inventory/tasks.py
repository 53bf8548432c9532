"""Inventory's background jobs (idempotent; safe to run on several workers at once)."""

from __future__ import annotations

from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.jobs import WorkerContext, every

from . import reservations


async def expire_holds_job(db: Database, *, batch: int = 500) -> int:
    """``inventory.expire_holds``: release expired cart/checkout holds, one committed batch at a time."""
    total = 0
    while True:
        async with unit_of_work(db) as session:
            done = await reservations.expire_holds(session, limit=batch)
        total += done
        if done < batch:
            return total


@every(30, "inventory.expire_holds")
async def expire_holds_periodically(context: WorkerContext) -> None:
    await expire_holds_job(context.db)
