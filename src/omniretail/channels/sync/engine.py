"""The sync engine: push the difference between desired and acknowledged listing state to each channel.

One pass (:meth:`SyncEngine.run_once`):

0. wake up when a consumer in this process marked variants (``wake()``, after its commit), or every
   ``poll_interval``; wait ``gather_s`` more so a burst of marks is recomputed together;
1. drain ``channel_sync_pending`` — recompute the desired state of the marked variants, set-based
   (``desired.py``);
2. for every channel with due listings, claim a batch under a lease (``claims.py``: ``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, the write lock on SQLite), send what differs — stock (``push_inventory``), price
   (``push_prices``), publication/content (``push_listings``) — within the channel's rate limit, and record
   the answer per item in one transaction: acknowledged (``acked_* =`` what was sent, ``acked_version =`` the
   version sent), failed (one more attempt, exponential back-off with jitter, parked after ``max_attempts`` or
   at once for an error that retrying cannot fix), or given back (429 / throttled: no attempt counted, due again
   after ``Retry-After``; a connector stopped part-way by a rate limit hands back the results of what did go
   out, which are recorded). Up to ``in_flight`` batches per channel are on the wire at once (fewer where the
   connector says so: ``max_in_flight``), channels in parallel.

A killed engine loses nothing: its claimed listings stay due and become claimable when the lease ends — a short
lease (seconds), renewed by a heartbeat while a batch is on the wire (``send_timeout`` at most), so a live
engine keeps its batches and a dead one's are taken over quickly; the
command ids and idempotency keys the connectors derive from (listing, version, attempt) make the resend
harmless. Each ack records ``lag_ms`` (from ``desired_at`` to the acknowledgement) in the sync log and the
``omniretail_sync_lag_seconds`` histogram.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select, text

from omniretail.platform import clock
from omniretail.platform.backoff import backoff_delay
from omniretail.platform.db import Database, unit_of_work

from ..connectors.base import (
    ConnectorError,
    InventoryUpdate,
    ItemResult,
    ListingRef,
    ListingUpdate,
    NotSupported,
    PriceUpdate,
    RateLimited,
)
from . import claims, desired, metrics
from .connections import ChannelHandle, Connections
from .models import ChannelSyncPending
from .ratelimit import Throttled

log = logging.getLogger("omniretail.sync")
PARTS = ("inventory", "price", "listing")
_CONTENT = text("SELECT v.id, v.sku, v.gtin, v.mpn, p.title, p.description, p.brand FROM variant v "
                "JOIN product p ON p.id = v.product_id WHERE v.id IN :ids").bindparams(bindparam("ids", expanding=True))


@dataclass(frozen=True)
class EngineOptions:
    batch_size: int = 1000  # capped by the connector's max_batch (Allegro 1,000, Shopify 250, webhook 200)
    lease: timedelta = timedelta(seconds=30)
    lease_margin: timedelta = timedelta(seconds=5)
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    poll_interval: float = 0.25
    in_flight: int = 4  # batches of one channel on the wire at once (Allegro commands are polled: latency-bound)
    gather_s: float = 0.03  # after a wake-up, let marks pile up this long: one recompute for many changes
    # the longest a batch stays on the wire; meanwhile its lease is renewed every lease/3 (a heartbeat), so the
    # lease can be short and a killed worker's listings are free again within seconds (not in serial mode)
    send_timeout: timedelta = timedelta(seconds=25)
    pass_budget_s: float = 2.0
    recompute_batch: int = desired.RECOMPUTE_BATCH
    serial: bool = False  # one thing at a time (tests drive the engine on one database connection)


@dataclass
class PassStats:
    recomputed: int = 0
    claimed: int = 0
    acked: int = 0
    failed: int = 0
    deferred: int = 0


@dataclass
class _Batch:
    handle: ChannelHandle
    claimed: list[claims.Claimed]
    results: dict[int, dict[str, ItemResult]] = field(default_factory=lambda: defaultdict(dict))
    durations: dict[str, int] = field(default_factory=dict)
    attempted: set[str] = field(default_factory=set)  # parts whose call was made (it may have reached the channel)
    retry_after: float | None = None


class SyncEngine:
    def __init__(self, db: Database, *, secret_key: str, worker_id: str, options: EngineOptions | None = None,
                 connections: Connections | None = None) -> None:
        self.db = db
        self.worker_id = worker_id
        self.options = options or EngineOptions()
        self.connections = connections or Connections(db, secret_key=secret_key)
        self._wake = asyncio.Event()
        self._blocked: dict[int, float] = {}  # channel id -> monotonic time its 429 ends (this engine's view)
        self._due: dict[int, asyncio.Event] = {}  # channel id -> "listings may have become due" (a recompute ran)
        self.stats = PassStats()

    def wake(self) -> None:
        """Run the next pass now (a consumer marked variants, an operator asked for a retry)."""
        self._wake.set()

    async def close(self) -> None:
        await self.connections.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: recompute what is pending, and keep one sending task per channel with due listings, so
        a slow or rate-limited channel never holds the others up."""
        idle = self.options.poll_interval
        channels: dict[int, asyncio.Task] = {}
        try:
            while not stop.is_set():
                try:
                    recomputed = await self._recompute()
                    if recomputed:
                        for event in self._due.values():
                            event.set()
                    for channel_id in await self._due_channels():
                        if channel_id not in channels or channels[channel_id].done():
                            channels[channel_id] = asyncio.create_task(self.sync_channel(channel_id, None))
                    idle = self.options.poll_interval
                except Exception:  # the database went away: say so, wait, try again
                    log.exception("sync engine %s: pass failed; retrying in %.1fs", self.worker_id, idle)
                    recomputed, idle = 0, min(idle * 2, 30.0)
                if recomputed >= self.options.recompute_batch:
                    continue  # a backlog: drain it
                woken = recomputed > 0
                if not woken:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(_first(stop.wait(), self._wake.wait()), timeout=idle)
                        woken = self._wake.is_set()
                    except TimeoutError:
                        pass
                if woken and self.options.gather_s > 0 and not stop.is_set():
                    await asyncio.sleep(self.options.gather_s)  # more marks are on their way: take them together
        finally:
            for task in channels.values():
                task.cancel()  # claims not recorded return when their lease ends
            await asyncio.gather(*channels.values(), return_exceptions=True)

    async def _recompute(self) -> int:
        deadline = time.monotonic() + self.options.pass_budget_s
        recomputed = 0
        async with unit_of_work(self.db, readonly=True) as session:
            if not await session.scalar(select(exists().select_from(ChannelSyncPending))):
                return 0
        while time.monotonic() < deadline:
            done = await desired.recompute_pending(self.db, limit=self.options.recompute_batch)
            recomputed += done.variants
            if done.variants < self.options.recompute_batch:
                break
        self.stats.recomputed += recomputed
        return recomputed

    async def _due_channels(self) -> list[int]:
        async with unit_of_work(self.db, readonly=True) as session:
            due = await claims.due_counts(session, clock.now())
        return [c for c in due if self._blocked.get(c, 0.0) <= time.monotonic()]

    async def run_once(self) -> bool:
        """One pass, channel after channel (or side by side unless ``serial``); True when it found work."""
        recomputed = await self._recompute()
        deadline = time.monotonic() + self.options.pass_budget_s
        channels = await self._due_channels()
        if self.options.serial:
            sent = [await self.sync_channel(c, deadline) for c in channels]
        else:
            sent = await asyncio.gather(*(self.sync_channel(c, deadline) for c in channels))
        return recomputed > 0 or sum(sent) > 0

    async def sync_channel(self, channel_id: int, deadline: float | None = None) -> int:
        """Claim and send batches of one channel until none is due (or ``deadline``, a monotonic time)."""
        handle = await self.connections.get(channel_id)
        if handle is None:
            return 0
        deadline = deadline if deadline is not None else time.monotonic() + 60.0
        limit = max(1, min(self.options.batch_size, handle.connector.max_batch))
        in_flight = 1 if self.options.serial else max(1, min(self.options.in_flight,
                                                             handle.connector.max_in_flight or self.options.in_flight))
        tasks: set[asyncio.Task] = set()
        sent = 0
        due = self._due.setdefault(channel_id, asyncio.Event())
        try:
            while time.monotonic() < deadline and self._blocked.get(channel_id, 0.0) <= time.monotonic():
                if len(tasks) >= in_flight:
                    _done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                due.clear()
                batch = await self._claim(channel_id, limit)
                if batch:
                    sent += len(batch)
                    if in_flight == 1:
                        await self._send(handle, batch)
                    else:
                        tasks.add(asyncio.create_task(self._send(handle, batch)))
                    if len(batch) == limit:
                        continue  # more is due
                if not tasks:
                    break  # nothing due, nothing on the wire
                # batches on the wire and a free slot: keep the pipeline going — claim again as soon as a
                # recompute made listings due or a batch came back, instead of waiting for this one to end
                waiter = asyncio.ensure_future(due.wait())
                try:
                    done, _ = await asyncio.wait({*tasks, waiter}, timeout=self.options.poll_interval,
                                                 return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                tasks -= done
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        return sent

    async def _claim(self, channel_id: int, limit: int) -> list[claims.Claimed]:
        async with unit_of_work(self.db) as session:
            claimed = await claims.claim(session, channel_id=channel_id, worker=self.worker_id, now=clock.now(),
                                         lease=self.options.lease, limit=limit, postgresql=not self.db.is_sqlite)
        self.stats.claimed += len(claimed)
        return claimed

    # --- sending -------------------------------------------------------------------------------------------

    def _parts(self, handle: ChannelHandle, c: claims.Claimed) -> list[str]:
        parts = []
        if c.desired_quantity is not None and c.desired_quantity != c.acked_quantity:
            parts.append("inventory")
        if c.desired_price_minor is not None and c.desired_price_minor != c.acked_price_minor:
            parts.append("price")
        if c.desired_content_hash != c.acked_content_hash or c.desired_published != c.acked_published:
            parts.append("listing")
        return parts

    async def _send(self, handle: ChannelHandle, claimed: list[claims.Claimed]) -> None:
        batch = _Batch(handle, claimed)
        renewing = None if self.options.serial else asyncio.create_task(self._keep_leased(claimed))
        try:
            await self._push(batch)
        except Exception:  # never lose the batch: whatever was not answered is retried
            log.exception("sync %s: sending a batch failed", handle.code)
        finally:
            if renewing is not None:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)
        await self._record(batch)

    async def _keep_leased(self, claimed: list[claims.Claimed]) -> None:
        """The heartbeat of a batch on the wire: push its lease forward every lease/3."""
        ids = [c.id for c in claimed]
        every = max(0.2, self.options.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(every)
            try:
                async with unit_of_work(self.db) as session:
                    kept = await claims.renew(session, ids, worker=self.worker_id,
                                              until=clock.now() + self.options.lease)
                if kept < len(ids):
                    log.warning("sync engine %s: lease of %s listing(s) lost while sending (stalled past it)",
                                self.worker_id, len(ids) - kept)
            except Exception:  # the database blinked: the next beat tries again (the lease has slack)
                log.warning("sync engine %s: lease renewal failed", self.worker_id, exc_info=True)

    async def _push(self, batch: _Batch) -> None:
        handle, connector = batch.handle, batch.handle.connector
        refs = {c.id: ListingRef(c.id, c.variant_id, c.sku, dict(c.external or {}), c.attempts) for c in batch.claimed}
        wanted = {c.id: self._parts(handle, c) for c in batch.claimed}
        sync_listings = bool(handle.config.settings.get("sync_listings", getattr(connector, "listings_by_default",
                                                                                  False)))
        content = await self._content(batch.claimed) if sync_listings and any(
            "listing" in p for p in wanted.values()) else {}
        builders: dict[str, tuple[Callable[[list[Any]], Awaitable[list[ItemResult]]], Callable[[claims.Claimed], Any]]] = {
            "inventory": (connector.push_inventory, lambda c: InventoryUpdate(refs[c.id], c.desired_quantity,
                                                                             c.desired_version, c.acked_quantity)),
            "price": (connector.push_prices, lambda c: PriceUpdate(refs[c.id], c.desired_price_minor,
                                                                   handle.config.currency, c.desired_version,
                                                                   c.acked_price_minor)),
            "listing": (connector.push_listings, lambda c: ListingUpdate(refs[c.id], bool(c.desired_published),
                                                                         content.get(c.variant_id, {}),
                                                                         c.desired_content_hash, c.desired_version)),
        }
        lease_until = min(c.lease_until for c in batch.claimed)
        if not self.options.serial:  # renewed by the heartbeat: bounded by the send timeout instead
            lease_until = clock.now() + self.options.send_timeout + self.options.lease_margin
        for part in PARTS:
            todo = [c for c in batch.claimed if part in wanted[c.id]]
            if not todo or batch.retry_after is not None:
                continue
            if part == "listing" and not sync_listings:  # content is not managed on this channel: nothing to send
                for c in todo:
                    batch.results[c.id][part] = ItemResult(c.id, True, answer={"skipped": "listings not synced"})
                continue
            remaining = (lease_until - clock.now() - self.options.lease_margin).total_seconds()
            if remaining <= 0:
                batch.retry_after = 0.5  # the lease is nearly over: give the rest back
                continue
            method, build = builders[part]
            batch.attempted.add(part)
            started = time.perf_counter()
            try:
                results = await asyncio.wait_for(method([build(c) for c in todo]), timeout=remaining)
            except NotSupported:
                results = [ItemResult(c.id, True, answer={"skipped": f"{part} not supported"}) for c in todo]
            except (RateLimited, Throttled) as exc:
                batch.retry_after = max(exc.retry_after, 0.05)
                for result in getattr(exc, "partial", None) or []:  # what went out before the call stopped
                    batch.results[result.listing_id][part] = result
                if isinstance(exc, RateLimited):
                    metrics.RATE_LIMITED.labels(handle.code).inc()
                    await handle.limiter.block(exc.retry_after)
                    self._blocked[handle.id] = time.monotonic() + exc.retry_after
                continue
            except ConnectorError as exc:
                results = [ItemResult(c.id, False, str(exc), exc.retryable,
                                      exc.answer if isinstance(exc.answer, dict) else None) for c in todo]
            except TimeoutError:
                results = [ItemResult(c.id, False, f"{part}: no answer within the lease") for c in todo]
            batch.durations[part] = int((time.perf_counter() - started) * 1000)
            metrics.WRITES.labels(handle.code, part).inc(len(todo))
            for result in results:
                batch.results[result.listing_id][part] = result

    async def _content(self, claimed: list[claims.Claimed]) -> dict[int, dict[str, Any]]:
        async with unit_of_work(self.db, readonly=True) as session:
            rows = (await session.execute(_CONTENT, {"ids": sorted({c.variant_id for c in claimed})})).all()
        return {r.id: desired.content_of(r) for r in rows}

    # --- recording -----------------------------------------------------------------------------------------

    async def _record(self, batch: _Batch) -> None:
        now = clock.now()
        code = batch.handle.code
        lag_metric = metrics.LAG.labels(code)  # looked up once: ``labels()`` per ack was a hot spot
        acks, fails, defers, entries = [], [], [], []
        for c in batch.claimed:
            wanted = self._parts(batch.handle, c)
            got = batch.results.get(c.id, {})
            acked = {"acked_quantity": c.acked_quantity, "acked_price_minor": c.acked_price_minor,
                     "acked_content_hash": c.acked_content_hash, "acked_published": c.acked_published}
            for part in wanted:
                if part in got and got[part].ok:
                    acked.update(_sent_values(part, c))
                elif part in batch.attempted and not (part in got and not got[part].retryable):
                    # sent, but no definite answer (a timeout, a 5xx, a 429 cutting the call short): the channel
                    # may show it or not — unknown, so it goes out again whatever the next desired value is
                    acked.update(dict.fromkeys(_sent_values(part, c), None))
            complete = all(p in got and got[p].ok for p in wanted)
            failed = {p: r for p, r in got.items() if not r.ok}
            lag_ms = int((now - c.desired_at).total_seconds() * 1000) if complete and c.desired_at else None
            for part, result in got.items():
                if result.ok and (result.answer or {}).get("skipped"):
                    continue  # nothing was sent (a part this channel does not take)
                entries.append(_entry(batch, c, part, result, now, self.worker_id,
                                      lag_ms if complete and result.ok else None))
            if complete:
                acks.append({"id": c.id, "version": c.desired_version, **acked})
                if lag_ms is not None:
                    lag_metric.observe(lag_ms / 1000)
            elif failed:
                attempts = c.attempts + 1
                park = attempts >= self.options.max_attempts or any(not r.retryable for r in failed.values())
                delay = backoff_delay(attempts, base=self.options.backoff_base, cap=self.options.backoff_cap)
                error = "; ".join(f"{p}: {r.error}" for p, r in failed.items())[:4000]
                fails.append({"id": c.id, **acked, "error": error, "next_attempt_at": now + delay, "parked": park})
                for part in failed:
                    metrics.ERRORS.labels(code, part).inc()
                if park:
                    entries.append(_entry(batch, c, "park", ItemResult(c.id, False, error), now, self.worker_id, None))
            else:
                delay = timedelta(seconds=batch.retry_after if batch.retry_after is not None else 1.0)
                defers.append({"id": c.id, **acked, "next_attempt_at": now + delay})
        async with unit_of_work(self.db) as session:
            await claims.acknowledge(session, acks, worker=self.worker_id, now=now)
            await claims.fail(session, fails, worker=self.worker_id, now=now)
            await claims.defer(session, defers, worker=self.worker_id, now=now)
            await claims.write_log(session, entries)
        self.stats.acked += len(acks)
        self.stats.failed += len(fails)
        self.stats.deferred += len(defers)


def _sent_values(part: str, c: claims.Claimed) -> dict[str, Any]:
    if part == "inventory":
        return {"acked_quantity": c.desired_quantity}
    if part == "price":
        return {"acked_price_minor": c.desired_price_minor}
    return {"acked_content_hash": c.desired_content_hash, "acked_published": c.desired_published}


def _entry(batch: _Batch, c: claims.Claimed, part: str, result: ItemResult, now: datetime, worker: str,
           lag_ms: int | None) -> dict[str, Any]:
    sent = {"inventory": {"quantity": c.desired_quantity, "previous": c.acked_quantity},
            "price": {"price_minor": c.desired_price_minor, "currency": batch.handle.config.currency},
            "listing": {"published": c.desired_published, "content_hash": c.desired_content_hash}}.get(part)
    status = "parked" if part == "park" else ("ok" if result.ok else "error")
    return {"channel_id": c.channel_id, "listing_id": c.id, "variant_id": c.variant_id, "operation": part,
            "version": c.desired_version, "status": status, "sent": sent, "answer": result.answer,
            "error": result.error, "duration_ms": batch.durations.get(part), "lag_ms": lag_ms, "worker": worker,
            "at": now}


async def _first(*awaitables: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
