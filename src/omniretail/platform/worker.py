"""The worker: the outbox dispatcher and the scheduler of periodic jobs, in one asyncio process.

* ``omniretail worker`` runs it on its own; on PostgreSQL run as many as you like, on one machine or many:
  they share the outbox through row claims with leases (``platform/dispatcher.py``) and elect one scheduler
  through an advisory lock (``platform/scheduler.py``).
* In the embedded SQLite mode ``serve`` runs one worker inside the web process (``OMNIRETAIL_INPROCESS_WORKER``,
  on by default); a file lock beside the database keeps a second one (another ``serve`` or ``omniretail
  worker``) from starting on the same file.

Outbox events wake the dispatcher at once: PostgreSQL ``LISTEN``/``NOTIFY`` (a trigger on ``outbox``), or the
local commit hook on SQLite (``platform/outbox_wakeup.py``); ``worker_poll_s`` polling stays as the fallback.
``metrics_port`` serves this process's Prometheus metrics (sync lag, queue depth, errors …) on
``http://<host>:<port>/metrics`` (``omniretail worker --metrics-port``); the web process serves its own at
``/metrics``.

Packages register consumers with ``@handles("topic.prefix")`` and jobs with ``@every(seconds, "name")`` in
their ``tasks.py`` (the contract is in ``platform/jobs.py``); ``omniretail/handlers.py`` lists those modules.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from .config import Settings
from .db import Database
from .dispatcher import DispatchOptions, OutboxDispatcher
from .jobs import Event, Registry, Undeliverable, WorkerContext, every, handles, registry
from .outbox_wakeup import listen
from .scheduler import Scheduler

__all__ = ["Event", "Undeliverable", "Worker", "WorkerAlreadyRunning", "WorkerContext", "every", "handles",
           "new_worker_id", "registry"]

log = logging.getLogger("omniretail.worker")


class WorkerAlreadyRunning(RuntimeError):
    """SQLite mode runs one worker per database file, and one is already running."""


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def dispatch_options(settings: Settings) -> DispatchOptions:
    return DispatchOptions(
        batch_size=settings.worker_batch_size, lease=timedelta(seconds=settings.worker_lease_s),
        max_attempts=settings.worker_max_attempts, poll_interval=settings.worker_poll_s,
        lease_margin=timedelta(seconds=min(5.0, settings.worker_lease_s / 4)),
    )


class Worker:
    def __init__(self, db: Database, settings: Settings, *, registry: Registry = registry,
                 options: DispatchOptions | None = None, run_scheduler: bool = True,
                 worker_id: str | None = None, metrics_port: int | None = None,
                 metrics_host: str = "127.0.0.1", listen_for_events: bool = True) -> None:
        self.context = WorkerContext(db=db, settings=settings, worker_id=worker_id or new_worker_id())
        self.registry = registry
        self.dispatcher = OutboxDispatcher(self.context, registry, options or dispatch_options(settings))
        self.scheduler = Scheduler(self.context, registry) if run_scheduler else None
        self.metrics_port = metrics_port
        self.metrics_host = metrics_host
        self._metrics_server = None  # (http server, thread) of metrics_port
        self.listen_for_events = listen_for_events
        self.listening = asyncio.Event()  # set once the LISTEN (or the local hook) is in place
        self._stop = asyncio.Event()
        self.context.resources["worker.stop"] = self._stop  # loops started by consumers stop with the worker
        self._task: asyncio.Task | None = None
        self._lock_file: IO[str] | None = None

    @property
    def worker_id(self) -> str:
        return self.context.worker_id

    async def run(self) -> None:
        """Run until ``stop()``: the dispatcher and the scheduler side by side."""
        self._take_sqlite_lock()
        try:
            log.info("worker %s: %s consumer prefix(es) %s, %s periodic job(s), %s", self.worker_id,
                     len(self.registry.prefixes()), self.registry.prefixes(), len(self.registry.jobs),
                     "embedded SQLite (one worker)" if self.context.db.is_sqlite else "PostgreSQL")
            self._serve_metrics()
            loops = [self.dispatcher.run(self._stop)]
            if self.listen_for_events and self.registry.prefixes():
                loops.append(listen(self.context.db, self.dispatcher.wake, self._stop, ready=self.listening))
            if self.scheduler is not None:
                loops.append(self.scheduler.run(self._stop))
            await asyncio.gather(*loops)
        finally:
            self._stop_metrics()
            self._release_sqlite_lock()

    def stop(self) -> None:
        self._stop.set()

    def _stop_metrics(self) -> None:
        served = self._metrics_server
        if served is not None:
            served[0].shutdown()
            served[0].server_close()
            self._metrics_server = None

    def _serve_metrics(self) -> None:
        if self.metrics_port is None or self._metrics_server is not None:
            return
        from prometheus_client import start_http_server

        from . import metrics

        self._metrics_server = start_http_server(self.metrics_port, addr=self.metrics_host,
                                                 registry=metrics.REGISTRY)  # (server, thread)
        log.info("worker %s: metrics on http://%s:%s/metrics", self.worker_id, self.metrics_host,
                 self.metrics_port)

    def start(self) -> asyncio.Task:
        """Run in the background of the current event loop (the web process in SQLite mode)."""
        self._take_sqlite_lock()
        self._task = asyncio.create_task(self.run(), name=f"omniretail-worker-{self.worker_id}")
        self._task.add_done_callback(self._report_end)
        return self._task

    def _report_end(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("worker %s stopped by an error; outbox events wait for the next start",
                      self.worker_id, exc_info=task.exception())

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the event in hand (unstarted claims are given back); cancel if it takes too long."""
        self.stop()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            log.warning("worker %s cancelled after %.0fs; its claims return when their lease ends",
                        self.worker_id, timeout)

    # --- one worker per SQLite file ---------------------------------------------------------------

    def _take_sqlite_lock(self) -> None:
        if self._lock_file is not None or not self.context.db.is_sqlite:
            return
        path = make_url(self.context.db.url).database
        if not path or path == ":memory:":
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: rely on the documentation
            return
        handle = open(Path(f"{path}.worker.lock"), "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WorkerAlreadyRunning(
                f"a worker already runs on {path} (SQLite mode runs one: inside `serve`, or "
                f"`omniretail worker` with OMNIRETAIL_INPROCESS_WORKER=false)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.worker_id}\n")
        handle.flush()
        self._lock_file = handle

    def _release_sqlite_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing drops the flock
            self._lock_file = None


async def start_inprocess_worker(db: Database, settings: Settings, *,
                                 registry: Registry = registry) -> Worker | None:
    """For ``serve`` in SQLite mode: start a background worker unless one already runs on this file."""
    worker = Worker(db, settings, registry=registry)
    try:
        worker.start()
    except WorkerAlreadyRunning as exc:
        log.warning("in-process worker not started: %s", exc)
        return None
    return worker
