"""Per-channel rate limits: token buckets, in-process (SQLite, one worker) or shared through PostgreSQL.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a call costs tokens (one
request, or the number of offers a batch command changes, or GraphQL cost points). ``acquire`` waits until the
tokens are there. A channel that answers 429 blocks its buckets for ``Retry-After`` seconds: every worker sharing
the bucket waits, not only the one that got the 429.

On PostgreSQL every worker takes from the same row of ``channel_rate_limit`` with one conditional statement::

    UPDATE channel_rate_limit
       SET tokens = (refilled) - :cost, refreshed = :now
     WHERE channel_id = :c AND bucket = :b AND blocked_until <= :now AND (refilled) >= :cost
    RETURNING tokens
    -- refilled = CASE WHEN tokens + (:now - refreshed) * :rate > :burst THEN :burst
    --                 ELSE tokens + (:now - refreshed) * :rate END

Times are epoch seconds (floats), so the arithmetic is the same SQL on both backends. No row back means "not
yet": the row is read to compute how long to wait.

A database round trip per HTTP request would make the shared bucket the bottleneck (dozens of requests in flight
per worker, each waiting for a pooled connection and the row lock). So a worker takes a *chunk* at once — up to
``CHUNK_S`` seconds of the refill rate (never more than the bucket holds) — and spends it locally; only when the
chunk is gone does it go back to the row (asking for a chunk, else for exactly what the call costs). Tokens a
worker holds were taken from the shared bucket, so the channel's limit still holds across all workers; a 429
drops them (``block``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import text

from omniretail.platform.db import Database, unit_of_work


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens per second
    burst: float  # bucket size


@dataclass
class TokenBucket:
    """The pure bucket: ``take`` answers 0 when the tokens were taken, else the seconds to wait."""

    rate: float
    burst: float
    tokens: float = -1.0
    refreshed: float = 0.0
    blocked_until: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def refill(self, now: float) -> None:
        if now > self.refreshed:
            self.tokens = min(self.burst, self.tokens + (now - self.refreshed) * self.rate)
            self.refreshed = now

    def take(self, cost: float, now: float) -> float:
        if now < self.blocked_until:
            return self.blocked_until - now
        self.refill(now)
        cost = min(cost, self.burst)  # a call bigger than the bucket waits for a full bucket, not forever
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate

    def block(self, until: float) -> None:
        self.blocked_until = max(self.blocked_until, until)

    def set_available(self, tokens: float, now: float) -> None:
        """Align with what the channel says is left (Shopify's ``throttleStatus.currentlyAvailable``)."""
        self.refreshed = now
        self.tokens = max(0.0, min(self.burst, tokens))


class Throttled(Exception):
    """The bucket will not have the tokens within ``max_wait``: give the work back and come again later."""

    def __init__(self, bucket: str, retry_after: float, *, partial: list | None = None) -> None:
        super().__init__(f"rate limit {bucket!r}: next tokens in {retry_after:.1f}s")
        self.bucket = bucket
        self.retry_after = retry_after
        self.partial = partial or []  # ItemResults of what the call did send before it stopped (recorded)


class Limiter(Protocol):
    async def acquire(self, bucket: str, cost: float = 1.0, *, max_wait: float | None = None) -> float: ...
    async def block(self, seconds: float) -> None: ...
    async def set_available(self, bucket: str, tokens: float) -> None: ...


MAX_WAIT_S = 5.0  # wait this long for tokens inside a call; longer waits give the claimed work back


@dataclass
class LocalLimiter:
    """One channel's buckets in this process (the embedded SQLite mode runs one worker)."""

    limits: dict[str, RateLimit]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] = asyncio.sleep
    max_wait: float = MAX_WAIT_S
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def _bucket(self, name: str) -> TokenBucket:
        if name not in self.buckets:
            limit = self.limits.get(name) or RateLimit(rate=1e9, burst=1e9)
            self.buckets[name] = TokenBucket(limit.rate, limit.burst, refreshed=self.clock())
        return self.buckets[name]

    async def acquire(self, bucket: str, cost: float = 1.0, *, max_wait: float | None = None) -> float:
        """Wait for the tokens (returns the seconds waited), or raise :class:`Throttled` beyond ``max_wait``
        (the limiter's own unless the call gives one: a batch that takes its budget up front waits longer)."""
        waited = 0.0
        limit = self.max_wait if max_wait is None else max_wait
        while True:
            wait = self._bucket(bucket).take(cost, self.clock())
            if wait <= 0:
                return waited
            if waited + wait > limit:
                raise Throttled(bucket, wait)
            await self.sleep(wait)
            waited += wait

    async def block(self, seconds: float) -> None:
        until = self.clock() + seconds
        for name in self.limits:
            self._bucket(name).block(until)

    async def set_available(self, bucket: str, tokens: float) -> None:
        self._bucket(bucket).set_available(tokens, self.clock())


_REFILLED = ("CASE WHEN tokens + (:now - refreshed) * :rate > :burst THEN :burst "
             "ELSE tokens + (:now - refreshed) * :rate END")
