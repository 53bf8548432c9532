"""Claiming due listings, and recording what the channel said: the engine's statements (Core, no ORM objects).

A claim is a lease. One statement takes a batch of one channel's due listings and stamps them::

    UPDATE channel_listing SET lease_owner = :worker, lease_until = :now + :lease
    WHERE id IN (SELECT id FROM channel_listing
                 WHERE channel_id = :channel
                   AND desired_version > acked_version AND parked = false      -- the partial index's predicate
                   AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
                   AND (lease_until IS NULL OR lease_until < :now)
                 ORDER BY desired_at, id LIMIT :batch
                 FOR UPDATE SKIP LOCKED)                                    -- PostgreSQL; SQLite: the write lock
    RETURNING id, variant_id, external, desired_*, acked_*, attempts, (SELECT sku FROM variant …) AS sku

Concurrent engines never take the same row; a killed engine's rows are claimable again once ``lease_until``
passes — and as its last sends may or may not have reached the channel, such a row's ``acked_*`` are cleared by
the claim that takes it over, so everything is sent again. What is recorded afterwards is guarded by ``lease_owner = :worker``: an engine whose lease ran out and
was taken over writes nothing. An acknowledgement sets ``acked_*`` to what was sent and ``acked_version`` to the
version sent, only if that is not older than what is acknowledged already (``acked_version <= :version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, null, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import DUE, ChannelListing, ChannelSyncLog

L = ChannelListing.__table__
LOG = ChannelSyncLog.__table__


@dataclass(frozen=True)
class Claimed:
    id: int
    channel_id: int
    variant_id: int
    sku: str
    external: dict[str, Any]
    desired_quantity: int | None
    desired_price_minor: int | None
    desired_content_hash: str | None
    desired_published: bool
    desired_version: int
    desired_at: datetime | None
    acked_quantity: int | None
    acked_price_minor: int | None
    acked_content_hash: str | None
    acked_published: bool | None
    acked_version: int
    attempts: int
    lease_until: datetime


_ACKED = ("acked_quantity", "acked_price_minor", "acked_content_hash", "acked_published")
_RETURNING = (L.c.id, L.c.channel_id, L.c.variant_id, L.c.external, L.c.desired_quantity, L.c.desired_price_minor,
              L.c.desired_content_hash, L.c.desired_published, L.c.desired_version, L.c.desired_at,
              L.c.acked_quantity, L.c.acked_price_minor, L.c.acked_content_hash, L.c.acked_published,
              L.c.acked_version, L.c.attempts, L.c.lease_until)


def _due(now: datetime):
    return (text(DUE), or_(L.c.next_attempt_at.is_(None), L.c.next_attempt_at <= now),
            or_(L.c.lease_until.is_(None), L.c.lease_until < now))


async def due_counts(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Channel id -> listings ready to send (back-off over, not leased)."""
    rows = await session.execute(select(L.c.channel_id, func.count()).where(*_due(now)).group_by(L.c.channel_id))
    return {r[0]: r[1] for r in rows}


async def queue_depth(session: AsyncSession) -> dict[int, int]:
    """Channel id -> listings whose desired state is not acknowledged (waiting, backing off or in flight)."""
    rows = await session.execute(select(L.c.channel_id, func.count()).where(text(DUE)).group_by(L.c.channel_id))
    return {r[0]: r[1] for r in rows}


async def claim(session: AsyncSession, *, channel_id: int, worker: str, now: datetime, lease: timedelta,
                limit: int, postgresql: bool) -> list[Claimed]:
    due = (select(L.c.id).where(L.c.channel_id == channel_id, *_due(now))
           .order_by(L.c.desired_at, L.c.id).limit(limit))
    if postgresql:
        due = due.with_for_update(skip_locked=True)
    # A row still carrying a lease owner was claimed before and never recorded (its engine died, or its lease
    # ran out mid-call): what that engine sent may or may not have reached the channel, so what the channel
    # acknowledged is unknown. Forgetting it makes every part go out again (and Shopify read the level back).
    orphaned = L.c.lease_owner.is_not(None)
    forget = {name: case((orphaned, null()), else_=L.c[name]) for name in _ACKED}
    stmt = (update(L).where(L.c.id.in_(due.scalar_subquery()))
            .values(lease_owner=worker, lease_until=now + lease, **forget)
            .returning(*_RETURNING))
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    skus = await _skus(session, {r.variant_id for r in rows})
    return sorted((Claimed(**r._mapping, sku=skus.get(r.variant_id, "")) for r in rows),
                  key=lambda c: (c.desired_at or now, c.id))


