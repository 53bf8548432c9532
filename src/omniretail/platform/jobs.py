"""What the worker runs: outbox consumers (``@handles``) and periodic jobs (``@every``).

Packages register their consumers in their ``tasks.py``; ``omniretail/handlers.py`` lists the modules to import.

Contract for an outbox consumer (``async def fn(session, event) -> None``):

* **At-least-once.** The same event can reach a consumer more than once (a worker died after the consumer
  ran but before its transaction committed, an operator replayed the event, a lease ran out). Consumers must
  be idempotent: key what they write by ``event.id`` (or by the business key in the payload).
* **One transaction.** All consumers of an event run in one short transaction, which also marks the event
  published: their database writes and the "done" mark commit together or not at all. Do not commit.
* **Side effects after commit.** Slow or external calls (SMTP, HTTP) do not belong inside that transaction:
  write a row that says what is owed, then ``event.after_commit(functools.partial(fn, ...))``. After-commit
  callbacks run once, after the commit; a crash can skip them, so the row they work from must be enough for
  a periodic job to finish the work later.
* **Errors.** Raise to fail the delivery: it is retried with back-off and parked after too many attempts, the
  error kept in ``outbox.last_error``. Raise ``Undeliverable`` for an event that can never succeed (a payload
  that does not validate) to park it at once.

A batch consumer (``@handles(prefix, batch=True)``, ``async def fn(session, events: list[Event]) -> None``) gets
every event of its topics in a claimed batch at once, in ONE transaction that also marks them all published —
so it can turn a thousand stock changes into one set-based statement. The same contract holds per event
(at least once, idempotent, no commit, side effects after commit). If that transaction fails, the dispatcher
falls back to delivering the batch's events one by one (the consumer then gets a one-event list), so one bad
event is retried, backed off and parked on its own without holding up the others. A topic is delivered in
batches when all its consumers are batch consumers.

A periodic job (``async def fn(context) -> None``) runs on one worker at a time (a PostgreSQL advisory lock;
the single in-process worker on SQLite) every ``seconds``; it too must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from .config import Settings
from .db import Database

T = TypeVar("T")
BATCH_MARK = "__omniretail_batch_consumer__"


class Undeliverable(Exception):
    """Raised by a consumer for an event that will never succeed: the event is parked without retries."""


@dataclass
class WorkerContext:
    """What a consumer or job may use besides its session: the database, settings, shared resources."""

    db: Database
    settings: Settings
    worker_id: str = "worker"
    resources: dict[str, Any] = field(default_factory=dict)

    def resource(self, name: str, factory: Callable[[], T]) -> T:
        """A process-wide object built once (an SMTP sender, an HTTP client); tests may put their own in."""
        if name not in self.resources:
            self.resources[name] = factory()
        return self.resources[name]


@dataclass
class Event:
    """One outbox row as a consumer sees it."""

    id: int
    topic: str
    payload: dict[str, Any]
    coalesce_key: str | None
    created_at: datetime
    attempts: int  # including this one
    context: WorkerContext
    _after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list, repr=False)

    def after_commit(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run ``callback()`` once this event's transaction has committed (pass a ``functools.partial``)."""
        self._after_commit.append(callback)


Consumer = Callable[[AsyncSession, Event], Awaitable[None]]
BatchConsumer = Callable[[AsyncSession, list[Event]], Awaitable[None]]
PeriodicJob = Callable[[WorkerContext], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec:
    prefix: str
    fn: Consumer | BatchConsumer
    coalesce: bool
    batch: bool = False

    async def call(self, session: AsyncSession, events: list[Event]) -> None:
        """Hand ``events`` over: all at once to a batch consumer, one by one otherwise."""
        if self.batch:
            await self.fn(session, events)  # type: ignore[arg-type]
        else:
            for event in events:
                await self.fn(session, event)  # type: ignore[arg-type]

    def matches(self, topic: str) -> bool:
        return topic == self.prefix or topic.startswith(self.prefix + ".")


@dataclass(frozen=True)
class JobSpec:
    name: str
    seconds: float
    fn: PeriodicJob


class Registry:
    """Consumers by topic prefix and periodic jobs by name."""

    def __init__(self) -> None:
        self.consumers: list[ConsumerSpec] = []
        self.jobs: dict[str, JobSpec] = {}

    def handles(self, prefix: str, *, coalesce: bool = False, batch: bool = False) -> Callable[[T], T]:
        """Register a consumer for ``prefix`` and every topic below it (``orders`` gets ``orders.notify``).

        ``coalesce=True``: of several events with one ``coalesce_key`` in a claimed batch, only the newest is
        handed over (the older ones are marked published). Applies when every consumer of the topic agrees.
        ``batch=True``: the consumer takes a list of events (see the module docstring); the function remembers
        it, so registering it again in another registry (a test's, a benchmark's) keeps it a batch consumer.
        """
        if not prefix or prefix.endswith("."):
            raise ValueError(f"bad topic prefix {prefix!r}")

        def register(fn: T) -> T:
            takes_lists = batch or bool(getattr(fn, BATCH_MARK, False))
            if takes_lists:
                setattr(fn, BATCH_MARK, True)
            if not any(c.prefix == prefix and c.fn is fn for c in self.consumers):
                self.consumers.append(ConsumerSpec(prefix, fn, coalesce, takes_lists))  # type: ignore[arg-type]
            return fn

        return register

    def every(self, seconds: float, name: str) -> Callable[[PeriodicJob], PeriodicJob]:
        """Register a periodic job, named ``package.job``, run every ``seconds`` by one worker."""
        if seconds <= 0:
            raise ValueError("a periodic job needs a positive interval")

        def register(fn: PeriodicJob) -> PeriodicJob:
            existing = self.jobs.get(name)
            if existing is not None and existing.fn is not fn:
                raise ValueError(f"periodic job {name!r} is registered twice")
            self.jobs[name] = JobSpec(name, seconds, fn)
            return fn

        return register

    def consumers_for(self, topic: str) -> list[ConsumerSpec]:
        return [c for c in self.consumers if c.matches(topic)]

    def prefixes(self) -> list[str]:
        return sorted({c.prefix for c in self.consumers})

    def batched(self, topic: str) -> bool:
        """Deliver this topic's events a claimed batch per transaction (every consumer takes lists)."""
        consumers = self.consumers_for(topic)
        return bool(consumers) and all(c.batch for c in consumers)

    def coalesces(self, topic: str) -> bool:
        consumers = self.consumers_for(topic)
        return bool(consumers) and all(c.coalesce for c in consumers)


registry = Registry()
handles = registry.handles
every = registry.every
