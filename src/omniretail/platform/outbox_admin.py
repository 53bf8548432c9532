"""What an operator needs about the outbox: the queue per topic, parked events and their errors, requeueing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import clock
from .outbox import OutboxEvent

outbox = OutboxEvent.__table__


@dataclass(frozen=True)
class TopicQueue:
    topic: str
    due: int  # waiting for a worker
    claimed: int  # in a worker's hands (lease running)
    backing_off: int  # failed, waiting for the next attempt
    parked: int  # gave up; needs an operator
    oldest: datetime | None  # created_at of the oldest undelivered event


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    topic: str
    attempts: int
    parked_at: datetime
    last_error: str | None


async def queue_status(session: AsyncSession) -> list[TopicQueue]:
    now = clock.now()
    parked = outbox.c.parked_at.isnot(None)
    # every unpublished event, said as the two partial indexes' conditions (pending or parked) so that
    # PostgreSQL reads both of them instead of the whole table
    unpublished = or_(and_(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None)),
                      and_(outbox.c.published_at.is_(None), parked))
    waiting = and_(outbox.c.parked_at.is_(None), outbox.c.claimed_until.isnot(None),
                   outbox.c.claimed_until >= now)

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = (await session.execute(
        select(outbox.c.topic,
               count(and_(~parked, ~waiting)),
               count(and_(waiting, outbox.c.claimed_by.isnot(None))),
               count(and_(waiting, outbox.c.claimed_by.is_(None))),
               count(parked),
               func.min(outbox.c.created_at))
        .where(unpublished).group_by(outbox.c.topic).order_by(outbox.c.topic)
    )).all()
    return [TopicQueue(r[0], *(int(n or 0) for n in r[1:5]), r[5]) for r in rows]


async def parked_events(session: AsyncSession, *, topic: str | None = None,
                        limit: int = 50) -> list[ParkedEvent]:
    stmt = (select(outbox.c.id, outbox.c.topic, outbox.c.attempts, outbox.c.parked_at, outbox.c.last_error)
            .where(outbox.c.published_at.is_(None), outbox.c.parked_at.isnot(None))
            .order_by(outbox.c.id).limit(limit))
    if topic:
        stmt = stmt.where(outbox.c.topic == topic)
    return [ParkedEvent(*row) for row in (await session.execute(stmt)).all()]


async def requeue_parked(session: AsyncSession, *, ids: list[int] | None = None,
                         topic: str | None = None) -> int:
    """Give parked events a fresh set of attempts (after the cause was fixed). Returns how many."""
    stmt = update(outbox).where(outbox.c.published_at.is_(None), outbox.c.parked_at.isnot(None))
    if ids:
        stmt = stmt.where(outbox.c.id.in_(ids))
    if topic:
        stmt = stmt.where(outbox.c.topic == topic)
    result = await session.execute(stmt.values(parked_at=None, attempts=0, claimed_by=None, claimed_until=None))
    return result.rowcount
