"""What worker processes run in the PostgreSQL batch-consumer tests (importable by a spawned child process)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from omniretail.platform.jobs import Registry
from tests.integration.platform.worker_procs import TOPIC, make_worker


def batch_probe_registry(*, block_at: int | None = None) -> Registry:
    """A batch consumer recording (event id, worker) per event in worker_probe, in the batch's transaction;
    ``block_at``: a batch holding the event whose payload n equals it never finishes."""
    registry = Registry()

    @registry.handles(TOPIC, batch=True)
    async def probe(session, events):
        await session.execute(text("INSERT INTO worker_probe (event_id, worker) VALUES (:e, :w)"),
                              [{"e": e.id, "w": e.context.worker_id} for e in events])
        if block_at is not None and any(e.payload["n"] == block_at for e in events):
            await asyncio.sleep(3600)

    return registry


def run_batches_until_killed(url: str, block_at: int, lease_s: float, batch_size: int) -> None:
    """Child process: deliver batches until one holds event ``block_at``; the parent kills us there."""

    async def main() -> None:
        worker = make_worker(url, "doomed", batch_probe_registry(block_at=block_at), batch_size=batch_size,
                             lease_s=lease_s)
        while await worker.dispatcher.run_once():
            pass

    asyncio.run(main())
