"""Periodic jobs (``@every``): run by one worker at a time, their last run kept in ``worker_job``.

On PostgreSQL the scheduler that holds a session-level advisory lock is the only one running jobs; the others
wait and take over within a few seconds if its connection goes away (the lock dies with the connection). On
SQLite the one worker runs them. A job is due when ``seconds`` have passed since its last start, so the schedule
survives restarts and a change of leader; each run's outcome (and error) is written to ``worker_job``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .db import Database, unit_of_work
from .dispatcher import describe_error, sleep_or_stop
from .jobs import JobSpec, Registry, WorkerContext
from .models import Base, UTCDateTime

log = logging.getLogger("omniretail.worker")

# the scheduler's pg_try_advisory_lock key: any fixed bigint no other part of omniretail uses
SCHEDULER_LOCK_KEY = 0x3B1E_7F0A_52C4_91D6


class ScheduledJobState(Base):
    """The last run of each periodic job: when, how it ended, and the error if it failed."""

    __tablename__ = "worker_job"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str] = mapped_column(String(20), default="never")  # never | running | ok | failed
    last_error: Mapped[str | None] = mapped_column(Text)
    last_worker: Mapped[str | None] = mapped_column(String(100))
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Scheduler:
    def __init__(self, context: WorkerContext, registry: Registry, *, tick: float = 1.0,
                 leader_retry: float = 5.0) -> None:
        self.context = context
        self.db: Database = context.db
        self.registry = registry
        self.tick = tick
        self.leader_retry = leader_retry
        self.is_leader = False

    async def run(self, stop: asyncio.Event) -> None:
        if not self.registry.jobs:
            return
        while not stop.is_set():
            try:
                if self.db.is_sqlite:  # the one worker of the embedded mode leads
                    self.is_leader = True
                    await self._lead(stop, None)
                else:
                    await self._contend(stop)
            except Exception:
                log.exception("scheduler: lost the database; trying again in %.0fs", self.leader_retry)
            self.is_leader = False
            await sleep_or_stop(stop, self.leader_retry)

    async def _contend(self, stop: asyncio.Event) -> None:
        """Try for the lock once; while it is held, lead. The lock lives on this one connection."""
        conn = await self.db.engine.connect()
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY})
            await conn.commit()
            if got:
                self.is_leader = True
                log.info("scheduler: %s leads the periodic jobs", self.context.worker_id)
                await self._lead(stop, conn)
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEDULER_LOCK_KEY})
                await conn.commit()
        except BaseException:
            # never hand a connection that may still hold the lock back to the pool: drop it, the lock goes too
            await conn.invalidate()
            raise
        finally:
            await conn.close()

    async def _lead(self, stop: asyncio.Event, lock_conn: AsyncConnection | None) -> None:
        while not stop.is_set():
            await self.run_due_jobs(stop)
            await sleep_or_stop(stop, self.tick)
            if lock_conn is not None:  # still connected, so still the holder of the lock
                await lock_conn.execute(text("SELECT 1"))
                await lock_conn.commit()

    async def run_due_jobs(self, stop: asyncio.Event | None = None) -> list[str]:
        """Run every job whose interval has passed; returns the names run."""
        async with unit_of_work(self.db, readonly=True) as session:
            rows = (await session.scalars(select(ScheduledJobState))).all()
            states = {s.name: s.last_started_at for s in rows}
        ran = []
        for job in sorted(self.registry.jobs.values(), key=lambda j: j.name):
            if stop is not None and stop.is_set():
                break
            last = states.get(job.name)
            if last is not None and last + timedelta(seconds=job.seconds) > clock.now():
                continue
            await self.run_job(job)
            ran.append(job.name)
        return ran

    async def run_job(self, job: JobSpec) -> bool:
        async with unit_of_work(self.db) as session:
            state = await session.get(ScheduledJobState, job.name)
            if state is None:
                state = ScheduledJobState(name=job.name, runs=0, failures=0)
                session.add(state)
            state.last_started_at = clock.now()
            state.last_status = "running"
            state.last_worker = self.context.worker_id
        error = None
        try:
            await job.fn(self.context)
        except Exception as exc:  # recorded in worker_job and logged; the next interval tries again
            log.exception("periodic job %s failed", job.name)
            error = describe_error(exc)
        async with unit_of_work(self.db) as session:
            state = await session.get(ScheduledJobState, job.name)
            state.last_finished_at = clock.now()
            state.last_status = "failed" if error else "ok"
            state.last_error = error
            state.runs += 1
            state.failures += 1 if error else 0
        return error is None

