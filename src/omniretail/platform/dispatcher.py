"""The outbox dispatcher: claim pending events in batches, run their consumers, mark them published.

Claims are leases. One statement takes a batch and stamps it with this worker's id and a lease end::

    UPDATE outbox SET claimed_by = :worker, claimed_until = :now + :lease, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox
                 WHERE published_at IS NULL AND parked_at IS NULL
                   AND (claimed_until IS NULL OR claimed_until < :now)
                   AND (topic = :prefix OR topic LIKE :prefix || '.%' …)
                 ORDER BY id LIMIT :batch
                 FOR UPDATE SKIP LOCKED)        -- PostgreSQL; SQLite runs it under the write lock
    RETURNING id, topic, coalesce_key, payload, created_at, attempts

so concurrent workers never take the same row, and the rows of a worker that dies stay claimed only until the
lease runs out, then any worker takes them again (the claim counted as an attempt, so an event that kills its
worker every time is parked in the end). Each event is then handled in its own short transaction, which ends
with ``UPDATE … SET published_at = :now WHERE id = :id AND claimed_by = :worker``: if the lease was lost to
another worker meanwhile, that update finds nothing and the consumer's writes roll back with it. A failure
records the error and a back-off in ``claimed_until`` (the same column: "no one before"); after
``max_attempts`` the event is parked.

Batch consumers (``@handles(prefix, batch=True)``, ``platform/jobs.py``): the events of a claimed batch whose
topics only batch consumers handle are delivered together, in ONE transaction ending with one ``UPDATE …
WHERE id IN (…) AND claimed_by = :worker`` that must mark them all (else the lease was lost: roll back). If that
transaction fails, each of its events is delivered on its own as above, so failures stay per event.

Waking up: the loop sleeps ``poll_interval`` at most, and less when :meth:`OutboxDispatcher.wake` is called —
by the PostgreSQL ``LISTEN`` on the outbox trigger's notifications (``platform/outbox_wakeup.py``) or, on
SQLite, after a local commit that appended events (``outbox.on_local_commit``).

Times come from ``platform.clock`` (the workers' clocks; keep them NTP-synchronised: leases are tens of
seconds).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update

from . import clock
from .backoff import backoff_delay
from .db import Database, unit_of_work
from .jobs import Event, Registry, Undeliverable, WorkerContext
from .outbox import OutboxEvent

log = logging.getLogger("omniretail.worker")

outbox = OutboxEvent.__table__
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class DispatchOptions:
    batch_size: int = 50
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 10
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    poll_interval: float = 1.0
    lease_margin: timedelta = timedelta(seconds=5)  # stop starting new events this close to the lease end


class LeaseLost(Exception):
    """Another worker claimed the event after this worker's lease ran out."""


def _pending(now):
    return and_(
        outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None),
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
    )


def _topics(prefixes: list[str]):
    topic = outbox.c.topic
    return or_(*[or_(topic == p, topic.startswith(p + ".", autoescape=True)) for p in prefixes])