_TAKE = text(f"UPDATE channel_rate_limit SET tokens = {_REFILLED} - :cost, refreshed = :now "
             f"WHERE channel_id = :channel AND bucket = :bucket AND blocked_until <= :now "
             f"AND {_REFILLED} >= :cost RETURNING tokens")
_CREATE = text("INSERT INTO channel_rate_limit (channel_id, bucket, tokens, refreshed, blocked_until) "
               "VALUES (:channel, :bucket, :burst, :now, 0) ON CONFLICT (channel_id, bucket) DO NOTHING")
_READ = text("SELECT tokens, refreshed, blocked_until FROM channel_rate_limit "
             "WHERE channel_id = :channel AND bucket = :bucket")
_TAKE_CHUNK = text(f"UPDATE channel_rate_limit SET tokens = {_REFILLED} - :chunk, refreshed = :now "
                   f"WHERE channel_id = :channel AND bucket = :bucket AND blocked_until <= :now "
                   f"AND {_REFILLED} >= :chunk RETURNING tokens")
CHUNK_S = 0.2  # a worker takes up to this many seconds of a bucket's refill rate per database round trip
_BLOCK = text("UPDATE channel_rate_limit SET blocked_until = :until "
              "WHERE channel_id = :channel AND blocked_until < :until")
_SET = text("UPDATE channel_rate_limit SET tokens = :tokens, refreshed = :now "
            "WHERE channel_id = :channel AND bucket = :bucket")


@dataclass
class DbLimiter:
    """One channel's buckets in ``channel_rate_limit``, shared by every worker (PostgreSQL)."""

    db: Database
    channel_id: int
    limits: dict[str, RateLimit]
    clock: Callable[[], float] = time.time  # wall clock: shared between machines (keep them NTP-synced)
    sleep: Callable[[float], object] = asyncio.sleep
    max_wait: float = MAX_WAIT_S
    chunk_s: float = CHUNK_S
    _created: set[str] = field(default_factory=set)
    _held: dict[str, float] = field(default_factory=dict)  # tokens taken from the row, not spent yet
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def _exec(self, stmt, params):
        async with unit_of_work(self.db) as session:
            result = await session.execute(stmt, params)
            return result.first() if result.returns_rows else None

    async def acquire(self, bucket: str, cost: float = 1.0, *, max_wait: float | None = None) -> float:
        limit = self.limits.get(bucket)
        if limit is None:
            return 0.0
        cost = min(cost, limit.burst)
        if self._held.get(bucket, 0.0) >= cost:  # spent from the chunk in hand: no round trip
            self._held[bucket] -= cost
            return 0.0
        async with self._locks.setdefault(bucket, asyncio.Lock()):  # one refill per bucket at a time here
            return await self._refill_and_take(bucket, limit, cost, self.max_wait if max_wait is None else max_wait)

    async def _refill_and_take(self, bucket: str, limit: RateLimit, cost: float, max_wait: float) -> float:
        params = {"channel": self.channel_id, "bucket": bucket, "rate": limit.rate, "burst": limit.burst,
                  "cost": cost}
        if bucket not in self._created:
            await self._exec(_CREATE, {**params, "now": self.clock()})
            self._created.add(bucket)
        chunk = min(limit.burst, limit.rate * self.chunk_s)
        waited = 0.0
        while True:
            held = self._held.get(bucket, 0.0)
            if held >= cost:  # another call refilled while this one waited for the lock
                self._held[bucket] = held - cost
                return waited
            now = self.clock()
            need = cost - held
            if chunk > need and await self._exec(_TAKE_CHUNK, {**params, "cost": need, "chunk": chunk,
                                                               "now": now}) is not None:
                self._held[bucket] = held + chunk - cost
                return waited
            if await self._exec(_TAKE, {**params, "cost": need, "now": now}) is not None:
                self._held[bucket] = 0.0
                return waited
            row = await self._exec(_READ, params)
            if row is None:  # the row went (channel deleted): do not spin
                return waited
            bucket_state = TokenBucket(limit.rate, limit.burst, row.tokens, row.refreshed, row.blocked_until)
            wait = max(bucket_state.take(need, now), 0.005)
            if waited + wait > max_wait:
                raise Throttled(bucket, wait)
            await self.sleep(wait)
            waited += wait

    async def block(self, seconds: float) -> None:
        self._held.clear()  # the channel said stop: what this worker holds is not to be spent either
        await self._exec(_BLOCK, {"channel": self.channel_id, "until": self.clock() + seconds})

    async def set_available(self, bucket: str, tokens: float) -> None:
        limit = self.limits.get(bucket)
        if limit is not None:
            await self._exec(_SET, {"channel": self.channel_id, "bucket": bucket, "now": self.clock(),
                                    "tokens": max(0.0, min(limit.burst, tokens))})


def limiter_for(db: Database, channel_id: int, limits: dict[str, RateLimit]) -> Limiter:
    if db.is_sqlite:
        return LocalLimiter(limits)
    return DbLimiter(db, channel_id, limits)
