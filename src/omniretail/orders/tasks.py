"""The orders package's background jobs (idempotent; safe on several workers at once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.locations.models import Location
from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.errors import Conflict, NotFound
from omniretail.platform.jobs import WorkerContext, every

from . import fulfilment, pickup_deadline, service
from .tables import channel_t

ACTOR = "system:orders.expire_uncollected"
F, O, L = service.FULFILMENT, service.ORDERS, Location.__table__


async def uncollected(session: AsyncSession, *, now: datetime | None = None) -> list[tuple[int, int]]:
    """(fulfilment order id, days allowed) of ready pickups past their collect-by deadline: the store's closing
    time ``settings.pickup_expiry_days`` (default 5) after they became ready (``pickup_deadline.collect_by`` —
    the deadline the customer was told)."""
    now = now or clock.now()
    # no deadline comes before the local day after ready_at (at least one day allowed): nothing ready later
    # than now can be due
    rows = await session.execute(
        select(F.c.id, F.c.ready_at, channel_t.c.settings, L.c.opening_hours, L.c.timezone)
        .select_from(F.join(O, O.c.id == F.c.order_id).join(channel_t, channel_t.c.id == O.c.channel_id)
                     .outerjoin(L, L.c.id == F.c.location_id))
        .where(F.c.state == "ready_for_pickup", F.c.ready_at <= now).order_by(F.c.ready_at))
    out = []
    for fo_id, ready_at, settings, hours, timezone in rows:
        days = pickup_deadline.expiry_days(settings)
        if pickup_deadline.collect_by(ready_at, days=days, opening_hours=hours, timezone=timezone) <= now:
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
