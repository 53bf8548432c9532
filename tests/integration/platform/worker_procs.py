"""What worker processes run in the PostgreSQL worker tests (importable by a spawned child process)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from omniretail.platform.config import Settings
from omniretail.platform.db import create_database
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Registry
from omniretail.platform.worker import Worker

TOPIC = "test.probe"
PROBE_DDL = "CREATE TABLE worker_probe (event_id BIGINT NOT NULL, worker TEXT NOT NULL)"


def probe_registry(*, block_at: int | None = None, pause: float = 0.0) -> Registry:
    """A consumer that records (event id, worker) in worker_probe, in the event's own transaction.

    ``block_at``: the event whose payload n equals it never finishes (the process is then killed).
    """
    registry = Registry()

    @registry.handles(TOPIC)
    async def probe(session, event):
        if block_at is not None and event.payload["n"] == block_at:
            await asyncio.sleep(3600)
        await session.execute(text("INSERT INTO worker_probe (event_id, worker) VALUES (:e, :w)"),
                              {"e": event.id, "w": event.context.worker_id})
        if pause:
            await asyncio.sleep(pause)

    return registry


def make_worker(url: str, worker_id: str, registry: Registry, *, batch_size: int, lease_s: float,
                pool_size: int = 3) -> Worker:
    db = create_database(url, pool_size=pool_size)
    settings = Settings(database_url=url, secret_key="worker-test-secret", inprocess_worker=False)
    options = DispatchOptions(batch_size=batch_size, lease=timedelta(seconds=lease_s), max_attempts=5,
                              backoff_base=0.05, backoff_cap=0.2, poll_interval=0.05,
                              lease_margin=timedelta(seconds=0.2))
    return Worker(db, settings, registry=registry, options=options, run_scheduler=False, worker_id=worker_id)


def run_until_killed(url: str, block_at: int, lease_s: float, batch_size: int) -> None:
    """Child process: deliver until the consumer blocks on event ``block_at``; the parent kills us there."""

    async def main() -> None:
        worker = make_worker(url, "doomed", probe_registry(block_at=block_at), batch_size=batch_size,
                             lease_s=lease_s)
        await worker.dispatcher.run_once()

    asyncio.run(main())
