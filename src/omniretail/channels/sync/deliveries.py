"""Messages owed to channels besides listing state: order status and tracking numbers for the channel an order
came from, and hub events relayed as signed webhooks to the channels subscribed to their topic.

The outbox consumer (``tasks.py``) writes one ``channel_delivery`` row per (channel, event) in the event's
transaction — unique on ``(channel_id, dedup_key)``, so a redelivered event queues nothing new — and asks for
delivery after commit. Delivery claims due rows under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), calls
the connector outside any transaction, and records the outcome: delivered, or one more attempt with exponential
back-off and jitter, parked after ``MAX_ATTEMPTS`` with the error and the last HTTP status kept (the delivery
log). A periodic job picks up what failed or what a crash left claimed once the lease has run out.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.backoff import backoff_delay
from omniretail.platform.db import Database, unit_of_work

from ..connectors.base import ConnectorError, FulfilmentUpdate, ItemResult, RateLimited
from . import metrics
from .connections import Connections
from .models import ChannelDelivery
from .ratelimit import Throttled

log = logging.getLogger("omniretail.sync")
D = ChannelDelivery.__table__
MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=60)
DELIVERY_NAMESPACE = uuid.UUID("5e0b8d2a-91c4-4a7f-b3d6-0f2e8c1a7b49")


def delivery_key(channel_id: int, event_id: int) -> str:
    """The delivery id a receiver deduplicates on: stable for (channel, hub event)."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{channel_id}|{event_id}"))


async def queue(session: AsyncSession, *, channel_id: int, kind: str, topic: str, dedup_key: str,
                payload: dict[str, Any]) -> int | None:
    """Owe a message; returns its id, or None if it was owed already."""
    dialect = session.bind.dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(D).values(
        channel_id=channel_id, kind=kind, topic=topic, dedup_key=dedup_key, payload=payload, state="pending",
        attempts=0, next_attempt_at=clock.now(), created_at=clock.now())
    stmt = stmt.on_conflict_do_nothing(index_elements=["channel_id", "dedup_key"]).returning(D.c.id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _claim(db: Database, *, worker: str, ids: list[int] | None, limit: int) -> list[Any]:
    now = clock.now()
    due = select(D.c.id).where(D.c.state == "pending", D.c.next_attempt_at <= now,
                               or_(D.c.lease_until.is_(None), D.c.lease_until < now))
    if ids is not None:
        due = due.where(D.c.id.in_(ids))
    due = due.order_by(D.c.next_attempt_at, D.c.id).limit(limit)
    if not db.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    stmt = (update(D).where(D.c.id.in_(due.scalar_subquery())).values(lease_owner=worker, lease_until=now + LEASE)
            .returning(D.c.id, D.c.channel_id, D.c.kind, D.c.topic, D.c.dedup_key, D.c.payload, D.c.attempts))
    async with unit_of_work(db) as session:
        return (await session.execute(stmt)).all()


async def _send(connections: Connections, row: Any) -> tuple[ItemResult | None, float | None, int | None]:
    """(result, retry after, HTTP status); result None means "give it back, not an attempt"."""
    handle = await connections.get(row.channel_id)
    if handle is None:
        return ItemResult(row.id, False, "channel inactive or without a connector", retryable=False), None, None
    try:
        if row.kind == "webhook":
            result = await handle.connector.deliver_event(topic=row.topic, data=row.payload.get("data") or {},
                                                          delivery=row.dedup_key)
        else:
            result = await handle.connector.push_fulfilment(FulfilmentUpdate(**row.payload,
                                                                             delivery_id=row.dedup_key))
        return result, None, None
    except (RateLimited, Throttled) as exc:
        if isinstance(exc, RateLimited):
            await handle.limiter.block(exc.retry_after)
        return None, exc.retry_after, None
    except ConnectorError as exc:
        return ItemResult(row.id, False, str(exc), exc.retryable), None, exc.status
    except Exception as exc:  # recorded on the row, retried
        log.exception("delivery %s failed unexpectedly", row.id)
        return ItemResult(row.id, False, f"{type(exc).__name__}: {exc}"), None, None


async def deliver(db: Database, connections: Connections, *, worker: str, ids: list[int] | None = None,
                  limit: int = 50) -> int:
    """Send what is due (or just ``ids``); returns how many were delivered."""
    delivered = 0
    for row in await _claim(db, worker=worker, ids=ids, limit=limit):
        started = time.perf_counter()
        result, retry_after, status = await _send(connections, row)
        duration = int((time.perf_counter() - started) * 1000)
        now = clock.now()
        mine = and_(D.c.id == row.id, D.c.lease_owner == worker)
        if result is None:
            values = {"next_attempt_at": now + timedelta(seconds=retry_after or 1.0)}
            outcome = "deferred"
        elif result.ok:
            values = {"state": "delivered", "delivered_at": now, "last_error": None, "attempts": row.attempts + 1}
            outcome, delivered = "delivered", delivered + 1
        else:
            attempts = row.attempts + 1
            park = attempts >= MAX_ATTEMPTS or not result.retryable
            values = {"attempts": attempts, "last_error": (result.error or "")[:4000],
                      "state": "parked" if park else "pending",
                      "next_attempt_at": now + backoff_delay(attempts, base=5.0, cap=3600.0)}
            outcome = "parked" if park else "failed"
        values.update(lease_owner=None, lease_until=None, duration_ms=duration,
                      last_status=status if status is not None else (result.status if result else None))
        async with unit_of_work(db) as session:
            await session.execute(update(D).where(mine).values(**values))
        metrics.DELIVERIES.labels(str(row.channel_id), row.kind, outcome).inc()
    return delivered


async def retry_parked(session: AsyncSession, *, channel_id: int, delivery_id: int) -> bool:
    done = await session.execute(update(D).where(D.c.id == delivery_id, D.c.channel_id == channel_id,
                                                 D.c.state == "parked")
                                 .values(state="pending", attempts=0, next_attempt_at=clock.now()))
    return done.rowcount == 1