_SKUS = text("SELECT id, sku FROM variant WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))


async def _skus(session: AsyncSession, variant_ids: set[int]) -> dict[int, str]:
    return dict((await session.execute(_SKUS, {"ids": sorted(variant_ids)})).all())


# --- recording ---------------------------------------------------------------------------------------------


async def renew(session: AsyncSession, ids: list[int], *, worker: str, until: datetime) -> int:
    """Extend this worker's lease on listings it is still sending; returns how many it still held."""
    if not ids:
        return 0
    held = select(L.c.id).where(L.c.id.in_(sorted(ids)), L.c.lease_owner == worker).order_by(L.c.id)
    if session.bind.dialect.name == "postgresql":  # lock in id order, as every writer of listings does
        held = held.with_for_update()
    done = await session.execute(update(L).where(L.c.id.in_(held.scalar_subquery()), L.c.lease_owner == worker)
                                 .values(lease_until=until))
    return done.rowcount


async def acknowledge(session: AsyncSession, rows: list[dict[str, Any]], *, worker: str, now: datetime) -> None:
    """Every part sent was accepted: ``rows`` of {id, version, acked_*}."""
    if not rows:
        return
    stmt = (update(L).where(L.c.id == _p("lid"), L.c.lease_owner == worker, L.c.acked_version <= _p("v"))
            .values(**{name: _p(name) for name in _ACKED}, acked_version=_p("v"), acked_at=now, attempts=0,
                    last_error=None, next_attempt_at=None, lease_owner=None, lease_until=None, updated_at=now))
    await session.execute(stmt, [_params(r) for r in _in_lock_order(rows)])


async def fail(session: AsyncSession, rows: list[dict[str, Any]], *, worker: str, now: datetime) -> None:
    """Some part failed: ``rows`` of {id, acked_* (the parts that did go through), error, next_attempt_at,
    parked}; one more attempt is counted."""
    if not rows:
        return
    stmt = (update(L).where(L.c.id == _p("lid"), L.c.lease_owner == worker)
            .values(**{name: _p(name) for name in _ACKED}, attempts=L.c.attempts + 1, last_error=_p("error"),
                    last_error_at=now, next_attempt_at=_p("next_attempt_at"), parked=_p("parked"),
                    lease_owner=None, lease_until=None, updated_at=now))
    await session.execute(stmt, [_params(r) for r in _in_lock_order(rows)])


async def defer(session: AsyncSession, rows: list[dict[str, Any]], *, worker: str, now: datetime) -> None:
    """Not sent (rate limited, lease nearly over, stopping): give back without counting an attempt; parts that
    did go through are recorded."""
    if not rows:
        return
    stmt = (update(L).where(L.c.id == _p("lid"), L.c.lease_owner == worker)
            .values(**{name: _p(name) for name in _ACKED}, next_attempt_at=_p("next_attempt_at"),
                    lease_owner=None, lease_until=None, updated_at=now))
    await session.execute(stmt, [_params(r) for r in _in_lock_order(rows)])


def _in_lock_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows are updated in id order by every writer (desired-state bumps included): no deadlocks."""
    return sorted(rows, key=lambda r: r["id"])


async def write_log(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    if entries:
        await session.execute(insert(LOG), entries)


def _p(name: str):
    return bindparam(f"p_{name}", type_=L.c[name].type if name in L.c else None)


def _params(row: dict[str, Any]) -> dict[str, Any]:
    out = {f"p_{k}": v for k, v in row.items() if k not in ("id", "version")}
    out["p_lid"] = row["id"]
    if "version" in row:
        out["p_v"] = row["version"]
    return out
