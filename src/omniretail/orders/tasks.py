"""The orders package's background jobs (idempotent; safe on several workers at once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.errors import Conflict, NotFound
from omniretail.platform.jobs import WorkerContext, every

from . import fulfilment, service
from .tables import channel_t

ACTOR = "system:orders.expire_uncollected"
F, O = service.FULFILMENT, service.ORDERS


async def uncollected(session: AsyncSession, *, now: datetime | None = None) -> list[tuple[int, int]]:
    """(fulfilment order id, days allowed) of pickups ready for longer than their channel allows
    (``settings.pickup_expiry_days``, default 5)."""
    now = now or clock.now()
    rows = await session.execute(
        select(F.c.id, F.c.ready_at, channel_t.c.settings)
        .select_from(F.join(O, O.c.id == F.c.order_id).join(channel_t, channel_t.c.id == O.c.channel_id))
        .where(F.c.state == "ready_for_pickup", F.c.ready_at <= now - timedelta(days=1)).order_by(F.c.ready_at))
    out = []
    for fo_id, ready_at, settings in rows:
        days = int((settings or {}).get("pickup_expiry_days", fulfilment.DEFAULT_PICKUP_DAYS))
        if ready_at + timedelta(days=days) <= now:
            out.append((fo_id, days))
    return out


async def expire_pickup(session: AsyncSession, fo_id: int, *, days: int) -> bool:
    """Cancel one uncollected pickup and release its stock; False if it was collected meanwhile."""
    try:
        await fulfilment.cancel_fulfilment(session, fo_id, reason=f"not collected within {days} days",
                                           actor=ACTOR, principal=None, template="pickup_expired")
    except (Conflict, NotFound):
        return False
    return True


async def expire_uncollected_job(db: Database, *, now: datetime | None = None) -> int:
    """``orders.expire_uncollected``: each expired pickup in its own transaction."""
    async with unit_of_work(db, readonly=True) as session:
        due = await uncollected(session, now=now)
    done, failed = 0, []
    for fo_id, days in due:
        try:
            async with unit_of_work(db) as session:
                done += await expire_pickup(session, fo_id, days=days)
        except Exception as exc:
            failed.append(exc)
    if failed:  # reported after the others were done; the next run retries them
        raise failed[0]
    return done


@every(900, "orders.expire_uncollected")
async def expire_uncollected_periodically(context: WorkerContext) -> None:
    await expire_uncollected_job(context.db)