def describe_error(exc: BaseException) -> str:
    """The error first (what an operator reads), then the innermost frames of the traceback."""
    summary = f"{type(exc).__name__}: {exc}"[: MAX_ERROR_CHARS // 2]
    frames = "".join(traceback.format_exception(exc, limit=-4))
    return f"{summary}\n\n{frames[-(MAX_ERROR_CHARS - len(summary) - 2):]}"


class OutboxDispatcher:
    def __init__(self, context: WorkerContext, registry: Registry,
                 options: DispatchOptions | None = None) -> None:
        self.context = context
        self.db: Database = context.db
        self.registry = registry
        self.options = options or DispatchOptions()
        self.worker_id = context.worker_id
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New events may be there: claim now rather than at the end of the poll interval."""
        self._wake.set()

    # --- claiming ---------------------------------------------------------------------------------

    async def has_due(self, prefixes: list[str]) -> bool:
        """A cheap read before the write that claims, so an idle worker does not take write locks."""
        async with unit_of_work(self.db, readonly=True) as session:
            stmt = select(exists().where(_pending(clock.now()), _topics(prefixes)))
            return bool(await session.scalar(stmt))

    async def claim(self, prefixes: list[str], *, limit: int | None = None) -> list[Event]:
        now = clock.now()
        due = (select(outbox.c.id).where(_pending(now), _topics(prefixes))
               .order_by(outbox.c.id).limit(limit or self.options.batch_size))
        if not self.db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(outbox).where(outbox.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=self.worker_id, claimed_until=now + self.options.lease,
                    attempts=outbox.c.attempts + 1)
            .returning(outbox.c.id, outbox.c.topic, outbox.c.coalesce_key, outbox.c.payload,
                       outbox.c.created_at, outbox.c.attempts)
        )
        async with unit_of_work(self.db) as session:
            rows = (await session.execute(stmt)).all()
        return sorted(
            (Event(id=r.id, topic=r.topic, payload=r.payload, coalesce_key=r.coalesce_key,
                   created_at=r.created_at, attempts=r.attempts, context=self.context) for r in rows),
            key=lambda e: e.id,
        )

    # --- the loop ---------------------------------------------------------------------------------

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch and deliver it; returns how many events were claimed."""
        prefixes = self.registry.prefixes()
        if not prefixes or not await self.has_due(prefixes):
            return 0
        started = clock.now()
        events = await self.claim(prefixes)
        await self.deliver_batch(events, lease_end=started + self.options.lease, stop=stop)
        return len(events)

    async def run(self, stop: asyncio.Event) -> None:
        idle_after_error = self.options.poll_interval
        while not stop.is_set():
            try:
                claimed = await self.run_once(stop)
                idle_after_error = self.options.poll_interval
            except Exception:  # the database went away: say so and try again, slower each time
                log.exception("outbox dispatcher: claiming failed; retrying in %.0fs", idle_after_error)
                await sleep_or_stop(stop, idle_after_error)
                idle_after_error = min(idle_after_error * 2, 60.0)
                continue
            if claimed < self.options.batch_size:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Sleep until woken (new events), stopped, or the poll interval is over."""
        if self._wake.is_set():
            self._wake.clear()
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.options.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    async def deliver_batch(self, events: list[Event], *, lease_end: datetime | None = None,
                            stop: asyncio.Event | None = None) -> None:
        events, superseded = self._coalesce(events)
        if superseded:
            await self._mark_published(superseded)
        together = [e for e in events if self.registry.batched(e.topic)]
        if together and not (stop is not None and stop.is_set()) and await self.deliver_together(together):
            events = [e for e in events if not self.registry.batched(e.topic)]
        for index, event in enumerate(events):
            out_of_time = lease_end is not None and clock.now() >= lease_end - self.options.lease_margin
            if out_of_time or (stop is not None and stop.is_set()):
                await self.release([e.id for e in events[index:]])
                return
            await self.deliver(event)

    def _coalesce(self, events: list[Event]) -> tuple[list[Event], list[int]]:
        newest: dict[tuple[str, str], int] = {}
        for event in events:
            if event.coalesce_key is not None and self.registry.coalesces(event.topic):
                newest[(event.topic, event.coalesce_key)] = event.id  # events are in id order
        keep, superseded = [], []
        for event in events:
            key = (event.topic, event.coalesce_key)
            if event.coalesce_key is not None and key in newest and newest[key] != event.id:
                superseded.append(event.id)
            else:
                keep.append(event)
        return keep, superseded

    async def deliver_together(self, events: list[Event]) -> bool:
        """Batch consumers: all ``events`` in one transaction; False (nothing committed) if it failed."""
        ids = [e.id for e in events]
        try:
            async with unit_of_work(self.db) as session:
                for consumer in self.registry.consumers:
                    mine = [e for e in events if consumer.matches(e.topic)]
                    if mine:
                        await consumer.call(session, mine)
                done = await session.execute(
                    update(outbox).where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.worker_id)
                    .values(published_at=clock.now(), claimed_by=None, claimed_until=None, last_error=None)
                )
                if done.rowcount != len(ids):
                    raise LeaseLost(f"{len(ids) - done.rowcount} of {len(ids)} outbox events: lease lost")
        except Exception as exc:
            log.warning("outbox batch of %s event(s) failed (%s); delivering them one by one", len(ids), exc)
            return False
        callbacks = {}
        for event in events:  # the same callback (a wake-up) asked by many events of the batch runs once
            for callback in event._after_commit:
                callbacks.setdefault(_callback_key(callback), callback)
        for callback in callbacks.values():
            try:
                await callback()
            except Exception:
                log.exception("outbox batch: after-commit callback %r failed", callback)
        return True

    async def deliver(self, event: Event) -> bool:
        """Run the event's consumers and mark it published in one transaction; True if it was published."""
        try:
            async with unit_of_work(self.db) as session:
                for consumer in self.registry.consumers_for(event.topic):
                    await consumer.call(session, [event])
                done = await session.execute(
                    update(outbox).where(outbox.c.id == event.id, outbox.c.claimed_by == self.worker_id)
                    .values(published_at=clock.now(), claimed_by=None, claimed_until=None, last_error=None)
                )
                if done.rowcount != 1:
                    raise LeaseLost(f"outbox event {event.id}: lease lost to another worker")
        except LeaseLost as exc:
            log.warning("%s; its consumers' writes were rolled back", exc)
            return False
        except Exception as exc:
            await self._record_failure(event, exc)
            return False
        for callback in event._after_commit:
            try:
                await callback()
            except Exception:  # the callback owns its retry state (see jobs.py); this is the last word on it
                log.exception("outbox event %s: after-commit callback %r failed", event.id, callback)
        return True

    # --- bookkeeping ------------------------------------------------------------------------------

    async def _record_failure(self, event: Event, exc: Exception) -> None:
        now = clock.now()
        error = describe_error(exc)
        park = isinstance(exc, Undeliverable) or event.attempts >= self.options.max_attempts
        if park:
            values = {"parked_at": now, "claimed_until": None}
            log.error("outbox event %s (%s) parked after %s attempt(s): %s", event.id, event.topic,
                      event.attempts, exc, exc_info=exc)
        else:
            delay = backoff_delay(event.attempts, base=self.options.backoff_base, cap=self.options.backoff_cap)
            values = {"claimed_until": now + delay}
            log.warning("outbox event %s (%s) failed (attempt %s), retry in %.1fs: %s", event.id, event.topic,
                        event.attempts, delay.total_seconds(), exc, exc_info=exc)
        async with unit_of_work(self.db) as session:
            await session.execute(
                update(outbox).where(outbox.c.id == event.id, outbox.c.claimed_by == self.worker_id)
                .values(claimed_by=None, last_error=error, **values)
            )

    async def _mark_published(self, ids: list[int]) -> None:
        async with unit_of_work(self.db) as session:
            await session.execute(
                update(outbox).where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.worker_id)
                .values(published_at=clock.now(), claimed_by=None, claimed_until=None, last_error=None)
            )

    async def release(self, ids: list[int]) -> None:
        """Give back claimed events not started (stopping, or the lease is nearly over); not an attempt."""
        if not ids:
            return
        async with unit_of_work(self.db) as session:
            await session.execute(
                update(outbox).where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.worker_id)
                .values(claimed_by=None, claimed_until=None, attempts=outbox.c.attempts - 1)
            )


def _callback_key(callback) -> object:
    """``functools.partial(fn, *args)`` with equal parts is the same callback (``id`` otherwise)."""
    func = getattr(callback, "func", None)
    if func is None:
        return id(callback)
    try:
        key = (func, tuple(id(a) for a in callback.args), tuple(sorted((k, id(v)) for k, v in
                                                                   callback.keywords.items())))
        hash(key)
        return key
    except TypeError:
        return id(callback)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
