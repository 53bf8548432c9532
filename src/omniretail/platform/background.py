"""Background jobs: long operations (CSV imports, feed builds, reconciliation) started from a page or the API
and run by the worker, with progress people can watch and a result with per-row errors.

A job is a ``background_job`` row (queued → running → succeeded | failed) plus an outbox event ``jobs.run``
appended in the same transaction, so the existing worker runs it (in-process for ``serve`` on SQLite):

* the ``jobs.run`` consumer claims the job in the event's transaction (``UPDATE … WHERE state = 'queued'``:
  a redelivered event finds nothing to claim) and runs it after that commit;
* the job body (a *runner*, registered per kind with :func:`runner`) works in transactions of its own and
  reports progress with :meth:`JobRun.progress`; progress is kept in this process (what the pages of an
  in-process worker read) and, on PostgreSQL, written to the row every second by a heartbeat on its own
  connection (SQLite has one writer, held by the job's transaction);
* the runner ends the job with :meth:`JobRun.complete` inside its final transaction, so the work and the
  result commit together; a runner that raises fails the job with the error;
* a job left ``running`` by a worker that died (no heartbeat for ``STALE_AFTER``) is failed by the periodic
  ``platform.background_jobs`` job, so no one waits for it for ever.

``platform`` imports no domain package: the runners live in ``omniretail/background_jobs.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .config import Settings
from .db import Database, unit_of_work
from .errors import InvalidInput, NotFound
from .jobs import Event, WorkerContext, every, handles
from .models import Base, IdMixin, JSONType, UTCDateTime
from .outbox import append_event

log = logging.getLogger("omniretail.jobs")

TOPIC = "jobs.run"
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_S = 1.0
MAX_ERRORS_KEPT = 1000


class BackgroundJob(IdMixin, Base):
    __tablename__ = "background_job"

    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    done: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    total: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(300))
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_background_job_state", "state", "id"),)


JOBS = BackgroundJob.__table__


@dataclass(frozen=True)
class JobView:
    """A job as pages and the API show it (progress from this process when it runs here)."""

    id: int
    kind: str
    state: str
    done: int
    total: int | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_by_user_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.state in (SUCCEEDED, FAILED)

    @property
    def percent(self) -> int | None:
        if self.state == SUCCEEDED:
            return 100
        if not self.total:
            return None
        return max(0, min(100, int(self.done * 100 / self.total)))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "done": self.done, "total": self.total,
                "percent": self.percent, "finished": self.finished, "params": self.params,
                "result": self.result, "error": self.error, "created_by": self.created_by,
                "created_at": self.created_at, "started_at": self.started_at, "finished_at": self.finished_at,
                "updated_at": self.updated_at}


# --- runners -------------------------------------------------------------------------------------------------

Runner = Callable[["JobRun"], Awaitable[None]]
_RUNNERS: dict[str, Runner] = {}
# job id → (done, total) of the jobs running in this process
_LIVE: dict[int, tuple[int, int | None]] = {}


def runner(kind: str) -> Callable[[Runner], Runner]:
    """Register the body of a kind of job."""

    def register(fn: Runner) -> Runner:
        existing = _RUNNERS.get(kind)
        if existing is not None and existing is not fn:
            raise ValueError(f"background job kind {kind!r} is registered twice")
        _RUNNERS[kind] = fn
        return fn

    return register


def kinds() -> frozenset[str]:
    return frozenset(_RUNNERS)


def input_path(var_dir: Path, job_id: int) -> Path:
    """Where an uploaded file waits for its job (``var_dir`` is shared by the app and its workers)."""
    return Path(var_dir) / "jobs" / f"{job_id}.input"


@dataclass
class JobRun:
    """What a runner gets: the job, the database and settings, and the means to report progress and end."""

    job_id: int
    kind: str
    params: dict[str, Any]
    db: Database
    settings: Settings
    context: WorkerContext
    completed: bool = False
    _done: int = 0
    _total: int | None = None
    _heartbeat: asyncio.Task | None = field(default=None, repr=False)

    @property
    def input_path(self) -> Path:
        return input_path(self.settings.var_dir, self.job_id)

    def progress(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` units (rows, items) so far; cheap, call it as often as you like."""
        self._done = max(0, int(done))
        if total is not None:
            self._total = max(0, int(total))
        _LIVE[self.job_id] = (self._done, self._total)

    async def complete(self, session: AsyncSession, *, result: dict[str, Any], ok: bool = True,
                       error: str | None = None) -> None:
        """End the job in ``session``'s transaction (commit it with the work it reports)."""
        await finish(session, self.job_id, state=SUCCEEDED if ok else FAILED, result=result, error=error,
                     done=self._total if ok and self._total is not None else self._done, total=self._total)
        self.completed = True


async def _write_progress(db: Database, job_id: int) -> None:
    """On its own connection (not SQLite): what this process knows of the job's progress, and a heartbeat."""
    done, total = _LIVE.get(job_id, (0, None))
    async with db.engine.connect() as conn:
        await conn.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == RUNNING)
                           .values(done=done, total=total, updated_at=clock.now()))
        await conn.commit()


async def _heartbeat(db: Database, job_id: int) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        try:
            await _write_progress(db, job_id)
        except Exception:  # the next beat tries again; the job itself goes on
            log.warning("background job %s: progress not written", job_id, exc_info=True)


async def execute(context: WorkerContext, job_id: int) -> None:
    """Run a claimed job to its end (after the claim committed)."""
    async with unit_of_work(context.db, readonly=True) as session:
        row = (await session.execute(select(JOBS).where(JOBS.c.id == job_id))).first()
    if row is None or row.state != RUNNING:
        return
    run = JobRun(job_id=job_id, kind=row.kind, params=dict(row.params or {}), db=context.db,
                 settings=context.settings, context=context)
    _LIVE[job_id] = (0, row.total)
    beat = None if context.db.is_sqlite else asyncio.get_running_loop().create_task(_heartbeat(context.db, job_id))
    try:
        body = _RUNNERS.get(row.kind)
        if body is None:
            raise RuntimeError(f"no runner for background jobs of kind {row.kind!r}")
        await body(run)
        if not run.completed:
            raise RuntimeError("the job ended without a result")
    except Exception as exc:
        log.exception("background job %s (%s) failed", job_id, row.kind)
        async with unit_of_work(context.db) as session:
            await finish(session, job_id, state=FAILED, result=None, error=f"{type(exc).__name__}: {exc}"[:2000],
                         done=run._done, total=run._total)
    finally:
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        _LIVE.pop(job_id, None)
        with contextlib.suppress(OSError):
            run.input_path.unlink(missing_ok=True)


# --- the rows ------------------------------------------------------------------------------------------------

async def enqueue(session: AsyncSession, *, kind: str, params: dict[str, Any], created_by: str,
                  created_by_user_id: int | None = None, total: int | None = None) -> int:
    """Queue a job in the caller's transaction; the worker starts it once that commits."""
    if kind not in _RUNNERS:
        raise InvalidInput(f"unknown kind of job {kind!r}", field="kind", allowed=sorted(_RUNNERS))
    now = clock.now()
    job_id = (await session.execute(insert(JOBS).values(
        kind=kind, state=QUEUED, done=0, total=total, params=params, created_by=created_by[:300],
        created_by_user_id=created_by_user_id, created_at=now, updated_at=now).returning(JOBS.c.id))).scalar_one()
    await append_event(session, TOPIC, {"job_id": job_id})
    return int(job_id)


async def claim(session: AsyncSession, job_id: int) -> bool:
    """queued → running, once: False when another delivery of the event already took it."""
    now = clock.now()
    moved = await session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == QUEUED)
                                  .values(state=RUNNING, started_at=now, updated_at=now).returning(JOBS.c.id))
    return moved.first() is not None


async def finish(session: AsyncSession, job_id: int, *, state: str, result: dict[str, Any] | None,
                 error: str | None = None, done: int | None = None, total: int | None = None) -> bool:
    """running → succeeded | failed, once (conditional)."""
    now = clock.now()
    values: dict[str, Any] = {"state": state, "result": result, "error": error, "finished_at": now,
                              "updated_at": now}
    if done is not None:
        values["done"] = done
    if total is not None:
        values["total"] = total
    moved = await session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == RUNNING)
                                  .values(**values).returning(JOBS.c.id))
    return moved.first() is not None


def _view(row) -> JobView:
    done, total = row.done, row.total
    if row.state == RUNNING and row.id in _LIVE:
        live_done, live_total = _LIVE[row.id]
        done, total = max(done, live_done), live_total if live_total is not None else total
    return JobView(id=row.id, kind=row.kind, state=row.state, done=done, total=total, params=row.params or {},
                   result=row.result, error=row.error, created_by=row.created_by,
                   created_by_user_id=row.created_by_user_id, created_at=row.created_at,
                   started_at=row.started_at, finished_at=row.finished_at, updated_at=row.updated_at)


async def get_job(session: AsyncSession, job_id: int, *, user_id: int | None = None) -> JobView:
    """One job; with ``user_id``, only a job that user started (others are not found)."""
    stmt = select(JOBS).where(JOBS.c.id == job_id)
    if user_id is not None:
        stmt = stmt.where(JOBS.c.created_by_user_id == user_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(f"background job {job_id} not found", job_id=job_id)
    return _view(row)


async def list_jobs(session: AsyncSession, *, user_id: int | None = None, limit: int = 20) -> list[JobView]:
    stmt = select(JOBS).order_by(JOBS.c.id.desc()).limit(limit)
    if user_id is not None:
        stmt = stmt.where(JOBS.c.created_by_user_id == user_id)
    return [_view(r) for r in (await session.execute(stmt)).all()]


async def fail_stale(session: AsyncSession, *, now: datetime | None = None) -> list[int]:
    """Fail the running jobs nobody has reported on for ``STALE_AFTER`` (their worker died)."""
    now = now or clock.now()
    stmt = (update(JOBS).where(JOBS.c.state == RUNNING, JOBS.c.updated_at < now - STALE_AFTER)
            .values(state=FAILED, error="the worker running this job stopped; start it again", finished_at=now,
                    updated_at=now).returning(JOBS.c.id))
    if _LIVE:  # running here and now: alive, whatever the row says (SQLite writes no heartbeat)
        stmt = stmt.where(JOBS.c.id.not_in(list(_LIVE)))
    return [r.id for r in (await session.execute(stmt)).all()]


# --- the worker's side ---------------------------------------------------------------------------------------

@handles(TOPIC)
async def run_job_event(session: AsyncSession, event: Event) -> None:
    job_id = int(event.payload["job_id"])
    if await claim(session, job_id):
        event.after_commit(functools.partial(execute, event.context, job_id))


@every(60, "platform.background_jobs")
async def fail_stale_jobs(context: WorkerContext) -> None:
    async with unit_of_work(context.db) as session:
        failed = await fail_stale(session)
    if failed:
        log.warning("background jobs %s failed: their worker stopped", failed)
